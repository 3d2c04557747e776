/**
 * @module worker/verdict
 * From a runtime's {@link RunResult} to the task's final status, exit code, error and the log line
 * that says so. One table, so the store, the manifest and the log always agree.
 *
 * Exit codes: when no exit code was observed but the job was killed by a signal, the recorded
 * exit code is 128 + the signal number (as shells and containers report it); a job that could not
 * be started records 127 (as a shell does for "command not found"). A task that failed before its
 * job was started (staging) records no exit code.
 */
import { constants } from 'node:os';

import type { RunResult } from '../runtime/types.ts';
import type { FinalState } from './finish.ts';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function signalExit(signal: string | null): number | null {
  const n = signal === null ? undefined : (constants.signals as Record<string, number>)[signal];
  return n === undefined ? null : 128 + n;
}

/** Maps a runtime result to the final status, exit code and error; and its log line. */
export function judge(
  result: RunResult,
  timeoutS: number | null,
): Omit<FinalState, 'endedAt' | 'artifacts' | 'metrics'> & { line: string } {
  const exit = result.exitCode ?? signalExit(result.signal);
  const after = seconds(result.durationMs);
  const by = result.signal ? ` (${result.signal})` : '';
  switch (result.reason) {
    case 'exited':
      if (exit === 0) {
        return {
          status: 'completed',
          exitCode: 0,
          error: null,
          line: `exit code 0 after ${after}`,
        };
      }
      return {
        status: 'failed',
        exitCode: exit,
        error: { code: 'ML_ERR_TASK_EXIT', message: `exited with code ${exit}${by}` },
        line: `exit code ${exit}${by} after ${after}`,
      };
    case 'timeout':
      return {
        status: 'failed',
        exitCode: exit,
        error: { code: 'ML_ERR_TASK_TIMEOUT', message: `timed out after ${timeoutS ?? '?'} s` },
        line: `timed out after ${after} (limit ${timeoutS ?? '?'} s); exit code ${exit}${by}`,
      };
    case 'oom':
      return {
        status: 'failed',
        exitCode: exit,
        error: { code: 'ML_ERR_TASK_OOM', message: result.message ?? 'ran out of memory' },
        line: `out of memory after ${after}; exit code ${exit}${by}`,
      };
    case 'cancelled':
      return {
        status: 'cancelled',
        exitCode: exit,
        error: { code: 'ML_ERR_TASK_CANCELLED', message: 'cancelled by request' },
        line: `cancelled after ${after}; exit code ${exit}${by}`,
      };
    case 'spawn_failed':
      return {
        status: 'failed',
        exitCode: 127,
        error: { code: 'ML_ERR_TASK_SPAWN_FAILED', message: result.message ?? 'could not start' },
        line: `${result.message ?? 'could not start the job'} (exit code 127)`,
      };
  }
}
