/**
 * @module audit/concurrent.test
 * Several processes append to one audit log at the same moment (the server and `fetchml user`
 * commands do): the chain must stay linear and verify, and no entry may be lost. The children run
 * the compiled writer (test/support/ts-child.ts); the test process appends too.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { compileForChild } from '../../test/support/ts-child.ts';
import type { AuditEntry } from './chain.ts';
import { verifyAuditLog } from './verify.ts';
import { openAuditLog } from './writer.ts';

const PER_WRITER = 90;

const CHILD = `
const { openAuditLog } = await import(process.env.AUDIT_MODULE);
const { existsSync, writeFileSync } = await import('node:fs');
const log = openAuditLog(process.env.AUDIT_PATH);
writeFileSync(process.env.READY_FILE, '');
while (!existsSync(process.env.GO_FILE)) await new Promise((r) => setTimeout(r, 2));
const who = process.env.WRITER;
for (let i = 0; i < ${PER_WRITER}; i += 3) {
  // Some alone, some three at once (one batch).
  if (i % 2 === 0) {
    for (let j = i; j < i + 3; j++) await log.record({ actor: who, action: 'user.add', target: String(j) });
  } else {
    await Promise.all([i, i + 1, i + 2].map((j) => log.record({ actor: who, action: 'user.add', target: String(j) })));
  }
}
await log.close();
`;

function runChild(env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${err}`)),
    );
  });
}

describe('audit log: several processes append at once', () => {
  let dir: string;
  let modulePath: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fetchml-audit-race-'));
    [modulePath] = (await compileForChild(dir, ['src/audit/writer.ts'])) as [string];
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps one valid chain and loses nothing', async () => {
    const path = join(dir, 'logs', 'audit.log');
    const goFile = join(dir, 'go');
    const ids = ['p1', 'p2'];
    const children = Promise.all(
      ids.map((id) =>
        runChild({
          AUDIT_MODULE: modulePath,
          AUDIT_PATH: path,
          READY_FILE: join(dir, `ready-${id}`),
          GO_FILE: goFile,
          WRITER: id,
        }),
      ),
    );
    const until = Date.now() + 60_000;
    while (!ids.every((id) => existsSync(join(dir, `ready-${id}`))) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await writeFile(goFile, '');
    const log = openAuditLog(path);
    for (let i = 0; i < PER_WRITER; i++) {
      await log.record({ actor: 'server', action: 'task.create', target: String(i) });
    }
    await log.close();
    await children;

    const report = await verifyAuditLog(path);
    expect(report.problem).toBeNull();
    expect(report).toMatchObject({ ok: true, entries: 3 * PER_WRITER });
    const entries = (await readFile(path, 'utf8'))
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l) as AuditEntry);
    for (const who of ['p1', 'p2', 'server']) {
      const mine = entries.filter((e) => e.actor === who).map((e) => Number(e.target));
      expect(mine).toEqual(Array.from({ length: PER_WRITER }, (_, i) => i));
    }
    // The writers really interleaved (not one after the other).
    const switches = entries.filter((e, i) => i > 0 && e.actor !== entries[i - 1]!.actor).length;
    expect(switches).toBeGreaterThan(2);
    expect(existsSync(`${path}.lock`)).toBe(false);
  }, 120_000);
});
