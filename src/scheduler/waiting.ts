/**
 * @module scheduler/waiting
 * Why each queued task is still waiting: a pure function over the queued tasks in claim order and
 * the workers' capacities ({@link explainQueue}). `GET /v1/status` calls it; `ml status` shows it.
 *
 * It replays what the workers' claims would do next, the way the queue decides (queue/types.ts
 * "claim", "fits"): walking the queue in claim order, each task goes to the first live online
 * worker (by id) whose free room, free slots and labels fit it, and that room is taken. A task
 * that gets none is explained, first reason that holds:
 *
 * 1. no live worker at all → `no_live_worker` (or `workers_draining` when draining ones could run it);
 * 2. no live online worker offers its labels → `labels_unmatched`;
 * 3. none of those is big enough in total → `too_large` (each resource short, and the most offered);
 * 3b. every one big enough lacks its image (each container worker lists the images of queued tasks
 *    it lacks, `images_missing`, and never claims those: worker/images.ts) → `image_unavailable`,
 *    naming the image and how to provide it;
 * 4. one had room after its running tasks, but tasks ahead in the replay took it →
 *    `higher_priority_ahead` / `earlier_task_ahead`, naming the first such task;
 * 5. otherwise the room (or the concurrency) is held by running tasks → `workers_busy`.
 *
 * Quotas do not exist yet, so `quota` is never produced. Cost: O(tasks × workers), no IO.
 */
import { imageWaitReason } from '../core/image-wait.ts';
import type { ResourceShortfall, WaitReason } from '../core/schemas/status.ts';

/** What a job asks for. */
export interface Need {
  cpus: number;
  memory_mb: number;
  gpus: number;
}

/** A queued task, as the queue orders it. */
export interface QueuedJob {
  task_id: string;
  priority: number;
  resources: Need;
  labels: readonly string[];
  /** The container image it runs in (null or absent: none). */
  image?: string | null;
}

/** A worker's capacity as the server sees it. */
export interface WorkerCapacity {
  id: string;
  status: 'online' | 'draining' | 'offline';
  /** Not offline and heard from recently. */
  live: boolean;
  /** What it offers in total. */
  total: Need;
  /** What its running tasks hold. */
  held: Need;
  labels: readonly string[];
  /** Further tasks it may start (concurrency − running); null: no limit known. */
  freeSlots: number | null;
  /** Images of queued tasks it lacks: it claims none of those tasks (absent: none reported). */
  images_missing?: readonly string[];
  /** Its runtime (podman, docker, ...): which commands the image hint names. */
  runtime?: string;
}

const RESOURCES = ['cpus', 'memory_mb', 'gpus'] as const;

function fits(need: Need, room: Need): boolean {
  return need.cpus <= room.cpus && need.memory_mb <= room.memory_mb && need.gpus <= room.gpus;
}

function hasLabels(labels: readonly string[], offered: readonly string[]): boolean {
  return labels.every((l) => offered.includes(l));
}

function lacksImage(job: QueuedJob, w: WorkerCapacity): boolean {
  return job.image != null && w.images_missing?.includes(job.image) === true;
}

function minus(a: Need, b: Need): Need {
  return {
    // Round away float noise from fractional cpus (0.1 + 0.2), as worker/slots does.
    cpus: Math.round((a.cpus - b.cpus) * 1000) / 1000,
    memory_mb: a.memory_mb - b.memory_mb,
    gpus: a.gpus - b.gpus,
  };
}

function describeNeed(n: Need): string {
  return `${n.cpus} cpus, ${n.memory_mb} MiB, ${n.gpus} gpus`;
}

/** One simulated worker: the room left after running tasks and the replayed claims. */
interface Sim {
  w: WorkerCapacity;
  /** Room after its running tasks (before any replayed claim). */
  initial: Need;
  room: Need;
  slots: number;
  /** Replayed claims, in claim order. */
  taken: QueuedJob[];
}

/**
 * The reason each of `queued` (in claim order: highest priority first, then enqueue order) is
 * still waiting, in the same order. See the module doc for the rules.
 */
