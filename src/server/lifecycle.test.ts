import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { compileRoles, DEFAULT_ROLES } from '../auth/roles.ts';
import type { Task } from '../core/schemas/task.ts';
import { createServer } from './app.ts';
import type { RouteContext } from './context.ts';
import { taskFiles } from './paths.ts';
import { reapOnce } from './reaper.ts';
import { sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';
import { certFingerprint, ensureTls, generateSelfSigned } from './tls.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.cleanup());

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('first start and restart', () => {
  it('reuses the certificate and creates the admin key only once', async () => {
    const again = await createServer({ home: t.home, reapIntervalMs: 0 }, t.deps);
    expect(again.adminKey).toBeNull();
    expect(again.fingerprint).toBe(t.server.fingerprint);
    await again.close();
  });

  it.skipIf(!hasOpenssl())('prints the fingerprint as openssl does', async () => {
    const tls = await ensureTls(t.home);
    const out = execFileSync(
      'openssl',
      ['x509', '-noout', '-fingerprint', '-sha256', '-in', tls.certPath],
      {
        encoding: 'utf8',
      },
    );
    expect(out.trim().split('=')[1]).toBe(certFingerprint(tls.cert));
  });

  it('uses a configured certificate and key instead of generating one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fetchml-tls-'));
    try {
      const pair = await generateSelfSigned(['example']);
      await writeFile(join(dir, 'c.pem'), pair.cert);
      await writeFile(join(dir, 'k.pem'), pair.key);
      const tls = await ensureTls(dir, { cert: join(dir, 'c.pem'), key: join(dir, 'k.pem') });
      expect(tls).toMatchObject({ generated: false, fingerprint: certFingerprint(pair.cert) });
      await expect(ensureTls(dir, { cert: join(dir, 'c.pem') })).rejects.toThrow(/server\.tls/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('lease reaper', () => {
  it('requeues a task whose worker stopped heartbeating', async () => {
    const project = sampleProject();
    await t.deps.blobs.put(project.data, project.sha);
    await t.deps.store.putCommit(project.commitId, project.manifest);
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: t.auth,
      payload: { commit_id: project.commitId, spec: sampleSpec },
    });
    const task = res.json<Task>();
    const claim = await t.deps.queue.claim({
      worker_id: 'w1',
      free: { cpus: 8, memory_mb: 65536, gpus: 0, labels: [] },
      lease_ms: 1,
    });
    expect(claim?.task_id).toBe(task.id);
    await t.deps.store.markTaskRunning(task.id, {
      worker_id: 'w1',
      attempt: 1,
      started_at: new Date().toISOString(),
    });
    await new Promise((r) => setTimeout(r, 20));
    const ctx: RouteContext = {
      ...t.deps,
      files: taskFiles(t.home),
      clock: Date.now,
      version: 'test',
      blobBodyLimit: 1,
      roles: compileRoles(DEFAULT_ROLES),
    };
    expect(await reapOnce(ctx)).toBeGreaterThanOrEqual(1);
    expect(await t.deps.store.getTask(task.id)).toMatchObject({
      status: 'queued',
      worker_id: null,
    });
    expect((await t.deps.queue.get(task.id))?.state).toBe('queued');
  });
});
