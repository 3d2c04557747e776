/** Runtime detection and description: `auto` order, explicit requests, clear unavailability. */
import { describe, expect, it } from 'vitest';

import { ERROR_CATALOGUE, isFetchmlError } from '../core/errors.ts';
import { describeRuntime, describeRuntimes, detectRuntime } from './detect.ts';
import { PROCESS_RUNTIME_WARNING } from './process/process-runtime.ts';
import type { Which } from './which.ts';

const noBwrap = process.env['FETCHML_TEST_NO_BWRAP'] === '1';
const nothing: Which = () => Promise.resolve(null);

describe('detectRuntime', () => {
  it.skipIf(noBwrap)(
    'auto picks the sandbox when bwrap works (podman/docker not implemented)',
    async () => {
      const rt = await detectRuntime('auto');
      expect(rt.name).toBe('sandbox');
      expect(rt.isolation).toBe('sandbox');
    },
  );

  it('auto falls back to process, which warns that it has no isolation', async () => {
    const rt = await detectRuntime('auto', { which: nothing });
    expect(rt.name).toBe('process');
    expect(rt.isolation).toBe('none');
    expect(rt.warnings).toEqual([PROCESS_RUNTIME_WARNING]);
  });

  it.each(['podman', 'docker'] as const)(
    'explicit %s is unavailable with a clear message',
    async (name) => {
      const err: unknown = await detectRuntime(name).catch((e: unknown) => e);
      expect(isFetchmlError(err, 'ML_ERR_RUNTIME_UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toContain(`'${name}' is not supported`);
      expect(ERROR_CATALOGUE.ML_ERR_RUNTIME_UNAVAILABLE.status).toBe(503);
    },
  );

  it('explicit sandbox without bwrap fails instead of falling back', async () => {
    const err: unknown = await detectRuntime('sandbox', { which: nothing }).catch(
      (e: unknown) => e,
    );
    expect(isFetchmlError(err, 'ML_ERR_RUNTIME_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('bubblewrap');
  });

  it('explicit process is always available', async () => {
    expect((await detectRuntime('process')).name).toBe('process');
  });
});

describe('describeRuntime(s)', () => {
  it('describes one runtime', async () => {
    const d = await describeRuntime(await detectRuntime('process'));
    expect(d).toMatchObject({ name: 'process', isolation: 'none', available: true });
    expect(d.version).toMatch(/^node v\d+/);
    expect(d.warnings).toEqual([PROCESS_RUNTIME_WARNING]);
  });

  it('lists every runtime auto considers, in order, with reasons', async () => {
    const all = await describeRuntimes({ which: nothing });
    expect(all.map((d) => d.name)).toEqual(['podman', 'docker', 'sandbox', 'process']);
    expect(all[0]?.available).toBe(false);
    expect(all[0]?.reason).toContain('not implemented');
    expect(all[2]?.available).toBe(false);
    expect(all[2]?.reason).toContain('bubblewrap');
    expect(all[3]).toMatchObject({ available: true });
  });
});
