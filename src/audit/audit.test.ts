import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { canonicalJson } from '../core/hash.ts';
import { entryHash, GENESIS_PREV, lineDigest } from './chain.ts';
import type { AuditEntry } from './chain.ts';
import { withFileLock } from './lock.ts';
import { verifyAuditLog } from './verify.ts';
import { openAuditLog } from './writer.ts';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetchml-audit-'));
  path = join(dir, 'logs', 'audit.log');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-27T14:00:00.000Z');

/** Writes `n` entries (task.create of task_1..n by ana) and closes the writer. */
async function writeEntries(n: number): Promise<void> {
  const log = openAuditLog(path, { clock: () => T0 });
  for (let i = 1; i <= n; i++) {
    await log.record({ actor: 'ana', ip: '10.0.0.7', action: 'task.create', target: `task_${i}` });
  }
  await log.close();
}

const lines = async () => (await readFile(path, 'utf8')).split('\n').slice(0, -1);
const setLines = (ls: string[]) => writeFile(path, `${ls.join('\n')}\n`);
const entryOf = (line: string) => JSON.parse(line) as AuditEntry;

describe('audit writer', () => {
  it('writes canonical JSON lines chained from the genesis, 0600', async () => {
    await writeEntries(3);
    const ls = await lines();
    expect(ls).toHaveLength(3);
    const [a, b, c] = ls.map(entryOf) as [AuditEntry, AuditEntry, AuditEntry];
    expect(a).toEqual({
      seq: 1,
      ts: '2026-11-27T14:00:00.000Z',
      actor: 'ana',
      ip: '10.0.0.7',
      action: 'task.create',
      target: 'task_1',
      outcome: 'ok',
      prev: GENESIS_PREV,
      hash: entryHash(a),
    });
    expect(ls[0]).toBe(canonicalJson(a));
    expect(b.prev).toBe(lineDigest(ls[0]!));
    expect(c.prev).toBe(lineDigest(ls[1]!));
    expect(c.seq).toBe(3);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('batches records made together, in call order, and a second writer continues the chain', async () => {
    const log = openAuditLog(path);
    const entries = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        log.record({ actor: 'system', action: 'blob.put', target: `b${i}` }),
      ),
    );
    await log.close();
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(entries.map((e) => e.target)).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`));

    const again = openAuditLog(path);
    const next = await again.record({ actor: 'ops', action: 'ban.remove', target: '203.0.113.7' });
    await again.close();
    expect(next.seq).toBe(21);
    expect(next.prev).toBe(lineDigest((await lines())[19]!));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, entries: 21 });
  });

  it('refuses a detail that is not JSON and writes nothing', async () => {
    const log = openAuditLog(path);
    await expect(
      log.record({ actor: 'ops', action: 'user.add', detail: { n: Number.NaN } }),
    ).rejects.toMatchObject({
      code: 'ML_ERR_VALIDATION',
      message: 'detail.n: not a finite number',
    });
    await log.close();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses records after close', async () => {
    const log = openAuditLog(path);
    await log.close();
    await expect(log.record({ actor: 'ops', action: 'user.add' })).rejects.toThrow(
      `audit log ${path} is closed`,
    );
  });

  it('completes a last line that lost only its newline', async () => {
    await writeEntries(2);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, -1));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, entries: 2 });
    await writeEntries(1);
    const ls = await lines();
    expect(ls).toHaveLength(3);
    expect(ls.map((l) => entryOf(l).action)).toEqual(['task.create', 'task.create', 'task.create']);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, entries: 3 });
  });

  it('repairs a torn last line: removes it and records audit.repair', async () => {
    await writeEntries(3);
    const ls = await lines();
    const torn = ls[2]!.slice(0, 40);
    await writeFile(path, `${ls[0]}\n${ls[1]}\n${torn}`);
    await writeEntries(1);
    const after = (await lines()).map(entryOf);
    expect(after.map((e) => [e.seq, e.action])).toEqual([
      [1, 'task.create'],
      [2, 'task.create'],
      [3, 'audit.repair'],
      [4, 'task.create'],
    ]);
    expect(after[2]).toMatchObject({
      actor: 'system',
      detail: {
        reason: 'the last line was cut off (a crash mid-write) and has been removed',
        removed_bytes: 40,
      },
    });
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, entries: 4 });
  });

  it('keeps appending after a hand-edited last line; verify still names it', async () => {
    await writeEntries(2);
    const ls = await lines();
    await setLines([ls[0]!, ls[1]!.replace('"actor":"ana"', '"actor":"bob"')]);
    await writeEntries(1);
    const report = await verifyAuditLog(path);
    expect(report.problem).toEqual({
      line: 2,
      seq: 2,
      kind: 'edited',
      message: 'line 2 (seq 2): edited — its content does not match its hash',
    });
    expect(entryOf((await lines())[2]!).seq).toBe(3);
  });
});

describe('audit verify', () => {
  it('an intact log: the count and the head', async () => {
    await writeEntries(5);
    const ls = await lines();
    expect(await verifyAuditLog(path)).toEqual({
      path,
      ok: true,
      entries: 5,
      head: { seq: 5, hash: entryOf(ls[4]!).hash, digest: lineDigest(ls[4]!) },
      problem: null,
    });
  });

  it('an empty log is intact with 0 entries; a missing one is ML_ERR_NOT_FOUND', async () => {
    await writeEntries(0);
    await expect(verifyAuditLog(path)).rejects.toMatchObject({
      code: 'ML_ERR_NOT_FOUND',
      message: `no audit log at ${path} (the server creates it on its first start; --file names another)`,
    });
    await writeFile(join(dir, 'empty.log'), '');
    expect(await verifyAuditLog(join(dir, 'empty.log'))).toMatchObject({
      ok: true,
      entries: 0,
      head: null,
    });
  });

  it('an edited entry: hash mismatch at its line', async () => {
    await writeEntries(5);
    const ls = await lines();
    ls[2] = ls[2]!.replace('"target":"task_3"', '"target":"task_9"');
    await setLines(ls);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      entries: 2,
      head: { seq: 2 },
      problem: {
        line: 3,
        seq: 3,
        kind: 'edited',
        message: 'line 3 (seq 3): edited — its content does not match its hash',
      },
    });
  });

  it('an edited entry whose hash was recomputed: the next line names it', async () => {
    await writeEntries(5);
    const ls = await lines();
    const forged = { ...entryOf(ls[2]!), actor: 'mallory' };
    forged.hash = entryHash(forged);
    ls[2] = canonicalJson(forged);
    await setLines(ls);
    expect((await verifyAuditLog(path)).problem).toEqual({
      line: 4,
      seq: 4,
      kind: 'chain_broken',
      message:
        'line 4 (seq 4): chain broken — prev does not match line 3 (seq 3): that entry was rewritten (its hash recomputed) or replaced',
    });
  });

  it('a reformatted line (same content, not canonical) is edited', async () => {
    await writeEntries(3);
    const ls = await lines();
    ls[1] = JSON.stringify(entryOf(ls[1]!), null, 0).replace('{', '{ ');
    await setLines(ls);
    expect((await verifyAuditLog(path)).problem).toEqual({
      line: 2,
      seq: 2,
      kind: 'edited',
      message: 'line 2 (seq 2): edited — the line is not as written (not canonical JSON)',
    });
  });

  it('deleted entries: the seq gap', async () => {
    await writeEntries(6);
    const ls = await lines();
    await setLines([ls[0]!, ls[1]!, ls[4]!, ls[5]!]);
    expect((await verifyAuditLog(path)).problem).toEqual({
      line: 3,
      seq: 5,
      kind: 'deleted',
      message: 'line 3 (seq 5): entries deleted — seq 3–4 are missing before it',
    });
    await setLines([ls[1]!, ls[2]!]);
    expect((await verifyAuditLog(path)).problem).toEqual({
      line: 1,
      seq: 2,
      kind: 'deleted',
      message: 'line 1 (seq 2): entries deleted — seq 1 is missing before it',
    });
  });

  it('reordered entries: the misplaced seq and where the expected one is', async () => {
    await writeEntries(5);
    const ls = await lines();
    await setLines([ls[0]!, ls[3]!, ls[1]!, ls[2]!, ls[4]!]);
    expect((await verifyAuditLog(path)).problem).toEqual({
      line: 2,
      seq: 4,
      kind: 'reordered',
      message: 'line 2 (seq 4): out of order — expected seq 2 here, which is at line 3',
    });
    await setLines([ls[0]!, ls[1]!, ls[1]!]);
    expect((await verifyAuditLog(path)).problem).toEqual({
      line: 3,
      seq: 2,
      kind: 'reordered',
      message: 'line 3 (seq 2): out of order — seq 2 after seq 2 (repeated or moved back)',
    });
  });

  it('a truncated last line (crash mid-write)', async () => {
    await writeEntries(3);
    const ls = await lines();
    await writeFile(path, `${ls[0]}\n${ls[1]}\n${ls[2]!.slice(0, 30)}`);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      entries: 2,
      problem: {
        line: 3,
        seq: null,
        kind: 'truncated',
        message:
          'line 3: truncated — the last line was cut off (30 bytes, no newline), as by a crash mid-write; ' +
          'the lines before it verify, and the next append removes it and records an audit.repair entry',
      },
    });
  });

  it('a line that is not an entry', async () => {
    await writeEntries(2);
    const ls = await lines();
    await setLines([ls[0]!, 'hello', ls[1]!]);
    expect((await verifyAuditLog(path)).problem).toEqual({
      line: 2,
      seq: null,
      kind: 'malformed',
      message: 'line 2: not an audit entry (not JSON)',
    });
    await setLines([ls[0]!, '', ls[1]!]);
    expect((await verifyAuditLog(path)).problem?.message).toBe(
      'line 2: not an audit entry (empty line)',
    );
    await setLines([ls[0]!, '{"seq":2,"actor":7}']);
    expect((await verifyAuditLog(path)).problem?.message).toBe(
      'line 2 (seq 2): not an audit entry (missing or invalid ts, actor, ip, action, target, outcome, prev, hash)',
    );
  });
});

describe('audit lock', () => {
  it('removes a lock left by a process that is gone, and waits for a live one', async () => {
    const lock = join(dir, 'x.lock');
    await writeFile(lock, '999999999\n'); // no such pid
    expect(await withFileLock(lock, () => Promise.resolve('got it'), 2000)).toBe('got it');
    await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });

    await writeFile(lock, `${process.pid}\n`);
    await expect(withFileLock(lock, () => Promise.resolve('no'), 50)).rejects.toMatchObject({
      code: 'ML_ERR_UNAVAILABLE',
      message: `${lock} is held by another process for more than 50 ms; if no fetchml process is writing, remove it`,
    });
    // Too old to be a real append, whoever holds it.
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    expect(await withFileLock(lock, () => Promise.resolve('stale'), 2000)).toBe('stale');
  });
});
