/**
 * @module runtime/env
 * The job environment, built the same way by every runtime: nothing from the host (secrets in the
 * worker's environment must never reach a job), the job's own `env`, then a fixed set that the
 * runtime owns (FETCHML_* and the GPU selection cannot be overridden by the spec).
 */
import type { RunSpec } from './types.ts';
import { DEFAULT_PATH } from './types.ts';

/** Where the job finds things; container paths for sandbox/containers, host paths for `process`. */
export interface JobPaths {
  src: string;
  output: string;
  data: string;
  home: string;
  tmp: string;
}

/** The paths the job sees inside a sandbox or container. */
export const CONTAINER_PATHS: JobPaths = {
  src: '/work/src',
  output: '/work/output',
  data: '/work/data',
  home: '/tmp',
  tmp: '/tmp',
};

/**
 * Builds the complete job environment.
 * Defaults (PATH, HOME, LANG, PYTHONUNBUFFERED) yield to the job env; FETCHML_* (TASK_ID, SRC,
 * OUTPUT, METRICS, DATA), PWD, TMPDIR and CUDA_VISIBLE_DEVICES (the assigned GPUs; empty hides
 * all) are always the runtime's.
 */
export function buildJobEnv(
  spec: RunSpec,
  paths: JobPaths,
  defaultPath: string = DEFAULT_PATH,
): Record<string, string> {
  const gpus = spec.resources.gpuIndices.join(',');
  return {
    PATH: defaultPath,
    HOME: paths.home,
    LANG: 'C.UTF-8',
    PYTHONUNBUFFERED: '1',
    ...spec.env,
    PWD: paths.src,
    TMPDIR: paths.tmp,
    FETCHML_TASK_ID: spec.taskId,
    FETCHML_SRC: paths.src,
    FETCHML_OUTPUT: paths.output,
    // Metrics as JSON lines (worker/metrics.ts); inside the output dir, so every runtime can write it.
    FETCHML_METRICS: `${paths.output}/metrics.jsonl`,
    FETCHML_DATA: paths.data,
    CUDA_VISIBLE_DEVICES: gpus,
    NVIDIA_VISIBLE_DEVICES: gpus === '' ? 'void' : gpus,
  };
}
