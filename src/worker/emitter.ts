/**
 * @module worker/emitter
 * A tiny typed event emitter for the worker's lifecycle events. Not node:events: listeners are
 * typed per key, a throwing listener cannot break the worker (its error is swallowed), and there
 * is no special `error` semantics (an unobserved `error` event does not throw).
 */

type Listener<P> = (payload: P) => void;

/** Typed emitter over an event map `M` (event name → payload type). */
export class TypedEmitter<M extends object> {
  readonly #listeners = new Map<keyof M, Set<Listener<never>>>();

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof M>(event: K, listener: Listener<M[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Calls every listener of `event` synchronously; listener errors are ignored. */
  emit<K extends keyof M>(event: K, payload: M[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as Listener<M[K]>)(payload);
      } catch {
        // An observer's bug must never stop the worker.
      }
    }
  }
}
