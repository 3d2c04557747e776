import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { WsServerMessage, WsStatusEvent } from '../../core/schemas/api.ts';
import { StatusJson } from '../../core/schemas/status.ts';
import type { StatusResponse, WorkerView } from '../../core/schemas/status.ts';
import { main } from '../main.ts';
import { writeClientConfig } from '../shared/client-config.ts';
import type { CliClient } from '../shared/deps.ts';
import { fakeFactory, fakeTask } from '../shared/fake-client.ts';
import { testIo } from '../shared/test-io.ts';

const URL_ = 'https://127.0.0.1:9101';
const NOW = Date.parse('2026-01-01T01:00:00.000Z');
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetchml-cli-unit-'));
  env = { FETCHML_CLIENT_CONFIG: join(dir, 'client.json'), HOME: dir };
  writeClientConfig(env['FETCHML_CLIENT_CONFIG']!, {
    version: 1,
    default: URL_,
    servers: { [URL_]: { api_key: 'fml_stored', fingerprint: 'AA:BB' } },
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function run(args: string[], methods: Partial<CliClient>, cwd = dir) {
  const io = testIo(env, cwd);
  const factory = fakeFactory(methods);
  const code = await main(args, io, { clientFactory: factory, now: () => NOW });
  return { code, out: io.out(), err: io.err(), targets: factory.targets };
}

const t1 = fakeTask({ id: 'task_01JD3Q3Z4X6V8W9Y0A1B2C3D4E', name: 'alpha', priority: 5 });
const t2 = fakeTask({
  id: 'task_01JD3Q3Z4XAAAAAAAAAAAAAAAA',
  name: 'beta',
  status: 'failed',
  attempt: 1,
  exit_code: 3,
  started_at: '2026-01-01T00:10:00.000Z',
  ended_at: '2026-01-01T00:12:05.000Z',
});

describe('argument handling', () => {
  it('rejects bad flag values as usage errors (2) before connecting', async () => {
    for (const args of [
      ['queue', '--priority', 'high'],
      ['queue', '--memory', 'lots'],
      ['queue', '--timeout', 'soon'],
      ['status', '--status', 'done'],
      ['status', '--limit', '0'],
      ['logs'],
    ]) {
      const r = await run(args, {});
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.targets).toEqual([]);
    }
  });

  it('uses the stored server and key; FETCHML_API_KEY overrides the key', async () => {
    const whoami = () => Promise.resolve({ user: 'u', role: 'r', version: '1' });
    const r = await run(['whoami'], { whoami });
    expect(r.out).toBe(`u (role r) on ${URL_} (server 1)\n`);
    expect(r.targets).toEqual([{ url: URL_, apiKey: 'fml_stored', fingerprint: 'AA:BB' }]);
    env['FETCHML_API_KEY'] = 'fml_env';
    const e = await run(['whoami'], { whoami });
    delete env['FETCHML_API_KEY'];
    expect(e.targets[0]!.apiKey).toBe('fml_env');
  });

  it('tells the user to run ml init for an unknown server', async () => {
    const r = await run(['--server', 'https://elsewhere:9101', 'status'], {});
    expect(r.code).toBe(1);
    expect(r.err).toContain('run `ml init`');
  });

  it('queue outside a project points at ml init', async () => {
    const r = await run(['queue'], {});
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no fetchml.yaml .* run `ml init`/);
  });

  it('resolves task prefixes, listing the candidates when ambiguous', async () => {
    const listTasks = () => Promise.resolve({ tasks: [t1, t2] });
    const readLogs = (id: string) =>
      Promise.resolve({
        task_id: id,
        status: 'failed' as const,
        offset: 0,
        next_offset: 3,
        size: 3,
        text: `${id}\n`,
        eof: true,
        finished: true,
      });
    const one = await run(['logs', '01jd3q3z4x6v'], { listTasks, readLogs });
    expect(one).toMatchObject({ code: 0, out: `${t1.id}\n` });
    const many = await run(['logs', '01JD3Q3Z4X'], { listTasks, readLogs });
    expect(many.code).toBe(1);
    expect(many.err).toContain('matches 2 tasks');
    expect(many.err).toContain(t2.id);
    const none = await run(['logs', 'ZZZ'], { listTasks, readLogs });
    expect(none.err).toContain('no task matches');
  });
});

