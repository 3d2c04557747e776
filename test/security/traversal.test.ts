/**
 * Path traversal, route by route: the test walks the route registry, so every route whose URL takes
 * a name or a path (`:id`, `:sha256`, `:name`, `*`) is attacked with encoded `../`, `%2e%2e`,
 * double encoding, absolute paths and NUL — a new route with a parameter fails here until its
 * expected refusal is added to {@link EXPECTED}. Each answer must be the exact refusal, must not
 * carry a byte of a file outside the store (a sentinel in the base dir, /etc/passwd), and must
 * change nothing. Paths inside bodies (tree manifests, symlink targets) and WebSocket task ids too.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Task } from '../../src/core/schemas/task.ts';
import {
  errorOf,
  sampleProject,
  sampleSpec,
  startTestServer,
} from '../../src/server/test-helpers.ts';
import type { TestServer } from '../../src/server/test-helpers.ts';
import { fileTree, serverState } from './helpers.ts';

let t: TestServer;
let task: Task;
const project = sampleProject();
const SENTINEL = 'FETCHML-SENTINEL-7f3a9c';

beforeAll(async () => {
  t = await startTestServer();
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
  await writeFile(join(t.home, 'secret.txt'), `${SENTINEL}\n`);
  const res = await t.server.app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: t.auth,
    payload: { commit_id: project.commitId, spec: sampleSpec },
  });
  task = res.json<Task>();
});
afterAll(() => t.cleanup());

/** Single-segment hostile values (percent-encoded so they reach the parameter whole). */
const HOSTILE = [
  '..%2F..%2Fsecret.txt',
  '%2e%2e%2f%2e%2e%2fsecret.txt',
  '%2E%2E',
  '..',
  '%252e%252e%252fsecret.txt',
  '%2Fetc%2Fpasswd',
  'secret.txt%00',
  '%00',
  'task_..%2F..%2Fsecret.txt',
  '..%5C..%5Csecret.txt',
];
/** Raw values with real slashes: they may match another route or none; still refused. */
const RAW = ['../../secret.txt', '..%2f/..%2f/secret.txt', '//etc/passwd', './././secret.txt'];

/** The refusal each parameterised route gives a hostile value: status and codes allowed. */
const EXPECTED: Record<string, { status: number[]; codes: string[] }> = {
  '/v1/tasks/:id': { status: [404], codes: ['ML_ERR_TASK_NOT_FOUND'] },
  '/v1/commits/:id': { status: [404], codes: ['ML_ERR_COMMIT_NOT_FOUND'] },
  '/v1/blobs/:sha256': { status: [400], codes: ['ML_ERR_BLOB_INVALID_HASH'] },
  '/v1/datasets/:name': { status: [400], codes: ['ML_ERR_VALIDATION'] },
};
/** Any refusal a raw (slash-carrying) value may get, depending on which route it lands on. */
const ANY_REFUSAL = [
  'ML_ERR_NOT_FOUND',
  'ML_ERR_TASK_NOT_FOUND',
  'ML_ERR_COMMIT_NOT_FOUND',
  'ML_ERR_BLOB_INVALID_HASH',
  'ML_ERR_VALIDATION',
  'ML_ERR_PATH_HOSTILE',
  'ML_ERR_ARTIFACT_NOT_FOUND',
  'ML_ERR_MANIFEST_NOT_FOUND',
  'ML_ERR_DATASET_NOT_FOUND',
];

/** The EXPECTED entry for a route: its own, or that of the parameter it starts with. */
function expectedFor(url: string): { status: number[]; codes: string[] } | undefined {
  const param = /^(.*?\/:[a-z0-9]+)/i.exec(url)?.[1];
  return EXPECTED[url] ?? (param ? EXPECTED[param] : undefined);
}

async function send(method: string, url: string) {
  const body = method === 'PUT' ? Buffer.from('x') : method === 'POST' ? '{}' : undefined;
  return t.server.app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...t.auth,
      ...(body === undefined
        ? {}
        : { 'content-type': method === 'PUT' ? 'application/octet-stream' : 'application/json' }),
    },
    ...(body === undefined ? {} : { payload: body }),
  });
}

/** State that a refused request must leave alone: tasks and every stored file but the logs. */
async function snapshot() {
  const files = await fileTree(t.home);
  for (const k of Object.keys(files))
    if (k.startsWith('logs/') || k.endsWith('-wal')) delete files[k];
  return { state: await serverState(t), files };
}

function assertNoLeak(body: string, where: string): void {
  expect(body, where).not.toContain(SENTINEL);
  expect(body, where).not.toMatch(/root:.*:0:0:/);
}

