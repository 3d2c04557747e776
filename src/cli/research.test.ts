/**
 * The research workflows end to end, in one process: two real HTTPS servers on their own base dirs
 * and a real worker (process runtime) on the first, driven through `main()`.
 *
 * - The seeded example (examples/logreg) is queued, reproduced with `--verify`, and reported
 *   bit-identical.
 * - Datasets: upload (resumed after an interrupt), list, show, verify, staged for a job; an
 *   unknown dataset blocks `ml queue`.
 * - Tampering: a snapshot blob or a dataset blob edited on disk is named by `ml reproduce
 *   --verify` and `ml data verify`.
 * - An export made on one base dir verifies offline and imports into the other; a hostile
 *   archive is refused before anything is written.
 */
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FetchmlError } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import { writeTar } from '../export/test-fixture.ts';
import { ProcessRuntime } from '../runtime/index.ts';
import { startTestServer } from '../server/test-helpers.ts';
import type { TestServer } from '../server/test-helpers.ts';
import type { FetchmlWorker } from '../worker/index.ts';
import { testWorker } from '../worker/test-helpers.ts';
import type { ReproduceResult } from './commands/reproduce.ts';
import type { ArchiveSummary } from './commands/export.ts';
import type { ImportResult } from './commands/import.ts';
import type { UploadResult } from './data/upload.ts';
import { defaultClientFactory } from './shared/connect.ts';
import type { ClientFactory } from './shared/deps.ts';
import { main } from './main.ts';
import type { MlOverrides } from './main.ts';
import { testIo } from './shared/test-io.ts';

let a: TestServer;
let b: TestServer;
let worker: FetchmlWorker;
let dir: string;
let envA: Record<string, string>;
let envB: Record<string, string>;
let logregTask: string;

async function ml(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; overrides?: MlOverrides } = {},
) {
  const io = testIo(opts.env ?? envA, opts.cwd ?? dir);
  const code = await main(args, io, opts.overrides);
  return { code, out: io.out(), err: io.err() };
}

async function mlJson<T>(args: string[], opts: Parameters<typeof ml>[1] = {}): Promise<T> {
  const r = await ml(['--json', ...args], opts);
  expect(r.code, `ml ${args.join(' ')}: ${r.out}${r.err}`).toBe(0);
  return JSON.parse(r.out) as T;
}

/** Rewrites a stored blob's bytes on disk (as bit rot or a careless hand would). */
async function tamper(t: TestServer, sha: string, bytes: string): Promise<() => Promise<void>> {
  const path = t.deps.blobs.localPath!(sha);
  await chmod(path, 0o644);
  const original = await readFile(path);
  await writeFile(path, bytes);
  return () => writeFile(path, original);
}

