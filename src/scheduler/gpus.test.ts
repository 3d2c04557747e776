/** GPU inventory with a fake `nvidia-smi` on PATH (no GPU on CI machines). */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { detectGpus, parseNvidiaSmi } from './gpus.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetchml-gpus-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Puts a fake nvidia-smi in `dir` that prints `out` (and checks its arguments). */
async function fakeSmi(script: string): Promise<string> {
  const path = join(dir, 'nvidia-smi');
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
  return `${dir}:/usr/bin:/bin`;
}

const TWO_GPUS =
  '0, NVIDIA A100-SXM4-80GB, 81920, GPU-aaaa\n1, NVIDIA A100-SXM4-80GB, 81920, GPU-bbbb\n';

describe('detectGpus', () => {
  it('auto: reads the inventory from nvidia-smi', async () => {
    const path = await fakeSmi(
      `[ "$1" = "--query-gpu=index,name,memory.total,uuid" ] || exit 9\nprintf '${TWO_GPUS}'`,
    );
    const inv = await detectGpus('auto', { path });
    expect(inv.source).toBe('nvidia-smi');
    expect(inv.indices).toEqual([0, 1]);
    expect(inv.gpus[1]).toEqual({
      index: 1,
      name: 'NVIDIA A100-SXM4-80GB',
      memoryMb: 81920,
      uuid: 'GPU-bbbb',
    });
    expect(inv.problem).toBeUndefined();
  });

  it('auto: no nvidia-smi means no GPU, with the reason', async () => {
    const inv = await detectGpus('auto', { path: dir });
    expect(inv).toMatchObject({ indices: [], problem: 'nvidia-smi not found' });
  });

  it('auto: a failing nvidia-smi means no GPU, with its error', async () => {
    const path = await fakeSmi(
      "echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver' >&2; exit 9",
    );
    const inv = await detectGpus('auto', { path });
    expect(inv.indices).toEqual([]);
    expect(inv.problem).toContain('could not communicate');
  });

  it('a config list overrides detection; none offers nothing', async () => {
    expect(await detectGpus([3, 1, 3])).toMatchObject({ source: 'config', indices: [1, 3] });
    expect(await detectGpus('none')).toMatchObject({ source: 'none', indices: [] });
  });
});

describe('parseNvidiaSmi', () => {
  // Captured from a real NVIDIA H200 machine (driver 580.159.03) with fetchml's exact arguments,
  // with and without `nounits`.
  it('parses real nvidia-smi output', () => {
    const h200 = {
      index: 0,
      name: 'NVIDIA H200',
      memoryMb: 143771,
      uuid: 'GPU-1e3e479b-2fb6-788c-0f17-40074969ed3a',
    };
    expect(
      parseNvidiaSmi('0, NVIDIA H200, 143771, GPU-1e3e479b-2fb6-788c-0f17-40074969ed3a\n'),
    ).toEqual([h200]);
    expect(
      parseNvidiaSmi('0, NVIDIA H200, 143771 MiB, GPU-1e3e479b-2fb6-788c-0f17-40074969ed3a\n'),
    ).toEqual([h200]);
  });

  it('accepts units and names with commas; rejects garbage', () => {
    expect(parseNvidiaSmi('2, Tesla T4, 15360 MiB, GPU-x\n')[0]).toMatchObject({
      index: 2,
      memoryMb: 15360,
    });
    expect(parseNvidiaSmi('0, Weird, Name, 100, GPU-y')[0]?.name).toBe('Weird, Name');
    expect(() => parseNvidiaSmi('No devices were found')).toThrow(/unexpected/);
  });
});
