/**
 * @module runtime
 * Public surface of the job runtimes: the {@link Runtime} contract, the `podman` and `docker`
 * (container), `sandbox` (bubblewrap) and `process` implementations, and detection. The worker depends on this module only.
 */
export type {
  Availability,
  DatasetMount,
  EngineInfo,
  ImageInfo,
  Isolation,
  LimitEnforcement,
  LimitReport,
  RunEndReason,
  RunResources,
  RunResult,
  RunSpec,
  Runtime,
  RuntimeName,
  RuntimeOptions,
  RuntimePreference,
} from './types.ts';
export { DEFAULT_PATH } from './types.ts';
export { CONTAINER_PATHS } from './env.ts';
export { AUTO_ORDER, describeRuntime, describeRuntimes, detectRuntime } from './detect.ts';
export type { DetectOptions, RuntimeDescription } from './detect.ts';
export { SandboxRuntime } from './sandbox/sandbox-runtime.ts';
export type { SandboxOptions } from './sandbox/sandbox-runtime.ts';
export { PROCESS_RUNTIME_WARNING, ProcessRuntime } from './process/process-runtime.ts';
export type { ProcessOptions } from './process/process-runtime.ts';
export { PodmanRuntime, podmanAdvice, RUNC_CONTAINERS_CONF } from './podman/podman-runtime.ts';
export { DockerRuntime } from './docker/docker-runtime.ts';
export type { OciOptions } from './oci/oci-runtime.ts';
export { engineEnvFrom } from './oci/cli.ts';
export { makeWhich } from './which.ts';
export type { Which } from './which.ts';
