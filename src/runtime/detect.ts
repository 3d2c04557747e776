/**
 * @module runtime/detect
 * Picks the runtime the worker uses, and describes it for `status` and `doctor`.
 *
 * `auto` takes the strongest isolation that works here: podman (a trial container starts) >
 * docker (an engine answers `docker info`) > sandbox (bwrap can create namespaces) > process. An
 * explicit runtime that cannot run fails with ML_ERR_RUNTIME_UNAVAILABLE (saying why and what to
 * do) rather than silently running something weaker; only `auto` may fall back to `process`, and
 * that runtime's warnings say so.
 */
import { FetchmlError } from '../core/errors.ts';
import { DockerRuntime } from './docker/docker-runtime.ts';
import type { OciOptions } from './oci/oci-runtime.ts';
import { PodmanRuntime } from './podman/podman-runtime.ts';
import { ProcessRuntime } from './process/process-runtime.ts';
import type { ProcessOptions } from './process/process-runtime.ts';
import { SandboxRuntime } from './sandbox/sandbox-runtime.ts';
import type { SandboxOptions } from './sandbox/sandbox-runtime.ts';
import type { EngineInfo, Isolation, Runtime, RuntimeName, RuntimePreference } from './types.ts';
import type { Which } from './which.ts';

/** Options of {@link detectRuntime}. */
export interface DetectOptions {
  /** How to find binaries (bwrap, podman, docker). @default makeWhich(options.sandbox?.path) */
  which?: Which;
  sandbox?: SandboxOptions;
  process?: ProcessOptions;
  podman?: OciOptions;
  docker?: OciOptions;
}

/** Runtimes in `auto` order, strongest isolation first. */
export const AUTO_ORDER: readonly RuntimeName[] = ['podman', 'docker', 'sandbox', 'process'];

function create(name: RuntimeName, options: DetectOptions): Runtime | null {
  if (name === 'podman') return new PodmanRuntime({ which: options.which, ...options.podman });
  if (name === 'docker') return new DockerRuntime({ which: options.which, ...options.docker });
  if (name === 'sandbox') return new SandboxRuntime({ which: options.which, ...options.sandbox });
  if (name === 'process') return new ProcessRuntime(options.process);
  return null;
}

/**
 * Returns a ready runtime for `preference`.
 * @throws FetchmlError `ML_ERR_RUNTIME_UNAVAILABLE` when an explicitly requested runtime cannot run.
 * @example
 * const rt = await detectRuntime('auto');
 * const result = await rt.run(spec);
 */
export async function detectRuntime(
  preference: RuntimePreference,
  options: DetectOptions = {},
): Promise<Runtime> {
  if (preference !== 'auto') {
    const runtime = create(preference, options);
    if (runtime === null) {
      throw new FetchmlError(
        'ML_ERR_RUNTIME_UNAVAILABLE',
        `runtime '${preference}' is not supported by this version of fetchml yet; use 'sandbox' (bubblewrap) or 'process', or 'auto'`,
        { details: { runtime: preference } },
      );
    }
    const avail = await runtime.available();
    if (!avail.ok) {
      throw new FetchmlError(
        'ML_ERR_RUNTIME_UNAVAILABLE',
        `runtime '${preference}' is not available: ${avail.reason}`,
        { details: { runtime: preference, reason: avail.reason } },
      );
    }
    return runtime;
  }
  for (const name of AUTO_ORDER) {
    const runtime = create(name, options);
    if (runtime === null) continue;
    if ((await runtime.available()).ok) return runtime;
  }
  // Unreachable: `process` is always available.
  throw new FetchmlError('ML_ERR_RUNTIME_UNAVAILABLE', 'no job runtime is available');
}

/** One runtime's status line for `status` / `doctor`. */
export interface RuntimeDescription {
  name: RuntimeName;
  isolation: Isolation;
  version: string;
  available: boolean;
  reason?: string;
  /** Container runtimes that work: rootless or not, cgroup version, whether limits are enforced. */
  engine?: EngineInfo;
  warnings: string[];
}

/** Describes a runtime: name, isolation, version, availability and warnings. */
export async function describeRuntime(runtime: Runtime): Promise<RuntimeDescription> {
  const avail = await runtime.available();
  return {
    name: runtime.name,
    isolation: runtime.isolation,
    version: avail.ok ? await runtime.version() : 'unavailable',
    available: avail.ok,
    ...(avail.reason === undefined ? {} : { reason: avail.reason }),
    ...(avail.engine === undefined ? {} : { engine: avail.engine }),
    warnings: [...runtime.warnings],
  };
}

/**
 * Describes every runtime `auto` considers, in order (for `fetchml doctor`): which would be
 * picked, and why the stronger ones were not.
 */
export async function describeRuntimes(options: DetectOptions = {}): Promise<RuntimeDescription[]> {
  const out: RuntimeDescription[] = [];
  for (const name of AUTO_ORDER) {
    const runtime = create(name, options);
    if (runtime === null) {
      out.push({
        name,
        isolation: 'container',
        version: 'unavailable',
        available: false,
        reason: 'not implemented in this version of fetchml',
        warnings: [],
      });
    } else out.push(await describeRuntime(runtime));
  }
  return out;
}
