/**
 * @module test/security/helpers
 * Shared by the security suite: a throwaway certificate authority and certificates it issues (real
 * X.509, EC P-256, via `selfsigned`), a temp dir, and the "nothing changed" snapshot of a server's
 * state (task rows and the files under its base dir). Test-only.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { generate } from 'selfsigned';

import type { TestServer } from '../../src/server/test-helpers.ts';

/** A certificate authority: PEM cert and key. */
export interface TestCa {
  cert: string;
  key: string;
}

/** A fresh CA (basicConstraints cA, keyCertSign). */
export async function makeCa(name = 'fetchml test CA'): Promise<TestCa> {
  const pems = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A server certificate for `names` (DNS names or IPs) signed by `ca`. */
export async function issueCert(
  ca: TestCa,
  names: readonly string[],
): Promise<{ cert: string; key: string }> {
  const ip = (n: string) => /^[\d.]+$/.test(n) || n.includes(':');
  const pems = await generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ca: { cert: ca.cert, key: ca.key },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((n) => (ip(n) ? { type: 7, ip: n } : { type: 2, value: n })),
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A temp dir and its removal. */
export async function tempDir(
  prefix = 'fetchml-sec-',
): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Every regular file under `root`, relative, with its size and mtime (for "nothing changed"). */
export async function fileTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile()) {
        const s = await stat(path);
        out[relative(root, path)] = `${s.size}`;
      }
    }
  };
  await walk(root);
  return out;
}

/** Every file under `root` with its bytes (for "the secret appears nowhere"). */
export async function allFiles(root: string): Promise<{ path: string; data: Buffer }[]> {
  const out: { path: string; data: Buffer }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile()) out.push({ path, data: await readFile(path) });
    }
  };
  await walk(root);
  return out;
}

/** The state a refused request must not change: every task and the queue depth. */
export async function serverState(t: TestServer): Promise<unknown> {
  const tasks = await t.deps.store.listTasks({ limit: 1000 });
  return {
    tasks: tasks.map((x) => [x.id, x.status, x.cancel_requested, x.updated_at]),
    counts: await t.deps.store.countTasksByStatus(),
  };
}
