import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { watchFile } from './file-watch.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetchml-watch-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function until(pred: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
  return pred();
}

describe('file watch', () => {
  it('is dirty until read, then sees an atomic replace by another writer', async () => {
    const path = join(dir, 'keys.json');
    const w = watchFile(path);
    try {
      expect(w.changed()).toBe(true);
      w.markRead();
      expect(w.changed()).toBe(false);
      await writeFile(`${path}.tmp`, '{"a":1}');
      await rename(`${path}.tmp`, path);
      expect(await until(() => w.changed())).toBe(true);
      // A replace is several events (the temp file, the rename): let them all arrive first.
      await new Promise((r) => setTimeout(r, 200));
      w.markRead();
      await writeFile(join(dir, 'other.json'), 'x');
      await new Promise((r) => setTimeout(r, 50));
      expect(w.changed()).toBe(false);
    } finally {
      w.close();
    }
  });

  it('falls back to a stat at most once per second when no event arrives', () => {
    let now = 0;
    const path = join(dir, 'absent.json');
    const w = watchFile(path, () => now);
    w.close(); // no events from here on
    w.markRead();
    expect(w.changed()).toBe(false);
    now = 1500;
    expect(w.changed()).toBe(false); // stat'ed: still absent
  });
});
