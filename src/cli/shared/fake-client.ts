/**
 * @module cli/shared/fake-client
 * A scripted stand-in for the API client and task fixtures, for the commands' unit tests.
 * Test-only.
 */
import type { Task } from '../../core/schemas/task.ts';
import type { ClientFactory, ClientTarget, CliClient } from './deps.ts';

/** A task with every field set; `over` replaces some. */
export function fakeTask(over: Partial<Task> = {}): Task {
  const id = over.id ?? 'task_01JD3Q3Z4X6V8W9Y0A1B2C3D4E';
  return {
    id,
    name: 'demo',
    user: 'admin',
    status: 'queued',
    priority: 0,
    kind: 'batch',
    commit_id: 'a'.repeat(64),
    spec: {
      name: 'demo',
      command: 'python3 train.py',
      kind: 'batch',
      datasets: [],
      resources: { cpus: 1, memory: 1024, gpus: 0 },
      env: {},
      network: 'none',
      priority: 0,
      tracking: [],
      labels: [],
    },
    plan: {
      commit_id: 'a'.repeat(64),
      experiment_manifest_sha256: 'b'.repeat(64),
      deps: null,
      snapshot_id: 'a'.repeat(64),
      datasets: [],
      resources: { cpus: 1, memory_mb: 1024, gpus: 0 },
      image: { base: null, warmed_tag: null },
      command: ['python3', 'train.py'],
      args: [],
      env: {},
      network: 'none',
      timeout_s: null,
      kind: 'batch',
      repro_policy: 'strict',
    },
    plan_sha256: 'c'.repeat(64),
    repro_policy: 'strict',
    trust_level: 'verified',
    resources: { cpus: 1, memory_mb: 1024, gpus: 0 },
    labels: [],
    attempt: 0,
    max_attempts: 3,
    worker_id: null,
    exit_code: null,
    error: null,
    cancel_requested: false,
    created_at: '2026-01-01T00:00:00.000Z',
    queued_at: '2026-01-01T00:00:00.000Z',
    started_at: null,
    ended_at: null,
    updated_at: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

/** A factory returning `methods` as the client (missing methods throw), recording the targets. */
export function fakeFactory(
  methods: Partial<CliClient>,
): ClientFactory & { targets: ClientTarget[] } {
  const targets: ClientTarget[] = [];
  const factory = (target: ClientTarget) => {
    targets.push(target);
    const client = new Proxy(
      { url: target.url, fingerprint: target.fingerprint, close: async () => {}, ...methods },
      {
        get(obj, key: string) {
          if (key in obj) return (obj as Record<string, unknown>)[key];
          if (key === 'then') return undefined;
          return () => {
            throw new Error(`fake client: ${key} not scripted`);
          };
        },
      },
    );
    return Promise.resolve(client as unknown as CliClient);
  };
  return Object.assign(factory, { targets });
}
