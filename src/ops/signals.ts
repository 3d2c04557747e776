/**
 * @module ops/signals
 * Waiting for Ctrl-C / SIGTERM / SIGHUP (the terminal closed) in the long-running commands (`up`, `server`, `worker`). The first
 * signal asks for a graceful stop; a second one while stopping asks to force it. Handlers are
 * registered once per wait and removed afterwards, so nothing leaks into tests or other commands.
 */

export interface ShutdownSignal {
  /** Resolves with the signal name at the first SIGINT/SIGTERM (or when `trigger` is called). */
  readonly requested: Promise<string>;
  /** Resolves at a second signal. */
  readonly forced: Promise<string>;
  /** Requests shutdown programmatically. */
  trigger(reason: string): void;
  /** Removes the handlers. */
  dispose(): void;
}

export function waitForShutdown(
  signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'],
): ShutdownSignal {
  let count = 0;
  let resolveFirst!: (s: string) => void;
  let resolveSecond!: (s: string) => void;
  const requested = new Promise<string>((r) => (resolveFirst = r));
  const forced = new Promise<string>((r) => (resolveSecond = r));
  const onSignal = (name: string) => {
    count += 1;
    if (count === 1) resolveFirst(name);
    else resolveSecond(name);
  };
  for (const s of signals) process.on(s, onSignal);
  return {
    requested,
    forced,
    trigger: onSignal,
    dispose() {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}