export function explainQueue(
  queued: readonly QueuedJob[],
  workers: readonly WorkerCapacity[],
): WaitReason[] {
  const sorted = [...workers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const online: Sim[] = sorted
    .filter((w) => w.live && w.status === 'online')
    .map((w) => {
      const initial = minus(w.total, w.held);
      return {
        w,
        initial,
        room: initial,
        slots: w.freeSlots ?? Number.POSITIVE_INFINITY,
        taken: [],
      };
    });
  const draining = sorted.filter((w) => w.live && w.status === 'draining');
  const silent = sorted.filter((w) => !w.live && w.status !== 'offline');

  return queued.map((job) => {
    const claimer = online.find(
      (s) =>
        s.slots > 0 &&
        hasLabels(job.labels, s.w.labels) &&
        fits(job.resources, s.room) &&
        !lacksImage(job, s.w),
    );
    if (claimer) {
      claimer.room = minus(claimer.room, job.resources);
      claimer.slots -= 1;
      claimer.taken.push(job);
      return {
        code: 'ready',
        message: `${claimer.w.id} has room: it starts at that worker's next claim`,
        workers: [claimer.w.id],
      };
    }
    return explainWaiting(job, online, draining, silent);
  });
}

function explainWaiting(
  job: QueuedJob,
  online: readonly Sim[],
  draining: readonly WorkerCapacity[],
  silent: readonly WorkerCapacity[],
): WaitReason {
  if (online.length === 0) {
    const couldRun = draining.filter(
      (w) => hasLabels(job.labels, w.labels) && fits(job.resources, w.total),
    );
    if (couldRun.length > 0) {
      return {
        code: 'workers_draining',
        message: `the only workers that could run it are stopping (${couldRun.map((w) => w.id).join(', ')}): start another (\`fetchml worker\`)`,
        workers: couldRun.map((w) => w.id),
      };
    }
    const hint =
      silent.length > 0 ? ` (${silent.map((w) => w.id).join(', ')} stopped answering)` : '';
    return {
      code: 'no_live_worker',
      message: `no worker is online${hint}: start one (\`fetchml up\` or \`fetchml worker\`)`,
    };
  }

  const labelled = online.filter((s) => hasLabels(job.labels, s.w.labels));
  if (labelled.length === 0) {
    const offered = new Set(online.flatMap((s) => s.w.labels));
    const missing = job.labels.filter((l) => !offered.has(l));
    const list = missing.length > 0 ? missing : [...job.labels];
    return {
      code: 'labels_unmatched',
      message:
        missing.length > 0
          ? `no online worker offers label${list.length === 1 ? '' : 's'} ${list.join(', ')}`
          : `no single online worker offers all of its labels (${list.join(', ')})`,
      missing_labels: list,
    };
  }

  const roomy = labelled.filter((s) => fits(job.resources, s.w.total));
  const bigEnough = roomy.filter((s) => !lacksImage(job, s.w));
  if (roomy.length > 0 && bigEnough.length === 0) {
    const missing = imageWaitReason(
      job.image ?? null,
      roomy.map((s) => ({ ...s.w, runtime: s.w.runtime ?? 'podman' })),
    );
    if (missing) return { code: 'image_unavailable', ...missing };
  }
  if (bigEnough.length === 0) {
    const short: ResourceShortfall[] = [];
    for (const r of RESOURCES) {
      const max = Math.max(...labelled.map((s) => s.w.total[r]));
      if (job.resources[r] > max) short.push({ resource: r, need: job.resources[r], max });
    }
    const what = short
      .map((s) =>
        s.resource === 'memory_mb'
          ? `${s.need} MiB of memory (the most any worker has: ${s.max} MiB)`
          : `${s.need} ${s.resource} (the most any worker has: ${s.max})`,
      )
      .join(', ');
    return {
      code: 'too_large',
      // Every resource fits some worker but no worker fits all of them at once.
      message:
        short.length > 0
          ? `it asks for ${what}: lower \`resources\` or add a bigger worker`
          : `no single worker has ${describeNeed(job.resources)} in total: lower \`resources\` or add a bigger worker`,
      short,
    };
  }

  const hadRoom = bigEnough.find((s) => s.taken.length > 0 && fits(job.resources, s.initial));
  if (hadRoom) {
    const blocker = hadRoom.taken[0]!;
    const higher = blocker.priority > job.priority;
    return {
      code: higher ? 'higher_priority_ahead' : 'earlier_task_ahead',
      message: higher
        ? `${blocker.task_id} (priority ${blocker.priority}) is ahead and takes the room on ${hadRoom.w.id}`
        : `${blocker.task_id}, queued earlier with the same priority, takes the room on ${hadRoom.w.id} first`,
      blocked_by: blocker.task_id,
      workers: [hadRoom.w.id],
    };
  }

  const busy = bigEnough.map((s) => s.w.id);
  const slotsFull = bigEnough.every((s) => s.slots <= 0);
  return {
    code: 'workers_busy',
    message: slotsFull
      ? `waiting for a free slot: ${busy.join(', ')} ${busy.length === 1 ? 'runs' : 'run'} as many tasks as ${busy.length === 1 ? 'it' : 'they'} may`
      : `waiting for ${describeNeed(job.resources)} to free up on ${busy.join(', ')} (held by running tasks)`,
    workers: busy,
  };
}
