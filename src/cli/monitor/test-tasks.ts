/**
 * @module cli/monitor/test-tasks
 * Task records for the monitor's pure tests (reducer, views): valid `Task` shapes with
 * predictable ids and times. Test-only.
 */
import type { Task } from './types.ts';

const SHA = 'a'.repeat(64);

/** Task number `n`: newer tasks have larger numbers (ids and times sort like the server's). */
export function fakeTask(n: number, over: Partial<Task> = {}): Task {
  const id = `task_01J${String(n).padStart(23, '0')}`;
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + n * 1000).toISOString();
  return {
    id,
    name: `exp-${n}`,
    user: n % 2 === 0 ? 'ana' : 'bob',
    status: 'queued',
    priority: 0,
    kind: 'batch',
    commit_id: SHA,
    spec: { name: `exp-${n}`, command: 'python3 train.py' } as Task['spec'],
    plan: {
      commit_id: SHA,
      experiment_manifest_sha256: SHA,
      deps: null,
      snapshot_id: SHA,
      datasets: [],
      resources: { cpus: 1, memory_mb: 512, gpus: 0 },
      image: { base: null, warmed_tag: null },
      command: ['python3', 'train.py'],
      args: [],
      env: {},
      network: 'none',
      timeout_s: null,
      kind: 'batch',
      repro_policy: 'strict',
    },
    plan_sha256: SHA,
    repro_policy: 'strict',
    trust_level: 'pinned',
    resources: { cpus: 1, memory_mb: 512, gpus: 0 },
    labels: [],
    attempt: 0,
    max_attempts: 3,
    worker_id: null,
    exit_code: null,
    error: null,
    cancel_requested: false,
    created_at: at,
    queued_at: at,
    started_at: null,
    ended_at: null,
    updated_at: at,
    ...over,
  };
}

/** Tasks `from`..`to` newest first, as the server lists them. */
export function fakeTasks(from: number, to: number): Task[] {
  const out: Task[] = [];
  for (let n = to; n >= from; n--) out.push(fakeTask(n));
  return out;
}
