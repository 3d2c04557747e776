/**
 * @module worker/slots
 * Resource accounting of one worker: what it offers in total, what its running tasks hold, and
 * which GPU indices are handed out. A claim offers the queue only the free part, so a worker never
 * runs more than it has; GPUs are assigned as specific indices (the first free ones), which the
 * runtime exposes to the job and the manifest records.
 */
import type { JobResources } from '../queue/types.ts';

/** What a running task holds. */
interface Held extends JobResources {
  gpuIndices: number[];
}

/** Tracks held resources per task id. */
export class Slots {
  readonly #total: JobResources;
  readonly #gpuIndices: readonly number[];
  readonly #held = new Map<string, Held>();

  constructor(total: JobResources, gpuIndices?: readonly number[]) {
    this.#total = total;
    this.#gpuIndices = gpuIndices ?? Array.from({ length: total.gpus }, (_, i) => i);
  }

  /** Total minus held (GPUs: only indices not handed out, capped by the total count). */
  free(): JobResources {
    let cpus = this.#total.cpus;
    let memory = this.#total.memory_mb;
    let gpus = this.#total.gpus;
    for (const h of this.#held.values()) {
      cpus -= h.cpus;
      memory -= h.memory_mb;
      gpus -= h.gpus;
    }
    const gpuFree = Math.min(gpus, this.#freeGpuIndices().length);
    // Round away float noise from fractional cpus (0.1 + 0.2).
    return {
      cpus: Math.max(0, Math.round(cpus * 1000) / 1000),
      memory_mb: Math.max(0, memory),
      gpus: Math.max(0, gpuFree),
    };
  }

  #freeGpuIndices(): number[] {
    const used = new Set([...this.#held.values()].flatMap((h) => h.gpuIndices));
    return this.#gpuIndices.filter((i) => !used.has(i));
  }

  /** Holds `res` for `taskId`; returns the GPU indices assigned (the first free ones). */
  reserve(taskId: string, res: JobResources): number[] {
    const gpuIndices = this.#freeGpuIndices().slice(0, res.gpus);
    this.#held.set(taskId, { ...res, gpuIndices });
    return gpuIndices;
  }

  /** Gives back what `taskId` held. */
  release(taskId: string): void {
    this.#held.delete(taskId);
  }

  /** Tasks holding resources. */
  get size(): number {
    return this.#held.size;
  }
}
