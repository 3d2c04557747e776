/**
 * @module scheduler/gpus
 * The worker's GPU inventory: what it offers to the queue and which indices the claim loop hands
 * out (worker/slots.ts assigns the first free indices of this list to each claim; the runtime
 * exposes only those). Sources, in the order of `worker.gpus`:
 *
 * - a list of indices in the config: exactly those (no probe; for hosts where nvidia-smi lies or
 *   GPUs are reserved for something else);
 * - `none`: no GPU;
 * - `auto`: `nvidia-smi --query-gpu=index,name,memory.total,uuid --format=csv,noheader,nounits`.
 *   No nvidia-smi means no GPU; an nvidia-smi that fails is reported (doctor shows it) and also
 *   means no GPU, so a broken driver never makes a worker claim GPU jobs it cannot run.
 */
import { execFile } from 'node:child_process';

import { makeWhich } from '../runtime/which.ts';
import type { Which } from '../runtime/which.ts';

/** One GPU as nvidia-smi reports it. */
export interface GpuInfo {
  index: number;
  name: string;
  /** Total memory in MiB (0 when unknown). */
  memoryMb: number;
  uuid: string;
}

/** The result of {@link detectGpus}. */
export interface GpuInventory {
  source: 'config' | 'none' | 'nvidia-smi';
  /** The indices offered, ascending. */
  indices: number[];
  /** Details when nvidia-smi answered. */
  gpus: GpuInfo[];
  /** Why nvidia-smi gave nothing (missing, failed, unparsable); absent when it answered. */
  problem?: string;
}

/** Options of {@link detectGpus}. */
export interface DetectGpusOptions {
  /** How to find nvidia-smi. @default makeWhich(path) */
  which?: Which;
  /** PATH to search (the worker's PATH, so a fake nvidia-smi can stand in during tests). */
  path?: string;
  /** @default 10000 */
  timeoutMs?: number;
}

/** The arguments fetchml passes to nvidia-smi. */
export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,name,memory.total,uuid',
  '--format=csv,noheader,nounits',
];

/**
 * Parses `index, name, memory.total, uuid` lines (with or without units).
 * @throws Error naming the first line it cannot read.
 */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of csv.split('\n')) {
    if (line.trim() === '') continue;
    const parts = line.split(',').map((p) => p.trim());
    const index = Number(parts[0]);
    if (parts.length < 4 || !Number.isInteger(index) || index < 0) {
      throw new Error(`unexpected nvidia-smi line: ${JSON.stringify(line)}`);
    }
    const memory = Number.parseInt(parts[parts.length - 2] as string, 10);
    gpus.push({
      index,
      name: parts.slice(1, -2).join(', '),
      memoryMb: Number.isFinite(memory) ? memory : 0,
      uuid: parts[parts.length - 1] as string,
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}

function run(file: string, args: string[], timeoutMs: number) {
  return new Promise<{ ok: boolean; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ ok: err === null, stdout, stderr: stderr || (err?.message ?? '') });
    });
  });
}

/** The GPUs this worker offers for `setting` (config `worker.gpus`). Never throws. */
export async function detectGpus(
  setting: 'auto' | 'none' | readonly number[],
  options: DetectGpusOptions = {},
): Promise<GpuInventory> {
  if (setting === 'none') return { source: 'none', indices: [], gpus: [] };
  if (setting !== 'auto') {
    const indices = [...new Set<number>(setting)].sort((a, b) => a - b);
    return { source: 'config', indices, gpus: [] };
  }
  const which = options.which ?? makeWhich(options.path);
  const smi = await which('nvidia-smi');
  if (smi === null) {
    return { source: 'nvidia-smi', indices: [], gpus: [], problem: 'nvidia-smi not found' };
  }
  const r = await run(smi, NVIDIA_SMI_ARGS, options.timeoutMs ?? 10_000);
  if (!r.ok) {
    const why = r.stderr.trim().split('\n')[0] ?? '';
    return { source: 'nvidia-smi', indices: [], gpus: [], problem: `nvidia-smi failed: ${why}` };
  }
  try {
    const gpus = parseNvidiaSmi(r.stdout);
    return { source: 'nvidia-smi', indices: gpus.map((g) => g.index), gpus };
  } catch (err) {
    return { source: 'nvidia-smi', indices: [], gpus: [], problem: (err as Error).message };
  }
}
