/**
 * @module worker/images
 * The image gate: a container worker claims only tasks whose image it has, so a task whose image
 * is missing is never claimed (attempt 0, no lease) instead of failing on whichever worker picks
 * it up first.
 *
 * Why this design, with several workers: availability is a fact about one worker's host, so each
 * worker checks for itself and the queue does the filtering atomically. Before every claim the
 * worker asks the queue which images queued tasks name ({@link JobQueue.queuedImages}), resolves
 * each on its own engine (`podman image inspect`: a present image is trusted for a minute by the
 * runtime, a missing one is asked again after `recheckMs`), and claims with `images` = the ones it
 * has. The queue skips entries naming any other image in the same statement that leases, so no
 * worker ever holds a task it cannot start, a worker that has the image takes it, and a task that
 * no worker can run simply waits. A task queued between the listing and the claim names an image
 * the claim does not list yet: it is skipped this round and checked at the next.
 *
 * What the user sees: each worker advertises the images it lacks in its store record
 * (`images_missing`, refreshed at once when the set changes); a queued task whose image every live
 * worker lacks is shown by `ml status` as waiting for its image (core/image-wait.ts), naming the
 * image and how to provide it. Loading the image (`podman load`/`pull`/`build -t`) on any worker
 * host is enough: that worker sees it within `recheckMs` and claims the task.
 *
 * The check after the claim (worker/execute.ts) stays: an image removed between the check and the
 * run still fails that attempt with ML_ERR_IMAGE_UNAVAILABLE, saying how to provide it.
 */
import { coerceError } from '../core/errors.ts';
import type { FetchmlError } from '../core/errors.ts';
import type { JobQueue } from '../queue/types.ts';
import type { Runtime } from '../runtime/types.ts';

/** How long a missing image stays missing before the engine is asked again, ms. */
export const DEFAULT_IMAGE_RECHECK_MS = 5_000;

/** What one refresh found. */
export interface ImageCheck {
  /** Images of queued tasks this worker has: the claim's `images` list. */
  present: string[];
  /**
   * Images of queued tasks this worker does not have (sorted). An image whose check failed (the
   * engine erred) is in neither list: it is not claimed, nor advertised as missing.
   */
  missing: string[];
  /** Whether `missing` differs from the previous refresh (the worker record should be rewritten). */
  changed: boolean;
}

/** present: the engine has it; missing: the engine says no such image; failed: the check failed. */
type Availability = 'present' | 'missing' | 'failed';

interface Known {
  state: Availability;
  /** performance.now() of the check. */
  at: number;
}

/** Options of {@link ImageGate}. */
export interface ImageGateOptions {
  /** @default DEFAULT_IMAGE_RECHECK_MS */
  recheckMs?: number;
  /** A check that failed for another reason than a missing image (the image is not claimed). */
  onError?: (error: FetchmlError, image: string) => void;
}

/** Which queued images this worker can start; see the module doc. */
export class ImageGate {
  readonly #runtime: Runtime & Required<Pick<Runtime, 'resolveImage'>>;
  readonly #recheckMs: number;
  readonly #onError: ImageGateOptions['onError'];
  readonly #known = new Map<string, Known>();
  #missing: string[] = [];

  /** A gate for `runtime`, or null when the runtime does not run images (sandbox, process). */
  static for(runtime: Runtime, options: ImageGateOptions = {}): ImageGate | null {
    return runtime.resolveImage ? new ImageGate(runtime, options) : null;
  }

  private constructor(runtime: Runtime, options: ImageGateOptions) {
    this.#runtime = runtime as Runtime & Required<Pick<Runtime, 'resolveImage'>>;
    this.#recheckMs = options.recheckMs ?? DEFAULT_IMAGE_RECHECK_MS;
    this.#onError = options.onError;
  }

  /** The images of queued tasks this worker lacks, as of the last refresh (sorted). */
  missing(): string[] {
    return [...this.#missing];
  }

  /** Asks the queue which images are wanted and checks the ones not known recently. */
  async refresh(queue: JobQueue): Promise<ImageCheck> {
    const wanted = await queue.queuedImages();
    for (const image of this.#known.keys()) {
      if (!wanted.includes(image)) this.#known.delete(image);
    }
    const present: string[] = [];
    const missing: string[] = [];
    for (const image of wanted) {
      const known = this.#known.get(image);
      let state: Availability;
      if (known && known.state !== 'present' && performance.now() - known.at < this.#recheckMs) {
        state = known.state;
      } else {
        // A present image is asked every time: the runtime answers from its own short cache.
        state = await this.#check(image);
        this.#known.set(image, { state, at: performance.now() });
      }
      if (state === 'present') present.push(image);
      else if (state === 'missing') missing.push(image);
    }
    missing.sort();
    const changed = missing.join('\n') !== this.#missing.join('\n');
    this.#missing = missing;
    return { present, missing, changed };
  }

  async #check(image: string): Promise<Availability> {
    try {
      await this.#runtime.resolveImage(image);
      return 'present';
    } catch (err) {
      const e = coerceError(err);
      if (e.code === 'ML_ERR_IMAGE_UNAVAILABLE') return 'missing';
      this.#onError?.(e, image);
      return 'failed';
    }
  }
}
