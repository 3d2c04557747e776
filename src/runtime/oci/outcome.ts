/**
 * @module runtime/oci/outcome
 * Turns what `podman run` / `docker run` reported into the {@link RunResult} every runtime
 * returns. The engine client's exit code mixes three sources, told apart here:
 *
 * - the engine itself: 125 (bad flag, OCI runtime error), 126/127 with an OCI runtime error;
 * - the container's init (`--init`: catatonit exits 1, tini 127) failing to exec the command —
 *   "command not found in the image", a `spawn_failed` like the other runtimes';
 * - the job: its own code, 128+n for a signal. Exit 137 with a memory limit set and no stop by us
 *   is the kernel OOM killer (podman's inspect `OOMKilled` is unreliable on cgroup v1 hosts).
 */
import { signalName } from '../result.ts';
import type { LimitReport, RunResult, RunSpec } from '../types.ts';
import type { Engine } from './args.ts';
import type { ContainerOutcome } from './run-container.ts';

/** Engine errors that mean "no such image". */
export const NO_IMAGE =
  /image not known|No such image|not found: manifest unknown|Unable to find image/i;
/** Errors of the container's init (catatonit, tini) when the command cannot be executed. */
const EXEC_FAILED = /failed to exec pid1|exec .* failed: |executable file not found/;

/** Whether the exit code is a failure to start rather than the job's own. */
function startFailure(code: number | null, stderrTail: string): 'exec' | 'engine' | null {
  if ((code === 1 || code === 126 || code === 127) && EXEC_FAILED.test(stderrTail)) return 'exec';
  if (code === 125) return 'engine';
  if ((code === 126 || code === 127) && /OCI runtime|^Error: /m.test(stderrTail)) return 'engine';
  return null;
}

/** Context of {@link containerResult}. */
export interface ResultContext {
  engine: Engine;
  spec: Pick<RunSpec, 'argv' | 'timeoutMs' | 'resources'>;
  image: string;
  killGraceMs: number;
  limits: LimitReport;
  warnings: string[];
}

/** The final result of one container run. */
export function containerResult(outcome: ContainerOutcome, c: ResultContext): RunResult {
  const base = { durationMs: outcome.durationMs, limits: c.limits, warnings: c.warnings };
  const code = outcome.code;
  const signal = code !== null && code > 128 && code <= 192 ? signalName(code - 128) : null;
  if (outcome.spawnError !== null) {
    return {
      ...base,
      exitCode: null,
      signal: null,
      reason: 'spawn_failed',
      message: `could not start ${c.engine}: ${outcome.spawnError.message}`,
    };
  }
  if (outcome.stoppedFor === 'timeout') {
    const message = `timed out after ${c.spec.timeoutMs} ms (SIGTERM, SIGKILL after ${c.killGraceMs} ms)`;
    return { ...base, exitCode: code, signal, reason: 'timeout', message };
  }
  if (outcome.stoppedFor === 'cancelled') {
    return { ...base, exitCode: code, signal, reason: 'cancelled', message: 'cancelled' };
  }
  const failure = startFailure(code, outcome.stderrTail);
  if (failure !== null) {
    const detail = outcome.stderrTail.trim().split('\n').at(-1) ?? '';
    return {
      ...base,
      exitCode: code,
      signal: null,
      reason: 'spawn_failed',
      message:
        failure === 'exec'
          ? `command not found in image ${c.image}: ${JSON.stringify(c.spec.argv[0])} (${detail})`
          : `${c.engine} could not start the container: ${detail}`,
    };
  }
  const memory = c.spec.resources.memory_mb;
  if (code === 137 && memory != null && memory > 0) {
    return {
      ...base,
      exitCode: code,
      signal,
      reason: 'oom',
      message: `killed (exit 137) with a ${memory} MiB memory limit: out of memory`,
    };
  }
  return { ...base, exitCode: code, signal, reason: 'exited' };
}
