import { describe, expect, it } from 'vitest';

import type { WorkerSummary } from '../../core/schemas/api.ts';
import { fitWarning } from './fit.ts';

const worker = (over: Partial<WorkerSummary> = {}): WorkerSummary => ({
  id: 'w1',
  host: 'box',
  runtime: 'sandbox',
  status: 'online',
  last_seen_at: new Date().toISOString(),
  resources: { cpus: 2, memory_mb: 4096, gpus: 0 },
  labels: ['lab'],
  version: '0.1.0',
  ...over,
});
const task = (cpus: number, memory_mb: number, gpus = 0, labels: string[] = []) => ({
  resources: { cpus, memory_mb, gpus },
  labels,
});

describe('fitWarning', () => {
  it('is silent when an online worker fits', () => {
    expect(fitWarning(task(2, 4096, 0, ['lab']), [worker()])).toBeNull();
  });

  it('says when no worker is online', () => {
    expect(fitWarning(task(1, 512), [worker({ status: 'offline' })])).toMatch(
      /no worker is online/,
    );
  });

  it('names what the task asks and what the largest worker offers', () => {
    const msg = fitWarning(task(64, 1024 * 1024, 1), [
      worker(),
      worker({ id: 'w2', resources: { cpus: 8, memory_mb: 2048, gpus: 0 } }),
    ]);
    expect(msg).toContain('asks 64 cpus, 1.0 TiB, 1 gpus');
    expect(msg).toContain('largest offer 8 cpus, 4.0 GiB, 0 gpus');
  });

  it('counts labels', () => {
    expect(fitWarning(task(1, 512, 0, ['a100']), [worker()])).toMatch(/labels \[a100\]/);
  });
});
