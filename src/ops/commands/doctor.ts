/**
 * @module ops/commands/doctor
 * `fetchml doctor`: explains the host to an operator before a worker runs there — which job
 * runtimes work (podman > docker > sandbox > process, the `auto` order), which one the worker
 * would use, and for each that does not work, why and what to do (the advice comes from the
 * runtimes' own probes, e.g. podman failing on rlimits → the runc containers.conf); for a working
 * container engine, whether it runs rootless and whether it enforces memory/cpu/pids limits
 * (rootless on cgroup v1 does not: said loudly, with what to do); plus the GPUs nvidia-smi reports. Exits 1 when the configured runtime cannot run, so scripts can gate on it.
 */
import type { Command } from 'commander';

import { ExitError } from '../../core/errors.ts';
import { formatTable, writeJson } from '../../cli/shared/output.ts';
import { examples } from '../../cli/shared/program.ts';
import { describeRuntimes, engineEnvFrom } from '../../runtime/index.ts';
import type { EngineInfo, RuntimeDescription } from '../../runtime/index.ts';
import { detectGpus } from '../../scheduler/gpus.ts';
import type { GpuInventory } from '../../scheduler/gpus.ts';
import type { OpsContext } from '../context.ts';

/** The `doctor --json` document. */
export interface DoctorReport {
  configured: string;
  /** The runtime a worker would use now, or null when the configured one cannot run. */
  selected: string | null;
  runtimes: RuntimeDescription[];
  gpus: GpuInventory & { setting: unknown };
  containers_conf: string | null;
}

/** Builds the report (injectable `env` for tests). */
export async function doctorReport(
  configured: string,
  gpuSetting: 'auto' | 'none' | number[],
  env: Record<string, string | undefined>,
): Promise<DoctorReport> {
  const [runtimes, gpus] = await Promise.all([
    describeRuntimes({
      podman: { engineEnv: engineEnvFrom(env) },
      docker: { engineEnv: engineEnvFrom(env) },
    }),
    detectGpus(gpuSetting, { path: env['PATH'] }),
  ]);
  const usable = runtimes.filter((r) => r.available);
  const selected =
    configured === 'auto'
      ? (usable[0]?.name ?? null)
      : (usable.find((r) => r.name === configured)?.name ?? null);
  return {
    configured,
    selected,
    runtimes,
    gpus: { setting: gpuSetting, ...gpus },
    containers_conf: env['CONTAINERS_CONF'] ?? null,
  };
}

/** Rootless or not, cgroups, and whether limits hold. */
export function engineLine(e: EngineInfo): string {
  const mode = e.rootless ? 'rootless (user namespace)' : 'rootful';
  return `${mode}, cgroup ${e.cgroups}: memory/cpu/pids limits ${e.limitsEnforced ? 'enforced' : 'NOT enforced'}`;
}

function render(r: DoctorReport): string {
  const rows = r.runtimes.map((d) => [
    d.name === r.selected ? `${d.name} *` : d.name,
    d.available ? 'works' : 'no',
    d.isolation,
    d.available ? (d.version.split('\n')[0] ?? '') : '',
  ]);
  const lines = [formatTable(['RUNTIME', 'STATUS', 'ISOLATION', 'VERSION'], rows).trimEnd()];
  lines.push(
    r.selected
      ? `runtime ${r.configured} → ${r.selected} (* = what a worker uses)`
      : `runtime ${r.configured}: NOT AVAILABLE on this host`,
  );
  for (const d of r.runtimes) {
    if (!d.available) lines.push('', `${d.name}: ${d.reason ?? 'unavailable'}`);
    if (d.available && d.engine) lines.push(`${d.name}: ${engineLine(d.engine)}`);
    for (const w of d.warnings) if (d.available) lines.push(`${d.name}: warning: ${w}`);
  }
  lines.push('', `CONTAINERS_CONF: ${r.containers_conf ?? '(not set)'}`);
  const g = r.gpus;
  if (g.source === 'config') lines.push(`GPUs: ${g.indices.join(', ')} (from config worker.gpus)`);
  else if (g.source === 'none') lines.push('GPUs: none (worker.gpus: none)');
  else if (g.gpus.length > 0) {
    lines.push(`GPUs (nvidia-smi): ${g.gpus.length}`);
    for (const gpu of g.gpus) {
      lines.push(`  ${gpu.index}: ${gpu.name}, ${gpu.memoryMb} MiB, ${gpu.uuid}`);
    }
  } else {
    lines.push(
      `GPUs: none (${g.problem ?? 'nvidia-smi reports none'}; CUDA jobs need the NVIDIA driver, and for podman the NVIDIA Container Toolkit's CDI spec: docs/runtimes.md)`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Registers `fetchml doctor`. */
export function registerDoctorCommand(program: Command, ctx: OpsContext): void {
  program
    .command('doctor')
    .description('explain this host: which job runtimes work, why the others do not, and GPUs')
    .addHelpText(
      'after',
      examples(
        'fetchml doctor',
        'CONTAINERS_CONF=/etc/containers/fetchml.conf fetchml doctor --json',
      ),
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const { config, warnings } = ctx.loadConfig(cmd);
      ctx.warn(warnings);
      const report = await doctorReport(config.worker.runtime, config.worker.gpus, ctx.io.env);
      if (ctx.globals(cmd).json) writeJson(ctx.io.stdout, report);
      else ctx.io.stdout.write(render(report));
      if (report.selected === null) {
        throw new ExitError(1, `runtime ${config.worker.runtime} is not available on this host`);
      }
    });
}
