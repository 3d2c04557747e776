/**
 * @module cli/commands/watch
 * `ml watch`: syncs the project whenever it changes, through the same code path as `ml sync`
 * (snapshot with the stat cache, upload of what the server lacks), after the tree has been quiet
 * for `--debounce` ms — a burst of saves or an editor's write-temp-then-rename is one sync. With
 * `--queue`, every sync that produced a new commit also submits it like `ml queue` (fetchml.yaml is
 * re-read each time). The first sync records the starting point and queues nothing.
 *
 * The tree is watched directory by directory, ignored directories not at all (cli/watch); when the
 * system runs out of watchers it says so and polls instead. Ctrl-C (SIGINT) or SIGTERM stops
 * watching and lets a sync in progress finish (exit 130 after SIGINT, 0 after SIGTERM); a second
 * signal aborts it (exit 130). A failed sync is reported and retried at the next change.
 */
import type { Command } from 'commander';

import { coerceError, ExitError } from '../../core/errors.ts';
import type { ExperimentSpec } from '../../core/schemas/spec.ts';
import { formatBytes } from '../../core/units.ts';
import { connect } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CliClient, CommandDeps } from '../shared/deps.ts';
import { formatDuration, shortId } from '../shared/format.ts';
import { examples } from '../shared/program.ts';
import { findProjectRoot, loadSpec, requireProjectRoot } from '../shared/project.ts';
import type { WatchFn } from '../watch/tree-watcher.ts';
import { intFlag } from './flags.ts';
import { buildTaskRequest } from './queue.ts';
import type { SyncResult } from './sync.ts';
import { syncProject } from './sync.ts';

/** Options of {@link runWatch}. */
export interface WatchOptions {
  queue?: boolean;
  priority?: number;
  /** Quiet period before a sync, ms. */
  debounce?: number;
  /** Polling period when watchers run out, ms. */
  poll?: number;
  json?: boolean;
  server?: string;
}

/** How the watch is told to stop: the first signal stops, a second one aborts. */
export interface StopSource {
  requested: Promise<string>;
  forced: Promise<string>;
  dispose(): void;
}

/** Stop requests from the process's SIGINT, SIGTERM and SIGHUP. */
export function processStopSource(): StopSource {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let count = 0;
  let first!: (s: string) => void;
  let second!: (s: string) => void;
  const requested = new Promise<string>((r) => (first = r));
  const forced = new Promise<string>((r) => (second = r));
  const on = (s: NodeJS.Signals) => {
    count += 1;
    if (count === 1) first(s);
    else second(s);
  };
  for (const s of signals) process.on(s, on);
  return { requested, forced, dispose: () => signals.forEach((s) => process.off(s, on)) };
}

/** What a watch did (counted for tests and the closing line). */
export interface WatchStats {
  syncs: number;
  queued: number;
  errors: number;
}

function line(deps: CommandDeps, json: boolean | undefined, event: object, text: string): void {
  if (json) deps.io.stdout.write(`${JSON.stringify(event)}\n`);
  else deps.io.stdout.write(`${text}\n`);
}

function describe(r: SyncResult, changed: boolean): string {
  const what = changed
    ? `synced ${r.commit_id.slice(0, 12)}`
    : `no change (${r.commit_id.slice(0, 12)})`;
  return (
    `${what}: ${r.files} files, ${r.new_blobs} new blobs (${formatBytes(r.uploaded_bytes)}), ` +
    `${r.hashed} hashed, ${formatDuration(r.ms)}`
  );
}

