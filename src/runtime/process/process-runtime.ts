/**
 * @module runtime/process/process-runtime
 * The `process` runtime: a plain child process in the staged snapshot dir, with a cleared
 * environment, the same limits machinery and the same stop/cleanup semantics as the sandbox — but
 * NO isolation: the job sees the host filesystem and network with the worker's privileges. It
 * exists for hosts where neither containers nor bubblewrap work; {@link ProcessRuntime.warnings}
 * says so, and the worker records it in the manifest and status.
 *
 * The job gets a private per-run directory for $HOME and $TMPDIR, and `$FETCHML_DATA/<name>`
 * symlinks to the datasets, so the job-facing contract matches the sandbox's. Datasets and the
 * snapshot are not write-protected here.
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildJobEnv } from '../env.ts';
import { runOnHost } from '../host-run.ts';
import { resolveCommand } from '../resolve-command.ts';
import { checkStagedDirs, validateRunSpec } from '../validate.ts';
import type { Availability, RunResult, RunSpec, Runtime, RuntimeOptions } from '../types.ts';
import { DEFAULT_PATH } from '../types.ts';

/** Options of the process runtime. */
export interface ProcessOptions extends RuntimeOptions {
  /** Parent of the per-run scratch dirs. @default os.tmpdir() */
  scratchRoot?: string;
}

/** The static warning every process-runtime run carries. */
export const PROCESS_RUNTIME_WARNING =
  "process runtime: no isolation (no sandbox, network and filesystem are the host's)";

/** Runs jobs as plain host processes. */
export class ProcessRuntime implements Runtime {
  readonly name = 'process' as const;
  readonly isolation = 'none' as const;
  readonly warnings: readonly string[] = [PROCESS_RUNTIME_WARNING];
  private readonly options: ProcessOptions;

  constructor(options: ProcessOptions = {}) {
    this.options = options;
  }

  /** Always available: it needs nothing but Node. */
  available(): Promise<Availability> {
    return Promise.resolve({ ok: true });
  }

  version(): Promise<string> {
    return Promise.resolve(`node ${process.version}`);
  }

  async run(spec: RunSpec): Promise<RunResult> {
    validateRunSpec(spec);
    await checkStagedDirs(spec);
    const warnings: string[] = [];
    if (spec.image) warnings.push(`image ${spec.image} ignored: the process runtime has no images`);
    if (spec.network === 'none') {
      warnings.push("network 'none' not enforced: the process runtime uses the host network");
    }
    if (spec.resources.gpuIndices.length > 0) {
      warnings.push('GPUs selected by CUDA_VISIBLE_DEVICES only; other GPUs are not hidden');
    }

    const scratch = await mkdtemp(join(this.options.scratchRoot ?? tmpdir(), 'fetchml-run-'));
    try {
      const paths = {
        src: spec.workDir,
        output: spec.outputDir,
        data: join(scratch, 'data'),
        home: join(scratch, 'home'),
        tmp: join(scratch, 'tmp'),
      };
      await Promise.all([mkdir(paths.data), mkdir(paths.home), mkdir(paths.tmp)]);
      for (const d of spec.datasets) await symlink(d.hostPath, join(paths.data, d.name));
      const env = buildJobEnv(spec, paths, this.options.path ?? DEFAULT_PATH);
      const pathVar = env['PATH'] ?? DEFAULT_PATH;
      const resolved = await resolveCommand(spec.argv[0] as string, pathVar, spec.workDir);
      return await runOnHost({
        spec,
        argv: spec.argv,
        cwd: spec.workDir,
        env,
        commandFound: resolved !== null,
        options: this.options,
        warnings,
        termLeader: true,
        codeEncodesSignal: false,
      });
    } finally {
      await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
