/**
 * @module runtime/result
 * Turns a supervised process outcome into the {@link RunResult} every runtime returns, so the
 * reason precedence (cancel/timeout > spawn failure > OOM > exit) and the OOM heuristics live in
 * one place.
 */
import { constants } from 'node:os';

import type { LimitPlan } from './limits.ts';
import type { SuperviseOutcome } from './supervise.ts';
import type { RunResult } from './types.ts';

/** Output patterns of an allocation failure under an address-space rlimit. */
const ALLOC_FAILURE =
  /MemoryError|Cannot allocate memory|std::bad_alloc|out of memory|failed to allocate/i;

/** Keeps the last `limit` bytes of a stream (for OOM heuristics), cheaply. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly limit: number;
  constructor(limit = 8192) {
    this.limit = limit;
  }
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.size -= (this.chunks.shift() as Buffer).length;
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** `SIGKILL` for 9, or null. */
export function signalName(n: number): string | null {
  for (const [name, num] of Object.entries(constants.signals)) if (num === n) return name;
  return null;
}

/** Inputs of {@link toRunResult}. */
export interface ToResultArgs {
  outcome: SuperviseOutcome;
  limits: LimitPlan;
  /** Exit codes 128+n mean "killed by signal n" (bwrap, containers). */
  codeEncodesSignal: boolean;
  stderrTail: OutputTail;
  killGraceMs: number;
  timeoutMs: number | null;
  warnings: string[];
}

/** Builds the final result (reads the OOM counter, so call it before `limits.dispose()`). */
export async function toRunResult(a: ToResultArgs): Promise<RunResult> {
  const { outcome, limits } = a;
  let { code } = outcome;
  let signal: string | null = outcome.signal;
  if (a.codeEncodesSignal && code !== null && code > 128 && code <= 128 + 64) {
    signal = signalName(code - 128);
  }
  const base = {
    durationMs: outcome.durationMs,
    limits: limits.report,
    warnings: a.warnings,
  };
  if (outcome.spawnError !== null) {
    return {
      ...base,
      exitCode: null,
      signal: null,
      reason: 'spawn_failed',
      message: `could not start the job: ${outcome.spawnError.message}`,
    };
  }
  if (outcome.stoppedFor === 'timeout') {
    return {
      ...base,
      exitCode: code,
      signal,
      reason: 'timeout',
      message: `timed out after ${a.timeoutMs} ms (SIGTERM, SIGKILL after ${a.killGraceMs} ms)`,
    };
  }
  if (outcome.stoppedFor === 'cancelled') {
    return { ...base, exitCode: code, signal, reason: 'cancelled', message: 'cancelled' };
  }
  if (await limits.oomKilled()) {
    return {
      ...base,
      exitCode: code,
      signal,
      reason: 'oom',
      message: 'killed by the kernel OOM killer: memory limit reached',
    };
  }
  if (limits.report.memory === 'rlimit' && code !== 0 && ALLOC_FAILURE.test(a.stderrTail.text())) {
    return {
      ...base,
      exitCode: code,
      signal,
      reason: 'oom',
      message: 'memory limit reached (allocation failed under the address-space rlimit)',
    };
  }
  code = code ?? null;
  return { ...base, exitCode: code, signal, reason: 'exited' };
}

/** The result for a command that does not exist, without starting anything. */
export function commandNotFound(
  command: string,
  pathVar: string,
  limits: RunResult['limits'],
  warnings: string[],
): RunResult {
  return {
    exitCode: null,
    signal: null,
    reason: 'spawn_failed',
    durationMs: 0,
    message: `command not found: ${JSON.stringify(command)} (PATH=${pathVar})`,
    limits,
    warnings,
  };
}
