/**
 * @module cli/watch/debounce
 * Runs a task once things have been quiet for a while, one run at a time: `trigger()` (re)starts
 * the quiet period; when it ends the task runs; triggers that arrive while it runs schedule one more
 * run after it (never two at once, never a lost change). A burst of saves, or an editor's
 * write-temp-then-rename, thus becomes one run.
 */

export class Debouncer {
  readonly #ms: number;
  readonly #task: () => Promise<void>;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #dirty = false;
  #stopped = false;

  constructor(ms: number, task: () => Promise<void>) {
    this.#ms = ms;
    this.#task = task;
  }

  /** Something changed: (re)start the quiet period. */
  trigger(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#dirty = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#fire(), this.#ms);
  }

  /** Something may have changed (a poll): run once soon, without postponing a pending run. */
  poke(): void {
    if (this.#stopped || this.#running || this.#timer) return;
    this.#timer = setTimeout(() => this.#fire(), this.#ms);
  }

  /** Whether a run is in progress. */
  get running(): boolean {
    return this.#running !== null;
  }

  #fire(): void {
    this.#timer = null;
    if (this.#stopped) return;
    this.#running = this.#task().finally(() => {
      this.#running = null;
      if (this.#dirty && !this.#stopped) {
        this.#dirty = false;
        this.trigger();
      }
    });
  }

  /** No more runs; settles when the one in progress (if any) has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
