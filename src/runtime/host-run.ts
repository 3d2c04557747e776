/**
 * @module runtime/host-run
 * The run step the `sandbox` and `process` runtimes share once the command line, environment and
 * staging are ready: plan the limits, answer "command not found" without starting anything,
 * {@link supervise} the process (keeping the stderr tail for OOM detection), turn the outcome into
 * a RunResult, and release the limits. The two differ only in argv/cwd and in how bwrap reports a
 * job's signal.
 */
import { planLimits } from './limits.ts';
import { commandNotFound, OutputTail, toRunResult } from './result.ts';
import { supervise } from './supervise.ts';
import type { RunResult, RunSpec, RuntimeOptions } from './types.ts';
import { DEFAULT_PATH } from './types.ts';

/** Inputs of {@link runOnHost}. */
export interface HostRunArgs {
  spec: RunSpec;
  /** The full command line before the limit wrappers: the job's argv, or bwrap's then the job's. */
  argv: string[];
  cwd: string;
  /** The job's environment; its PATH is the one `spec.argv[0]` was looked up in. */
  env: Record<string, string>;
  /** Whether `spec.argv[0]` was found on that PATH; when not, nothing is started. */
  commandFound: boolean;
  options: RuntimeOptions;
  /** Warnings so far; the limits' warnings are appended. It becomes `RunResult.warnings`. */
  warnings: string[];
  /** See `SuperviseArgs.termLeader` (`false` for bwrap). */
  termLeader: boolean;
  /** See `ToResultArgs.codeEncodesSignal` (`true` for bwrap). */
  codeEncodesSignal: boolean;
}

/** Runs the job under its limits to completion. Never rejects for job failures. */
export async function runOnHost(a: HostRunArgs): Promise<RunResult> {
  const { spec, warnings } = a;
  const killGraceMs = a.options.killGraceMs ?? 5000;
  const limits = await planLimits(spec.taskId, spec.resources, {
    cgroups: a.options.cgroups,
    cgroupRoot: a.options.cgroupRoot,
  });
  warnings.push(...limits.warnings);
  try {
    if (!a.commandFound) {
      const pathVar = a.env['PATH'] ?? DEFAULT_PATH;
      return commandNotFound(spec.argv[0] as string, pathVar, limits.report, warnings);
    }
    const stderrTail = new OutputTail();
    const outcome = await supervise({
      argv: limits.wrap(a.argv),
      cwd: a.cwd,
      env: a.env,
      spec: {
        timeoutMs: spec.timeoutMs,
        signal: spec.signal,
        onOutput: (stream, chunk) => {
          if (stream === 'stderr') stderrTail.push(chunk);
          spec.onOutput(stream, chunk);
        },
      },
      killGraceMs,
      limits,
      termLeader: a.termLeader,
    });
    return await toRunResult({
      outcome,
      limits,
      codeEncodesSignal: a.codeEncodesSignal,
      stderrTail,
      killGraceMs,
      timeoutMs: spec.timeoutMs,
      warnings,
    });
  } finally {
    warnings.push(...(await limits.dispose()));
  }
}
