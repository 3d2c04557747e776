/**
 * @module runtime/oci/run-container
 * Runs one `podman run` / `docker run` in the foreground and watches it to the end: streams the
 * job's output as it arrives (the engine client is attached), enforces the timeout, honours cancel,
 * and always leaves no container behind.
 *
 * Stopping goes through the engine, never by signalling the client: killing the client would
 * leave the container running. Stop = `<engine> kill --signal TERM <name>` (the container's init
 * forwards it to the job), then after the grace period `<engine> kill --signal KILL <name>` — the
 * same as `podman stop -t <grace>` but with millisecond grace. A stop that arrives while the
 * container is still being created is retried until it exists or the client exits. After the run,
 * a container that may have survived (stopped, or a client that died) is removed with `rm -f`;
 * a normal exit needs nothing (`--rm`).
 */
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';

import type { RunSpec } from '../types.ts';
import { runCli } from './cli.ts';

/** Inputs of {@link runContainer}. */
export interface ContainerRunArgs {
  bin: string;
  /** `run ...` arguments (./args.ts). */
  args: string[];
  /** The engine client's environment. */
  env: Record<string, string>;
  /** Container name (for kill/rm). */
  name: string;
  /** `rm` arguments that remove the named container at once (`rm -f [-t 0] NAME`). */
  rmArgs: string[];
  spec: Pick<RunSpec, 'timeoutMs' | 'signal' | 'onOutput'>;
  killGraceMs: number;
}

/** What happened, before interpretation (./oci-runtime.ts). */
export interface ContainerOutcome {
  /** Exit code of the client: the job's code, or the engine's own (125-127). */
  code: number | null;
  stoppedFor: 'timeout' | 'cancelled' | null;
  /** The client could not be started at all. */
  spawnError: Error | null;
  durationMs: number;
  /** Last bytes of stderr (engine errors, init errors). */
  stderrTail: string;
}

const TAIL_BYTES = 8192;
const DRAIN_MS = 1000;
/** How long after the KILL a client that still has not exited is given before it is killed. */
const CLIENT_KILL_AFTER_MS = 10_000;

/** Runs the container to completion. Never rejects for job failures. */
export async function runContainer(a: ContainerRunArgs): Promise<ContainerOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const base = { spawnError: null, stderrTail: '' };
  if (a.spec.signal.aborted) {
    return { ...base, code: null, stoppedFor: 'cancelled', durationMs: 0 };
  }
  let stoppedFor: ContainerOutcome['stoppedFor'] = null;
  let exited = false;
  let tail = '';
  const timers: NodeJS.Timeout[] = [];

  const child = spawn(a.bin, a.args, { env: a.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const forward = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    if (stream === 'stderr') tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
    try {
      a.spec.onOutput(stream, chunk);
    } catch {
      // A failing consumer must not stop the supervision.
    }
  };
  child.stdout.on('data', forward('stdout'));
  child.stderr.on('data', forward('stderr'));

  /** Sends `sig` to the container, retrying while it may not exist yet. */
  const killContainer = async (sig: 'TERM' | 'KILL', deadlineMs: number) => {
    while (!exited && performance.now() < deadlineMs) {
      const r = await runCli(a.bin, ['kill', '--signal', sig, a.name], a.env, 10_000);
      if (r.code === 0) return;
      await delay(100);
    }
  };

  const stop = (why: 'timeout' | 'cancelled') => {
    if (exited || stoppedFor !== null) return;
    stoppedFor = why;
    const killAt = performance.now() + a.killGraceMs;
    void killContainer('TERM', killAt);
    timers.push(
      setTimeout(() => {
        void killContainer('KILL', performance.now() + CLIENT_KILL_AFTER_MS);
      }, a.killGraceMs),
      setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, a.killGraceMs + CLIENT_KILL_AFTER_MS),
    );
  };
  const onAbort = () => stop('cancelled');
  a.spec.signal.addEventListener('abort', onAbort, { once: true });
  if (a.spec.timeoutMs !== null && a.spec.timeoutMs >= 0) {
    timers.push(setTimeout(() => stop('timeout'), a.spec.timeoutMs));
  }

  const outcome = await new Promise<Omit<ContainerOutcome, 'stoppedFor' | 'stderrTail'>>(
    (resolve) => {
      child.once('error', (err) => {
        if (exited) return;
        exited = true;
        resolve({ code: null, spawnError: err, durationMs: elapsed() });
      });
      child.once('exit', (code) => {
        if (exited) return;
        exited = true;
        const result = { code, spawnError: null, durationMs: elapsed() };
        const drain = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          resolve(result);
        }, DRAIN_MS);
        let open = 2;
        const closed = () => {
          if (--open > 0) return;
          clearTimeout(drain);
          resolve(result);
        };
        for (const s of [child.stdout, child.stderr]) {
          if (s.closed) closed();
          else s.once('close', closed);
        }
      });
    },
  );
  for (const t of timers) clearTimeout(t);
  a.spec.signal.removeEventListener('abort', onAbort);
  if (outcome.spawnError === null && (stoppedFor !== null || outcome.code === null)) {
    // The client was stopped or died: make sure the container is gone too.
    await runCli(a.bin, a.rmArgs, a.env, 30_000);
  }
  return { ...outcome, stoppedFor, stderrTail: tail };
}