describe('output', () => {
  const worker = (over: Partial<WorkerView> = {}): WorkerView => ({
    id: 'worker_1',
    host: 'box',
    runtime: 'process',
    status: 'online',
    live: true,
    phase: 'running',
    version: '0.1.0',
    labels: [],
    resources: { cpus: 4, memory_mb: 8192, gpus: 1 },
    held: { cpus: 1, memory_mb: 1024, gpus: 1 },
    concurrency: 2,
    last_seen_at: '2026-01-01T00:59:59.000Z',
    last_seen_age_s: 1,
    tasks: [
      {
        task_id: 'task_01JD3Q3Z4XCCCCCCCCCCCCCCCC',
        attempt: 1,
        phase: 'running',
        since: '2026-01-01T00:55:00.000Z',
      },
    ],
    prewarm: {
      target_task_id: t1.id,
      phase: 'staging',
      dataset_count: 2,
      started_at: '2026-01-01T00:59:48.000Z',
    },
    ...over,
  });
  const reasons = {
    ready: 0,
    no_live_worker: 0,
    workers_draining: 0,
    labels_unmatched: 0,
    too_large: 0,
    image_unavailable: 0,
    workers_busy: 1,
    higher_priority_ahead: 0,
    earlier_task_ahead: 0,
    quota: 0,
  };
  const status = (): Promise<StatusResponse> =>
    Promise.resolve({
      schema_version: 1,
      version: '0.1.0',
      now: '2026-01-01T01:00:00.000Z',
      counts: { queued: 1, running: 1, completed: 0, failed: 1, cancelled: 0, dead: 1 },
      workers: [
        worker(),
        worker({
          id: 'worker_2',
          runtime: 'sandbox',
          status: 'online',
          live: false,
          phase: 'offline',
          last_seen_age_s: 300,
          tasks: [],
          prewarm: null,
        }),
      ],
      tasks: [t2, t1],
      recent: [t1, t2],
      queue: {
        total: 1,
        tasks: [
          {
            task_id: t1.id,
            name: 'alpha',
            user: 'ana',
            priority: 5,
            position: 1,
            resources: { cpus: 1, memory_mb: 1024, gpus: 1 },
            labels: [],
            attempt: 0,
            queued_at: '2026-01-01T00:30:00.000Z',
            reason: {
              code: 'workers_busy',
              message:
                'waiting for 1 cpus, 1024 MiB, 1 gpus to free up on worker_1 (held by running tasks)',
              workers: ['worker_1'],
            },
          },
        ],
        reasons,
      },
    });

  it('status prints the relevant tasks, counts, workers with phase and prewarm, the queue head and the isolation warning', async () => {
    const r = await run(['status'], { status });
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      'ID            NAME   STATUS  PRIO  ATTEMPT  AGE    DURATION  EXIT\n' +
        '01JD3Q3Z4XAA  beta   failed  0     1/3      1h00m  2m05s     3\n' +
        '01JD3Q3Z4X6V  alpha  queued  5     0/3      1h00m  -         -\n' +
        '\n' +
        'tasks: 1 queued, 1 running, 0 completed, 1 failed (1 dead: their worker stopped answering), 0 cancelled\n' +
        'workers: 1 live of 2\n' +
        '  worker_1  running (box, process): cpus 1/4, memory 1.0 GiB/8.0 GiB, gpus 1/1, 1/2 slots; seen 1.0s ago\n' +
        '    01JD3Q3Z4XCC  attempt 1, running for 5m00s\n' +
        '    prewarm: 01JD3Q3Z4X6V staging, 2 datasets, 12s old\n' +
        '  worker_2  offline (box, sandbox): stopped answering, last seen 5m00s ago\n' +
        'queue: 1 waiting (1 workers_busy)\n' +
        '  #1  01JD3Q3Z4X6V  alpha  prio 5  workers_busy: waiting for 1 cpus, 1024 MiB, 1 gpus to free up on worker_1 (held by running tasks)\n' +
        'warning: worker worker_1 uses the process runtime: jobs run WITHOUT isolation (install bubblewrap or podman)\n',
    );
    const failed = await run(['--json', 'status', '--status', 'failed'], {
      status,
      listTasks: () => Promise.resolve({ tasks: [t1, t2] }),
    });
    const json = JSON.parse(failed.out) as StatusJson;
    expect(json.tasks.map((t) => t.id)).toEqual([t2.id]);
    expect(Object.keys(json)).toEqual([
      'schema_version',
      'server',
      'version',
      'now',
      'counts',
      'workers',
      'tasks',
      'queue',
    ]);
    // The document is the published one (docs/status.schema.json is generated from StatusJson).
    expect(StatusJson.safeParse(json).success).toBe(true);
  });

  it('status --status queued lists the queue in claim order with position and reason', async () => {
    const r = await run(['status', '--status', 'queued'], {
      status,
      listTasks: () => Promise.resolve({ tasks: [t1] }),
    });
    expect(r.code).toBe(0);
    expect(r.out.split('\n').slice(0, 2)).toEqual([
      'POS  ID            NAME   PRIO  WAITING  WHY',
      '#1   01JD3Q3Z4X6V  alpha  5     30m00s   workers_busy: waiting for 1 cpus, 1024 MiB, 1 gpus to free up on worker_1 (held by running tasks)',
    ]);
    expect(r.out).toContain('queue: 1 waiting (1 workers_busy)\n');
    expect(r.out).not.toContain('more: ml status');
  });

  it('cancel reports each outcome and fails when one fails', async () => {
    const cancelTask = (id: string) =>
      id === t1.id
        ? Promise.resolve({ task_id: id, outcome: 'removed' as const, task: t1 })
        : Promise.resolve({ task_id: id, outcome: 'already_finished' as const, task: t2 });
    const r = await run(['cancel', t1.id, t2.id], { cancelTask });
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `${t1.id}: cancelled (removed from the queue)\n${t2.id}: already finished (failed)\n`,
    );
    const bad = await run(['--json', 'cancel', t1.id, 'not-an-id!'], { cancelTask });
    expect(bad.code).toBe(1);
    const json = JSON.parse(bad.out) as { error?: { code: string } }[];
    expect(json[1]!.error!.code).toBe('ML_ERR_VALIDATION');
  });

  it('logs -f streams the log and exits with the task exit code', async () => {
    const statusEvent = (status: string, exit: number | null): WsStatusEvent => ({
      type: 'task.status',
      task_id: t1.id,
      status,
      attempt: 1,
      exit_code: exit,
      at: '2026-01-01T00:00:00.000Z',
    });
    const subscribe = (id: string, _o: unknown, on: (m: WsServerMessage) => void) => {
      on(statusEvent('running', null));
      on({
        type: 'task.log',
        task_id: id,
        stream: 'stdout',
        offset: 0,
        text: 'step 1\n',
        at: '2026-01-01T00:00:00.000Z',
      });
      const final = statusEvent('failed', 7);
      on(final);
      return { done: Promise.resolve(final), logOffset: 7, close() {} };
    };
    const r = await run(['logs', '-f', t1.id], { subscribe });
    expect(r.code).toBe(7);
    expect(r.out).toBe('step 1\n');
    expect(r.err).toContain(`${t1.id} failed (exit 7)`);
  });

  it('queue sends flags as overrides and prints only the id on stdout', async () => {
    const proj = join(dir, 'proj');
    await mkdir(proj, { recursive: true });
    await writeFile(join(proj, 'fetchml.yaml'), 'name: proj\ncommand: python3 train.py\n');
    await writeFile(join(proj, 'train.py'), 'print(1)\n');
    const sent: unknown[] = [];
    const r = await run(
      [
        'queue',
        '--cpus',
        '2',
        '--memory',
        '4g',
        '--timeout',
        '1h',
        '--name',
        'x1',
        '--',
        'a',
        '--b',
      ],
      {
        missingBlobs: (h: readonly string[]) => Promise.resolve([...h]),
        uploadBlobs: () => Promise.resolve({ blobs: 2, bytes: 30 }),
        createCommit: () => Promise.resolve({ commit_id: 'd'.repeat(64), missing: [] }),
        createTask: (req) => {
          sent.push(req);
          return Promise.resolve(t1);
        },
      },
      proj,
    );
    expect(r.err).toContain('queued alpha');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${t1.id}\n`);
    expect(sent[0]).toMatchObject({
      commit_id: 'd'.repeat(64),
      args: ['a', '--b'],
      resources: { cpus: 2, memory_mb: 4096 },
      timeout_s: 3600,
      spec: { name: 'x1', command: 'python3 train.py' },
    });
  });
});
