import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  collectMetrics,
  describeMetrics,
  METRICS_MAX_BYTES,
  METRICS_MAX_LINE_BYTES,
  METRICS_MAX_LINES,
  METRICS_MAX_NAMES,
} from './metrics.ts';

let out: string;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'fetchml-metrics-'));
});
afterEach(() => rm(out, { recursive: true, force: true }));

const lines = (...rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('collectMetrics', () => {
  it('is empty without a metrics file', async () => {
    const m = await collectMetrics(out);
    expect(m).toEqual({ final: {}, lines: 0, badLines: 0, lastStep: null, warnings: [] });
    expect(describeMetrics(m)).toBe('metrics: none (write JSON lines to $FETCHML_METRICS)');
  });

  it('keeps the last value of each metric, and the last step', async () => {
    await writeFile(
      join(out, 'metrics.jsonl'),
      lines(
        { step: 1, loss: 0.9, accuracy: 0.5 },
        { step: 2, loss: 0.5 },
        { step: 3, 'val/loss': 0.7, time: 1700000000.5 },
      ) + '\n   \n',
    );
    const m = await collectMetrics(out);
    expect(m.final).toEqual({ accuracy: 0.5, loss: 0.5, 'val/loss': 0.7 });
    expect(Object.keys(m.final)).toEqual(['accuracy', 'loss', 'val/loss']);
    expect(m).toMatchObject({ lines: 3, badLines: 0, lastStep: 3, warnings: [] });
    expect(describeMetrics(m)).toBe(
      'metrics: 3 lines, 3 metrics (accuracy, loss, val/loss), last step 3',
    );
  });

  it('skips and reports bad lines by number, naming what is wrong, without failing', async () => {
    await writeFile(
      join(out, 'metrics.jsonl'),
      [
        '{"step": 1, "loss": 1}',
        'loss=0.5',
        '[1, 2]',
        '{"loss": "low"}',
        '{"step": -1, "loss": 0.1}',
        '{"bad name!": 1}',
        '{"step": 2, "loss": 0.25}',
        '{"time": "noon", "loss": 9}',
        '{"loss": null}',
        '{"step": 3, "acc": 1}',
      ].join('\n'),
    );
    const m = await collectMetrics(out);
    expect(m.final).toEqual({ acc: 1, loss: 0.25 });
    expect(m.badLines).toBe(7);
    expect(m.lines).toBe(10);
    expect(m.warnings).toEqual([
      'metrics.jsonl line 2: not valid JSON; skipped',
      'metrics.jsonl line 3: not a JSON object; skipped',
      'metrics.jsonl line 4: metric "loss": value must be a finite number (got "low"); skipped',
      'metrics.jsonl line 5: "step" must be an integer ≥ 0 (got -1); skipped',
      'metrics.jsonl line 6: metric name "bad name!": letters, digits, . _ - / only (max 128); skipped',
      'metrics.jsonl: 2 more bad lines skipped',
    ]);
    expect(describeMetrics(m)).toContain('7 bad lines skipped');
  });

  it('caps a line, the distinct names and the bytes read, saying so', async () => {
    const long = `{"loss": 1, "pad": "${'x'.repeat(METRICS_MAX_LINE_BYTES)}"}`;
    const many = Object.fromEntries(
      Array.from({ length: METRICS_MAX_NAMES + 5 }, (_, i) => [`m${i}`, i]),
    );
    await writeFile(
      join(out, 'metrics.jsonl'),
      `{"loss": 2}\n${long}\n${JSON.stringify(many)}\n{"loss": 3}\n`,
    );
    const m = await collectMetrics(out);
    expect(m.final['loss']).toBe(3);
    expect(Object.keys(m.final)).toHaveLength(METRICS_MAX_NAMES);
    expect(m.warnings).toContain(
      `metrics.jsonl line 2: longer than ${METRICS_MAX_LINE_BYTES} bytes; skipped`,
    );
    expect(m.warnings).toContain(
      `metrics.jsonl: more than ${METRICS_MAX_NAMES} distinct metrics; the later names were dropped`,
    );

    // Past the line cap, then past the byte cap: the rest is not read (a job that logs far too
    // much cannot stall the worker), and the warning says which cap and what to do.
    const short = '{"step": 1, "loss": 0.5}\n';
    await writeFile(
      join(out, 'metrics.jsonl'),
      Buffer.alloc(METRICS_MAX_LINES * short.length + short.length, short),
    );
    const byLines = await collectMetrics(out);
    expect(byLines.lines).toBe(METRICS_MAX_LINES);
    expect(byLines.warnings.at(-1)).toBe(
      'metrics.jsonl: more than 1000000 lines; only the first 1000000 were read (log less often)',
    );
    const row = `{"step": 1, "loss": 0.5, "pad": ${'1'.repeat(100)}}\n`;
    const big = Buffer.alloc(METRICS_MAX_BYTES + row.length * 10, row);
    await writeFile(join(out, 'metrics.jsonl'), Buffer.concat([big, Buffer.from('{"tail": 1}\n')]));
    const capped = await collectMetrics(out);
    expect(capped.final['tail']).toBeUndefined();
    expect(capped.final['loss']).toBe(0.5);
    expect(capped.warnings.at(-1)).toBe(
      'metrics.jsonl: larger than 64 MiB; only the first 64 MiB were read (log less often)',
    );
  }, 60_000);

  it('lets final_metrics.json (then metrics.json) state final values, key by key', async () => {
    await writeFile(join(out, 'metrics.jsonl'), lines({ loss: 0.5, acc: 0.7 }));
    await writeFile(join(out, 'metrics.json'), '{"acc": 0.8}');
    await writeFile(join(out, 'final_metrics.json'), '{"acc": 0.9, "f1": 0.4}');
    expect((await collectMetrics(out)).final).toEqual({ acc: 0.9, f1: 0.4, loss: 0.5 });
    await writeFile(join(out, 'final_metrics.json'), '{"f": true}');
    const m = await collectMetrics(out);
    expect(m.final).toEqual({ acc: 0.8, loss: 0.5 });
    expect(m.warnings).toEqual([
      'final_metrics.json: metric "f": value must be a finite number (got true); not read',
    ]);
  });

  it('never follows a symlink', async () => {
    await mkdir(join(out, 'x'));
    await writeFile(join(out, 'x', 'real.jsonl'), lines({ loss: 1 }));
    await symlink(join(out, 'x', 'real.jsonl'), join(out, 'metrics.jsonl'));
    expect((await collectMetrics(out)).final).toEqual({});
  });
});