/** Runs `ml watch` until `stop`; returns the exit code (0, or 130 after SIGINT or a forced stop). */
export async function runWatch(
  deps: CommandDeps,
  opts: WatchOptions,
  args: readonly string[],
  stop: StopSource,
  onStats?: (stats: WatchStats) => void,
  watchFn?: WatchFn,
): Promise<number> {
  const root = opts.queue ? requireProjectRoot(deps.cwd) : (findProjectRoot(deps.cwd) ?? deps.cwd);
  // Invalid fetchml.yaml stops `--queue` before anything is watched.
  if (opts.queue) await loadSpec(root);
  // Loaded here, not at start-up: the watcher brings the ignore rules (`ignore`), which
  // `ml --help` and the other commands do not need.
  const [{ Debouncer }, { TreeWatcher }] = await Promise.all([
    import('../watch/debounce.ts'),
    import('../watch/tree-watcher.ts'),
  ]);
  const stats: WatchStats = { syncs: 0, queued: 0, errors: 0 };
  const abort = new AbortController();
  const client: CliClient = await connect(deps, opts.server);
  let last: string | null = null;

  const syncOnce = async (first: boolean): Promise<void> => {
    try {
      const r = await syncProject(deps, client, { root, json: opts.json, signal: abort.signal });
      const changed = r.commit_id !== last;
      last = r.commit_id;
      stats.syncs += 1;
      line(deps, opts.json, { event: 'sync', changed, ...r }, describe(r, changed));
      if (opts.queue && changed && !first) {
        const spec: ExperimentSpec = await loadSpec(root);
        const task = await client.createTask(
          buildTaskRequest(r.commit_id, spec, { priority: opts.priority }, args),
        );
        stats.queued += 1;
        line(
          deps,
          opts.json,
          { event: 'queued', task_id: task.id, commit_id: r.commit_id },
          `queued ${task.name} as ${task.id} (priority ${task.priority}); follow it: ml logs -f ${shortId(task.id)}`,
        );
      }
    } catch (err) {
      if (abort.signal.aborted) return;
      if (first) throw err; // cannot start: unreachable server, refused key, broken tree
      stats.errors += 1;
      const e = coerceError(err);
      if (opts.json) line(deps, true, { event: 'error', code: e.code, message: e.message }, '');
      else deps.io.stderr.write(`error: ${e.message} (retrying at the next change)\n`);
    } finally {
      onStats?.({ ...stats });
    }
  };

  let polling = false;
  /** A change (or a poll): while polling, a tree that still has the last commit costs no request. */
  const onQuiet = async (): Promise<void> => {
    if (polling && last !== null) {
      const { snapshotTree } = await import('../../snapshot/index.ts');
      try {
        if ((await snapshotTree(root)).commitId === last) return;
      } catch {
        // let the sync report it
      }
    }
    await syncOnce(false);
  };
  const debouncer = new Debouncer(opts.debounce ?? 300, onQuiet);
  let poll: NodeJS.Timeout | null = null;
  const startPolling = () => {
    polling = true;
    poll ??= setInterval(() => debouncer.poke(), opts.poll ?? 2000);
  };
  const watcher = new TreeWatcher(root, {
    onChange: () => debouncer.trigger(),
    onExhausted: (message) => {
      deps.io.stderr.write(`warning: ${message}\n`);
      startPolling();
    },
    ...(watchFn ? { watch: watchFn } : {}),
  });
  try {
    await syncOnce(true);
    if (watcher.start()) {
      deps.io.stderr.write(
        `watching ${root} (${watcher.directories} directories); changes sync after ` +
          `${opts.debounce ?? 300} ms of quiet${opts.queue ? ' and are queued' : ''}; Ctrl-C stops\n`,
      );
    }
    const signal = await stop.requested;
    watcher.close();
    if (poll) clearInterval(poll);
    if (debouncer.running) {
      deps.io.stderr.write('stopping after the sync in progress (again to abort it)\n');
    }
    const forced = await Promise.race([
      debouncer.stop().then(() => false),
      stop.forced.then(() => true),
    ]);
    if (forced) {
      abort.abort();
      deps.io.stderr.write('aborted the sync in progress\n');
      return 130;
    }
    deps.io.stderr.write(
      `stopped: ${stats.syncs} syncs, ${stats.queued} queued, ${stats.errors} failed\n`,
    );
    return signal === 'SIGINT' ? 130 : 0;
  } finally {
    watcher.close();
    if (poll) clearInterval(poll);
    await client.close();
  }
}

/** Registers `ml watch`. */
export function registerWatch(program: Command, ctx: CliContext): void {
  program
    .command('watch')
    .description('sync the project whenever it changes; with --queue also submit each new commit')
    .argument('[args...]', 'with --queue: extra arguments appended to the command (after --)')
    .option('--queue', 'submit each new commit as a task (like ml queue); not the first one')
    .option('--priority <n>', 'with --queue: task priority (-1000..1000)', intFlag(-1000, 1000))
    .option('--debounce <ms>', 'quiet period before a sync', intFlag(20, 60_000), 300)
    .option(
      '--poll <ms>',
      'how often to look for changes when the system has no file watchers left',
      intFlag(200, 3_600_000),
      2000,
    )
    .addHelpText(
      'after',
      examples(
        'ml watch',
        'ml watch --queue --priority 5 -- --epochs 1',
        'ml watch --json | jq -c "select(.event == \\"queued\\")"',
      ) +
        '\nOutput: one line per sync (and per queued task) on stdout; with --json one JSON object per\n' +
        'line ({"event": "sync" | "queued" | "error", ...}).\n' +
        'Exit codes: 130 after Ctrl-C (SIGINT), 0 after SIGTERM; 1 when it cannot start.\n',
    )
    .action(async (args: string[], opts: WatchOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      const stop = processStopSource();
      try {
        const code = await runWatch(
          ctx.deps(),
          { ...opts, json: g.json, ...(g.server ? { server: g.server } : {}) },
          args,
          stop,
        );
        if (code !== 0) throw new ExitError(code);
      } finally {
        stop.dispose();
      }
    });
}