describe('every route that takes a name or a path', () => {
  it('is listed with its expected refusal (a new parameterised route must be added here)', () => {
    const parameterised = t.server.routes.filter((r) => /[:*]/.test(r.url));
    expect(parameterised.length).toBeGreaterThan(5);
    const unknown = parameterised.filter(
      (r) => !r.url.endsWith('/*') && expectedFor(r.url) === undefined,
    );
    expect(unknown.map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });

  it('refuses encoded ../, %2e%2e, double encoding, absolute paths and NUL in every parameter', async () => {
    const before = await snapshot();
    let attacks = 0;
    for (const route of t.server.routes.filter((r) => /:[a-z0-9]+/i.test(r.url))) {
      if (route.method === 'HEAD') continue;
      const expected = expectedFor(route.url)!;
      for (const value of HOSTILE) {
        const url = route.url.replace(/:[a-z0-9]+/gi, value).replace(/\*$/, 'out.txt');
        const res = await send(route.method, url);
        const where = `${route.method} ${url} → ${res.statusCode} ${res.body.slice(0, 200)}`;
        // `%2E%2E` is a dot-segment the URL parser resolves: the request then names no route.
        const resolvedAway = res.statusCode === 404 && errorOf(res).code === 'ML_ERR_NOT_FOUND';
        if (!resolvedAway) {
          expect(expected.status, where).toContain(res.statusCode);
          expect(expected.codes, where).toContain(errorOf(res).code);
        }
        assertNoLeak(res.body, where);
        attacks += 1;
      }
      for (const value of RAW) {
        const url = route.url.replace(/:[a-z0-9]+/gi, value).replace(/\*$/, 'out.txt');
        const res = await send(route.method, url);
        const where = `${route.method} ${url} → ${res.statusCode} ${res.body.slice(0, 200)}`;
        expect(res.statusCode, where).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, where).toBeLessThan(500);
        expect(ANY_REFUSAL, where).toContain(errorOf(res).code);
        assertNoLeak(res.body, where);
        attacks += 1;
      }
    }
    expect(attacks).toBeGreaterThan(100);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses hostile artifact paths of a real task with 400 ML_ERR_PATH_HOSTILE', async () => {
    const base = `/v1/tasks/${task.id}/artifacts/`;
    const cases: [string, string][] = [
      ['..%2F..%2Fsecret.txt', "contains a '..' segment"],
      ['out%2F..%2F..%2F..%2Fsecret.txt', "contains a '..' segment"],
      ['%2Fetc%2Fpasswd', 'absolute path'],
      ['a%00b', 'contains a NUL byte'],
      ['a%2F.%2Fb', "contains a '.' segment"],
      ['a%2F%2Fb', 'empty segment (double or trailing slash)'],
    ];
    for (const [path, problem] of cases) {
      const res = await send('GET', base + path);
      const where = `${path} → ${res.body}`;
      expect(res.statusCode, where).toBe(400);
      expect(errorOf(res).code, where).toBe('ML_ERR_PATH_HOSTILE');
      expect(errorOf(res).message, where).toContain(problem);
      assertNoLeak(res.body, where);
    }
    // %2e%2e decodes to a literal `..` segment: the same refusal.
    const dots = await send('GET', `${base}%2e%2e%2f%2e%2e%2fsecret.txt`);
    expect(errorOf(dots).code).toBe('ML_ERR_PATH_HOSTILE');
    // Double encoding stays a harmless literal name, which no manifest lists.
    const double = await send('GET', `${base}%252e%252e%252fsecret.txt`);
    expect(errorOf(double).code).toBe('ML_ERR_MANIFEST_NOT_FOUND');
  });
});

describe('paths inside bodies', () => {
  const entry = (path: string) => ({
    path,
    type: 'file',
    mode: 0o644,
    size: project.data.length,
    sha256: project.sha,
  });
  const hostile: [string, string][] = [
    ['../escape.py', "contains a '..' segment"],
    ['a/../../escape.py', "contains a '..' segment"],
    ['/etc/passwd', 'absolute path'],
    ['a\0b', 'contains a NUL byte'],
    ['a/./b', "contains a '.' segment"],
  ];

  it('refuses hostile tree paths in commits and datasets with 400 ML_ERR_PATH_HOSTILE naming the entry; nothing stored', async () => {
    const before = await snapshot();
    for (const [path, problem] of hostile) {
      for (const [url, body] of [
        ['/v1/commits', { manifest: { version: 1, entries: [entry(path)] } }],
        ['/v1/datasets', { name: 'ds', manifest: { version: 1, entries: [entry(path)] } }],
      ] as const) {
        const res = await t.server.app.inject({
          method: 'POST',
          url,
          headers: t.auth,
          payload: body,
        });
        const where = `${url} ${JSON.stringify(path)} → ${res.body}`;
        expect(res.statusCode, where).toBe(400);
        expect(errorOf(res), where).toMatchObject({
          code: 'ML_ERR_PATH_HOSTILE',
          message: `manifest.entries.0.path: refusing path ${JSON.stringify(path)}: ${problem}`,
        });
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a symlink pointing out of the tree', async () => {
    for (const target of ['../../secret.txt', '/etc/passwd', 'a/../../x']) {
      const res = await t.server.app.inject({
        method: 'POST',
        url: '/v1/commits',
        headers: t.auth,
        payload: { manifest: { version: 1, entries: [{ path: 'l', type: 'symlink', target }] } },
      });
      expect(res.statusCode, target).toBe(400);
      expect(errorOf(res).code, target).toBe('ML_ERR_PATH_HOSTILE');
    }
  });
});

describe('task ids over the WebSocket', () => {
  it('answers a hostile task id like an unknown task and keeps the connection', async () => {
    const ws = await t.server.app.injectWS('/v1/ws', { headers: t.auth });
    const messages: { type: string; code?: string; message?: string }[] = [];
    ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString('utf8')) as never));
    const ids = ['../../secret.txt', 'task_../../x', '/etc/passwd', 'task_\u0000', '..'];
    for (const id of ids) ws.send(JSON.stringify({ op: 'subscribe', task_id: id }));
    for (
      let i = 0;
      i < 300 && messages.filter((m) => m.type === 'error').length < ids.length;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const errors = messages.filter((m) => m.type === 'error');
    expect(errors).toEqual(
      ids.map((id) => ({
        type: 'error',
        code: 'ML_ERR_TASK_NOT_FOUND',
        message: `no such task: ${id}`,
      })),
    );
    for (const m of messages) assertNoLeak(JSON.stringify(m), 'ws');
    ws.terminate();
  });
});