beforeAll(async () => {
  a = await startTestServer();
  b = await startTestServer();
  const { url } = await a.server.listen();
  const { url: urlB } = await b.server.listen();
  worker = testWorker(
    { home: a.home, ...a.deps, cleanup: () => Promise.resolve() },
    new ProcessRuntime({ killGraceMs: 1000 }),
  );
  await worker.start();
  dir = await mkdtemp(join(tmpdir(), 'fetchml-research-'));
  envA = { FETCHML_CLIENT_CONFIG: join(dir, 'client-a.json'), FETCHML_HOME: a.home, HOME: dir };
  envB = { FETCHML_CLIENT_CONFIG: join(dir, 'client-b.json'), FETCHML_HOME: b.home, HOME: dir };
  await mkdir(join(dir, 'setup-a'));
  await mkdir(join(dir, 'setup-b'));
  expect((await ml(['init', '--server', url], { cwd: join(dir, 'setup-a') })).code).toBe(0);
  expect(
    (await ml(['init', '--server', urlB], { cwd: join(dir, 'setup-b'), env: envB })).code,
  ).toBe(0);
}, 60_000);
afterAll(async () => {
  await worker.stop({ graceful: false, timeoutMs: 5000 });
  await a.cleanup();
  await b.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('the seeded example, reproduced', () => {
  it('is queued, reproduced with --verify, and reported bit-identical', async () => {
    const project = join(dir, 'logreg');
    await cp(join(import.meta.dirname, '..', '..', 'examples', 'logreg'), project, {
      recursive: true,
    });
    const q = await ml(['queue', '--follow', '--', '--epochs', '3', '--samples', '300'], {
      cwd: project,
    });
    expect(q.code, q.err).toBe(0);
    logregTask = q.out.split('\n')[0]!;
    expect(logregTask).toMatch(/^task_/);

    const r = await ml(['reproduce', logregTask.slice(5, 17), '--verify', '--follow']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`verifying the recorded inputs of ${logregTask}:`);
    expect(r.err).toMatch(/ok {6}snapshot [0-9a-f]{64} \(\d+ files re-hashed\)/);
    expect(r.err).toContain('plan identical');
    expect(r.out).toMatch(/reproduction task_\S+ completed \(exit 0\)/);
    expect(r.out).toMatch(/outputs: identical to the original's \(\d+ artifacts, bit for bit\)/);

    const j = await mlJson<ReproduceResult>(['reproduce', logregTask, '--verify', '--wait']);
    expect(j.plan_identical).toBe(true);
    expect(j.verify?.ok).toBe(true);
    expect(j.outcome?.status).toBe('completed');
    expect(j.outcome?.outputs.identical).toBe(true);
    expect(j.outcome?.outputs.same).toEqual(
      expect.arrayContaining(['model.json', 'metrics.jsonl']),
    );
  }, 120_000);

  it('a tampered snapshot blob is named and nothing is submitted', async () => {
    const before = (await a.deps.store.listTasks({ limit: 100 })).length;
    const script = await readFile(join(dir, 'logreg', 'train.py'));
    const restore = await tamper(a, sha256Hex(script), 'print("tampered")\n');
    try {
      const r = await ml(['reproduce', logregTask, '--verify']);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`DRIFT   snapshot file train.py: content changed`);
      expect(r.err).toContain(
        `error: the recorded inputs of ${logregTask} drifted, so nothing was submitted: snapshot`,
      );
      expect(r.err).toContain('snapshot file train.py (content changed');
      const j = await ml(['--json', 'reproduce', logregTask, '--verify']);
      expect(JSON.parse(j.out)).toMatchObject({ error: { code: 'ML_ERR_REPRO_DRIFT' } });
    } finally {
      await restore();
    }
    expect((await a.deps.store.listTasks({ limit: 100 })).length).toBe(before);
  });

  it('refuses a task that never ran, and an unknown task', async () => {
    const none = await ml(['reproduce', 'task_00000000000000000000000000']);
    expect(none.code).toBe(1);
    expect(none.err).toContain('no such task');
  });
});

describe('datasets', () => {
  let data: string;
  let checksum: string;

  it('upload resumes after an interrupt, sending only what the server lacks', async () => {
    data = join(dir, 'digits');
    await mkdir(join(data, 'sub'), { recursive: true });
    for (let i = 0; i < 5; i++)
      await writeFile(join(data, `part-${i}.csv`), `x,y\n${i},${i * i}\n`);
    await writeFile(join(data, 'sub', 'labels.txt'), 'zero\none\n');
    // The first run dies after its first blob reached the server.
    const interrupting: ClientFactory = async (target) => {
      const client = await defaultClientFactory(target);
      return {
        ...client,
        async uploadBlobs(items, onProgress) {
          const [first] = [...(items as Iterable<{ sha256: string; size: number }>)];
          await client.uploadBlobs([first as never], onProgress);
          throw new FetchmlError('ML_ERR_SERVER_UNREACHABLE', 'connection dropped (test)');
        },
      };
    };
    const cut = await ml(['data', 'upload', data, '--name', 'digits'], {
      overrides: { clientFactory: interrupting },
    });
    expect(cut.code).toBe(1);
    expect(cut.err).toContain('connection dropped');
    expect((await a.deps.store.listDatasets()).length).toBe(0);

    const up = await mlJson<UploadResult>(['data', 'upload', data, '--name', 'digits']);
    expect(up).toMatchObject({ created: true, files: 6, uploaded_blobs: 5 });
    expect(up.dataset).toMatchObject({ name: 'digits', version: 1, files: 6, creator: 'admin' });
    checksum = up.dataset.checksum;

    const again = await ml(['data', 'upload', data, '--name', 'digits']);
    expect(again.code).toBe(0);
    expect(again.out).toContain(`dataset digits v1 ${checksum} (unchanged`);
    expect(again.out).toContain('0 blobs uploaded');
    expect(again.out).toContain(
      `pin it in fetchml.yaml:\n  datasets:\n    - name: digits\n      checksum: ${checksum}\n`,
    );
  });

  it('a changed file is a new version; list and show', async () => {
    await writeFile(join(data, 'part-0.csv'), 'x,y\n0,1\n');
    const v2 = await mlJson<UploadResult>(['data', 'upload', data, '--name', 'digits']);
    expect(v2).toMatchObject({ created: true, uploaded_blobs: 1, dataset: { version: 2 } });
    await writeFile(join(data, 'part-0.csv'), 'x,y\n0,0\n');
    const single = join(dir, 'notes.txt');
    await writeFile(single, 'a single file\n');
    expect(
      (await mlJson<UploadResult>(['data', 'upload', single, '--name', 'notes'])).dataset,
    ).toMatchObject({ files: 1, size: 14 });

    const list = await ml(['data', 'list']);
    expect(list.out).toMatch(
      /NAME\s+LATEST\s+VERSIONS\s+FILES\s+SIZE\s+CREATOR\s+CREATED\s+CHECKSUM/,
    );
    expect(list.out).toMatch(/digits\s+v2\s+2\s+6/);
    const show = await ml(['data', 'show', 'digits@1', '--files']);
    expect(show.code).toBe(0);
    expect(show.out).toContain(`checksum: ${checksum}`);
    expect(show.out).toContain('(latest is v2)');
    expect(show.out).toMatch(/sub\/labels\.txt\s+9 B\s+[0-9a-f]{64}/);
    expect((await ml(['data', 'info', 'digits'])).out).toContain('digits v2 (latest of 2)');
  });

  it('refuses bad input naming what is wrong', async () => {
    const cases: Array<[string[], number, string]> = [
      [['data', 'show', 'bad name!'], 1, '"bad name!": not a dataset name'],
      [
        ['data', 'show', 'digits@0'],
        1,
        'the version after @ must be a number from 1 (e.g. digits@2)',
      ],
      [['data', 'show', 'cifar'], 1, 'no dataset named cifar'],
      [['data', 'show', 'digits@7'], 1, 'dataset digits has no version 7'],
      [['data', 'upload', join(dir, 'nope'), '--name', 'x'], 1, 'nope: no such file or directory'],
      [['data', 'upload', data, '--name', '../x'], 1, '--name: "../x": letters, digits'],
      [['data', 'upload', data], 2, "required option '--name <name>' not specified"],
      [['data', 'verify', 'cifar'], 1, 'no dataset named cifar'],
    ];
    await mkdir(join(dir, 'empty'));
    cases.push([['data', 'upload', join(dir, 'empty'), '--name', 'e'], 1, 'no files to upload']);
    for (const [args, code, message] of cases) {
      const r = await ml(args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err, args.join(' ')).toContain(message);
    }
    expect((await a.deps.store.listDatasets()).map((d) => d.name)).toEqual(['digits', 'notes']);
  });

  let dataTask: string;
  it('a job reads its pinned dataset; an unknown one blocks ml queue', async () => {
    const project = join(dir, 'uses-data');
    await mkdir(project);
    await writeFile(
      join(project, 'fetchml.yaml'),
      `name: uses-data\ncommand: sh run.sh\ndeps: none\ndatasets:\n  - name: digits\n    checksum: ${checksum}\n`,
    );
    await writeFile(
      join(project, 'run.sh'),
      'cat "$FETCHML_DATA/digits/part-3.csv" "$FETCHML_DATA/digits/sub/labels.txt" > "$FETCHML_OUTPUT/seen.txt"\n',
    );
    const q = await ml(['queue', '--follow'], { cwd: project });
    expect(q.code, q.err).toBe(0);
    dataTask = q.out.split('\n')[0]!;
    const info = await mlJson<{
      datasets: unknown[];
      artifacts: { path: string; sha256: string }[];
    }>(['info', dataTask]);
    expect(info.datasets).toEqual([{ name: 'digits', checksum, verified: true }]);
    expect(info.artifacts[0]?.sha256).toBe(sha256Hex('x,y\n3,9\nzero\none\n'));

    const other = join(dir, 'unknown-data');
    await mkdir(other);
    await writeFile(
      join(other, 'fetchml.yaml'),
      `name: unknown-data\ncommand: sh run.sh\ndeps: none\ndatasets:\n  - name: imagenet\n    checksum: sha256:${'c'.repeat(64)}\n`,
    );
    await writeFile(join(other, 'run.sh'), 'true\n');
    const refused = await ml(['queue'], { cwd: other });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      'dataset imagenet is not in the catalog of this server: upload it with `ml data upload <dir> --name imagenet`',
    );
  }, 60_000);

  it('a tampered dataset blob is named by ml data verify and ml reproduce --verify', async () => {
    expect((await ml(['data', 'verify', `digits@1`])).out).toContain('ok: dataset digits v1');
    const restore = await tamper(a, sha256Hex('zero\none\n'), 'zero\nuno\n');
    try {
      const v = await ml(['data', 'verify', 'digits@1']);
      expect(v.code).toBe(1);
      expect(v.out).toContain('dataset digits file sub/labels.txt: content changed');
      expect(v.err).toContain(
        'failed verification: 1 of 6 files missing or changed (sub/labels.txt)',
      );
      const r = await ml(['reproduce', dataTask, '--verify']);
      expect(r.code).toBe(1);
      expect(r.err).toContain('DRIFT   dataset digits file sub/labels.txt: content changed');
      expect(r.err).toContain('dataset digits (v1');
    } finally {
      await restore();
    }
    expect((await ml(['data', 'verify', 'digits@1'])).code).toBe(0);
  });
});

describe('export and import between base dirs', () => {
  it('an export made on one base dir verifies offline and imports into another', async () => {
    const archive = join(dir, 'logreg.tar.gz');
    const ex = await mlJson<ArchiveSummary>(['export', logregTask, '-o', archive]);
    expect(ex).toMatchObject({ task_id: logregTask, compressed: true, has_log: true });
    expect(ex.artifacts).toBeGreaterThanOrEqual(2);
    const exists = await ml(['export', logregTask, '-o', archive]);
    expect(exists.code).toBe(1);
    expect(exists.err).toContain('exists; pass --force to replace it');

    const offline = await ml(['verify-export', archive], { env: {} });
    expect(offline.code, offline.err).toBe(0);
    expect(offline.out).toContain(`is a valid fetchml export\n  task ${logregTask} (completed)`);

    const imp = await mlJson<ImportResult>(['import', archive], { env: envB });
    expect(imp.created).toBe(true);
    expect(imp.uploaded_blobs).toBeGreaterThan(0);
    expect(imp.task).toMatchObject({ id: logregTask, status: 'completed', labels: ['imported'] });
    const info = await ml(['info', logregTask], { env: envB });
    expect(info.code, info.err).toBe(0);
    expect(info.out).toMatch(/status:\s+completed \(exit 0\)/);
    const logs = await ml(['logs', logregTask], { env: envB });
    expect(logs.out).toContain('epoch');

    const again = await ml(['import', archive], { env: envB });
    expect(again.code).toBe(0);
    expect(again.out).toContain(`already imported task ${logregTask}`);
    expect(again.out).toContain('0 blobs uploaded');

    // The imported run verifies on its new server, and re-exports to the same files.
    const verify = await mlJson<ReproduceResult>(['reproduce', logregTask, '--verify'], {
      env: envB,
    });
    expect(verify.verify?.ok).toBe(true);
    // No worker on B: the reproduction stays queued, and has nothing recorded to reproduce.
    const queued = await ml(['reproduce', verify.reproduction.id], { env: envB });
    expect(queued.code).toBe(1);
    expect(queued.err).toContain(
      `task ${verify.reproduction.id} has no run manifest (it has not run yet): there are no recorded inputs to reproduce`,
    );
    // The export cannot be imported where the task ran.
    const home = await ml(['import', archive]);
    expect(home.code).toBe(1);
    expect(home.err).toContain(
      `task ${logregTask} already exists on this server (it ran here: nothing to import)`,
    );
    const none = await ml(['import', join(dir, 'nope.tar.gz')], { env: envB });
    expect(none.err).toContain('nope.tar.gz: no such file');
    const re = await mlJson<ArchiveSummary>(['export', logregTask, '-o', join(dir, 'from-b.tar')], {
      env: envB,
    });
    expect(re.snapshot_files).toBe(ex.snapshot_files);
    expect(re.artifacts).toBe(ex.artifacts);
  }, 60_000);

  it('a hostile archive is refused by name and nothing is written', async () => {
    const tasksBefore = (await b.deps.store.listTasks({ limit: 100 })).length;
    const blobsBefore: string[] = [];
    for await (const h of b.deps.blobs.list()) blobsBefore.push(h);
    const evil = join(dir, 'evil.tar');
    await writeTar(evil, [
      { header: { name: 'export.json', size: 2 }, data: Buffer.from('{}') },
      { header: { name: 'snapshot/files/x', type: 'symlink', linkname: '/etc/shadow' } },
    ]);
    const traversal = join(dir, 'traversal.tar');
    await writeTar(traversal, [
      { header: { name: '../../evil', size: 1 }, data: Buffer.from('x') },
    ]);
    for (const [file, message] of [
      [evil, 'refusing member "snapshot/files/x": symbolic links are not allowed'],
      [traversal, `refusing member "../../evil": contains a '..' segment`],
    ] as const) {
      const r = await ml(['import', file], { env: envB });
      expect(r.code).toBe(1);
      expect(r.err).toContain(message);
      const v = await ml(['--json', 'verify-export', file]);
      expect(JSON.parse(v.out)).toMatchObject({ error: { code: 'ML_ERR_ARCHIVE_HOSTILE' } });
    }
    const missing = await ml(['verify-export', join(dir, 'nope.tar')]);
    expect(missing.err).toContain('nope.tar: no such file');
    expect((await b.deps.store.listTasks({ limit: 100 })).length).toBe(tasksBefore);
    const blobsAfter: string[] = [];
    for await (const h of b.deps.blobs.list()) blobsAfter.push(h);
    expect(blobsAfter.sort()).toEqual(blobsBefore.sort());
  });
});
