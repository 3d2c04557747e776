/**
 * @module snapshot/pool
 * A small worker_threads pool that hashes batches of files, so hashing uses every core while the
 * main thread keeps walking. Batches of paths amortise the message cost; each worker has at most
 * {@link IN_FLIGHT} batches queued so the pool balances itself: a worker busy on a 100 MB file
 * does not collect the small files another could take. Answers are compact (one hex string, one
 * Float64Array of stat data, one status byte per file) so that posting them costs little.
 *
 * Workers run {@link HASH_FILE_SOURCE} from text (`eval: true`), which works the same from the
 * compiled `dist/` and from TypeScript sources under vitest.
 */
import { Worker } from 'node:worker_threads';

import { FetchmlError } from '../core/errors.ts';
import { HASH_FILE_SOURCE } from './hash-file.ts';

/**
 * A worker's answer for a batch of paths (see `HASH_FILE_SOURCE`): `hex` holds 64 characters per
 * path, `stat` `STAT_FIELDS` numbers per path, `codes` one `HASH_*` status per path, and `errors`
 * `[index, message, code]` triples for the paths whose status is `HASH_ERROR`.
 */
export interface HashAnswer {
  hex: string;
  stat: Float64Array;
  codes: Uint8Array;
  errors: (number | string)[];
}

interface Batch {
  id: number;
  paths: string[];
  done: (out: HashAnswer) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Batch>;
}

const IN_FLIGHT = 2;

/** A pool of hashing workers. Always `close()` it (in a `finally`). */
export class HashPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Batch[] = [];
  private nextId = 0;
  private failure: Error | null = null;
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  /** Starts `size` workers (at least one). */
  constructor(size: number) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = new Worker(HASH_FILE_SOURCE, { eval: true });
      const slot: Slot = { worker, inFlight: new Map() };
      worker.on('message', (msg: HashAnswer & { id: number }) => this.onResult(slot, msg));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (slot.inFlight.size > 0) {
          this.fail(new FetchmlError('ML_ERR_INTERNAL', `hash worker exited with code ${code}`));
        }
      });
      this.slots.push(slot);
    }
  }

  /** Number of batches submitted and not yet answered. */
  get pending(): number {
    let n = this.queue.length;
    for (const s of this.slots) n += s.inFlight.size;
    return n;
  }

  /** Queues one batch of absolute paths; `done` is called (in the main thread) with the answer. */
  submit(paths: string[], done: (out: HashAnswer) => void): void {
    this.queue.push({ id: this.nextId++, paths, done });
    this.dispatch();
  }

  /** Resolves when every submitted batch is answered; rejects if a worker failed. */
  idle(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let best: Slot | null = null;
      for (const s of this.slots) {
        if (s.inFlight.size < IN_FLIGHT && (!best || s.inFlight.size < best.inFlight.size))
          best = s;
      }
      if (!best) return;
      const batch = this.queue.shift() as Batch;
      best.inFlight.set(batch.id, batch);
      best.worker.postMessage({ id: batch.id, paths: batch.paths });
    }
  }

  private onResult(slot: Slot, msg: HashAnswer & { id: number }): void {
    const batch = slot.inFlight.get(msg.id);
    if (!batch) return;
    slot.inFlight.delete(msg.id);
    this.dispatch();
    try {
      batch.done(msg);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.pending === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.resolve();
    }
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(this.failure);
  }
}
