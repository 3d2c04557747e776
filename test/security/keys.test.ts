/**
 * Keys an attacker may hold: revoked and rotated-out keys (after the server has verified them,
 * so its memo of verified keys is exercised), revoked by another process writing the key file as
 * `fetchml user` does — refused at once with the exact 401, over HTTP and the WebSocket, and nothing
 * changes. And the benchmark's switch that skips the auth chain: it works only in-process through
 * its symbol, and nothing that builds the production server names it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { revokeUser, rotateUser } from '../../src/ops/users.ts';
import { generateApiKey, hashApiKey } from '../../src/server/auth/api-keys.ts';
import { UNAUTHENTICATED_FOR_BENCHMARK } from '../../src/server/auth/bench-switch.ts';
import { openFileKeyStore } from '../../src/server/auth/key-store.ts';
import {
  errorOf,
  sampleProject,
  sampleSpec,
  startTestServer,
} from '../../src/server/test-helpers.ts';
import type { TestServer } from '../../src/server/test-helpers.ts';
import { serverState } from './helpers.ts';

let t: TestServer;
const project = sampleProject();

beforeAll(async () => {
  // Each refusal below counts towards an automatic ban of the in-process address; not tested here.
  t = await startTestServer({ security: { banAfterFailures: 1000 } });
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
});
afterAll(() => t.cleanup());

const submit = (key: string) =>
  t.server.app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: { authorization: `Bearer ${key}` },
    payload: { commit_id: project.commitId, spec: sampleSpec },
  });

/** A new researcher key, already used once (so the server has verified and remembered it). */
async function usedKey(user: string): Promise<string> {
  const key = generateApiKey();
  await t.server.keys.add(hashApiKey(key, { user, role: 'researcher' }));
  expect((await submit(key)).statusCode).toBe(201);
  return key;
}

/** The key file as another process (`fetchml user`) sees and writes it. */
async function otherProcess<T>(
  fn: (keys: Awaited<ReturnType<typeof openFileKeyStore>>) => Promise<T>,
) {
  const keys = await openFileKeyStore(join(t.home, 'keys.json'));
  try {
    return await fn(keys);
  } finally {
    keys.close?.();
  }
}

/**
 * Waits until the server has seen the key file change (inotify, within milliseconds; a stat once
 * a second as a backstop), as `fetchml user` promises, then checks the refusal.
 */
async function seenRevoked(key: string): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const res = await t.server.app.inject({
      method: 'GET',
      url: '/v1/whoami',
      headers: { authorization: `Bearer ${key}` },
    });
    if (res.statusCode === 401 || Date.now() > until) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function expectRefused(key: string): Promise<void> {
  await seenRevoked(key);
  const before = await serverState(t);
  const res = await submit(key);
  expect(res.statusCode).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
  expect(errorOf(res)).toEqual({
    code: 'ML_ERR_UNAUTHORIZED',
    message: 'invalid or revoked API key',
  });
  await expect(
    t.server.app.injectWS('/v1/ws', { headers: { authorization: `Bearer ${key}` } }),
  ).rejects.toThrow(/401/);
  expect(await serverState(t)).toEqual(before);
}

describe('revoked and rotated keys', () => {
  it('a key revoked by `fetchml user revoke` in another process is refused at once', async () => {
    const key = await usedKey('rita');
    await otherProcess((keys) => revokeUser(keys, 'rita'));
    await expectRefused(key);
  });

  it('a rotated-out key is refused at once; the new key works', async () => {
    const old = await usedKey('otto');
    const { key: fresh } = await otherProcess((keys) => rotateUser(keys, 'otto'));
    await expectRefused(old);
    expect((await submit(fresh)).statusCode).toBe(201);
  });

  it('a key revoked through the running server is refused at once', async () => {
    const key = await usedKey('vera');
    const record = (await t.server.keys.list()).find((k) => k.user === 'vera')!;
    await t.server.keys.revoke(record.id, new Date().toISOString());
    await expectRefused(key);
  });
});

describe('the benchmark switch (server/auth/bench-switch)', () => {
  it('skips the chain only when the symbol is passed in-process', async () => {
    const off = await startTestServer({ [UNAUTHENTICATED_FOR_BENCHMARK]: true } as object);
    try {
      const res = await off.server.app.inject({ method: 'GET', url: '/v1/whoami' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ user: 'admin', role: 'admin' });
    } finally {
      await off.cleanup();
    }
    // A string key of the same name (what JSON or a config file could carry) does nothing.
    const on = await startTestServer({
      'fetchml.unauthenticatedForBenchmark': true,
      unauthenticatedForBenchmark: true,
    } as object);
    try {
      expect((await on.server.app.inject({ method: 'GET', url: '/v1/whoami' })).statusCode).toBe(
        401,
      );
    } finally {
      await on.cleanup();
    }
  });

  it('is named by nothing under src/ but the server wiring', async () => {
    const root = new URL('../../src/', import.meta.url).pathname;
    const hits: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) await walk(path);
        else if (/\.tsx?$/.test(e.name) && !e.name.includes('.test.')) {
          const text = await readFile(path, 'utf8');
          if (text.includes('UNAUTHENTICATED_FOR_BENCHMARK') || text.includes('bench-switch')) {
            hits.push(path.slice(root.length));
          }
        }
      }
    };
    await walk(root);
    expect(hits.sort()).toEqual([
      'server/app.ts',
      'server/auth/bench-switch.ts',
      'server/auth/install.ts',
    ]);
  });
});
