/**
 * @module ops/commands/serve
 * `fetchml up`, `fetchml server`, `fetchml worker`: the long-running commands. `up` is the
 * quickstart's one command — server and worker in one process on the embedded defaults. Each
 * runs until SIGINT/SIGTERM; the first signal stops gracefully (running tasks are stopped and
 * re-queued), a second one forces. What they print for people goes to stdout as before; the same
 * events go to `<home>/logs/app.log` as JSON (`server/logging`, `--log-level`), and the server's
 * requests to `access.log`.
 */
import type { Command } from 'commander';
import { join } from 'node:path';

import type { ConfigFlag } from '../../config/index.ts';
import { writeJson } from '../../cli/shared/output.ts';
import { FetchmlError } from '../../core/errors.ts';
import { examples, packageVersion } from '../../cli/shared/program.ts';
import type { OpsContext } from '../context.ts';
import { openServerLogs, logDir } from '../../server/logging.ts';
import { startServices, type LogFields, type RunningServices } from '../services.ts';
import { waitForShutdown } from '../signals.ts';

interface ServeFlags {
  host?: string;
  port?: string;
  id?: string;
  runtime?: string;
  concurrency?: string;
  logLevel?: string;
}

const MIB = 1024 * 1024;
const LOG_LEVEL_HELP = 'trace, debug, info, warn, error or silent (logging.level)';

function configFlags(flags: ServeFlags): ConfigFlag[] {
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  return [
    { path: 'server.host', value: flags.host, flag: '--host' },
    { path: 'server.port', value: num(flags.port), flag: '--port' },
    { path: 'worker.id', value: flags.id, flag: '--id' },
    { path: 'worker.runtime', value: flags.runtime, flag: '--runtime' },
    { path: 'worker.concurrency', value: num(flags.concurrency), flag: '--concurrency' },
    { path: 'logging.level', value: flags.logLevel, flag: '--log-level' },
  ];
}

function banner(services: RunningServices, home: string): string[] {
  const lines: string[] = [];
  if (services.server) {
    lines.push(`fetchml server listening on ${services.url}`);
    lines.push(`  certificate sha256 ${services.server.fingerprint}`);
    for (const w of services.server.tlsWarnings) lines.push(`  warning: ${w}`);
    if (services.server.adminKey) {
      lines.push(`  admin API key (shown once; also in ${join(home, 'admin.key')}):`);
      lines.push(`    ${services.server.adminKey}`);
    } else {
      lines.push(`  admin API key: ${join(home, 'admin.key')}`);
    }
  }
  if (services.worker && services.runtime) {
    lines.push(
      `fetchml worker ${services.worker.id} on runtime ${services.runtime.name} (isolation: ${services.runtime.isolation})`,
    );
    for (const w of services.runtime.warnings) lines.push(`  warning: ${w}`);
    if (services.hostRuntime) {
      lines.push(`  tasks without an image run on runtime ${services.hostRuntime.name}`);
      for (const w of services.hostRuntime.warnings) lines.push(`  warning: ${w}`);
    }
  }
  lines.push(`base dir ${home}; Ctrl-C stops gracefully (running tasks are re-queued)`);
  return lines;
}

async function serve(
  ctx: OpsContext,
  cmd: Command,
  parts: { server: boolean; worker: boolean },
): Promise<void> {
  const flags = cmd.opts<ServeFlags>();
  const { config, warnings } = ctx.loadConfig(cmd, configFlags(flags));
  ctx.warn(warnings);
  const json = ctx.globals(cmd).json === true;
  const logs = openServerLogs({
    dir: logDir(config.home),
    level: config.logging.level,
    maxBytes: Math.floor(config.logging.max_size_mb * MIB),
    keep: config.logging.keep,
    access: parts.server,
  });
  const log = (line: string, fields: LogFields = {}) => {
    const at = new Date().toISOString();
    if (json) writeJson(ctx.io.stdout, { at, message: line });
    else ctx.io.stdout.write(`${at.slice(11, 19)} ${line}\n`);
    const { level = 'info', ...rest } = fields;
    logs.app[level](rest, line);
  };
  const shutdown = waitForShutdown();
  try {
    const services = await startServices(config, {
      ...parts,
      version: packageVersion(),
      log,
      logs,
    }).catch((err: unknown) => {
      logs.app.error({ err }, 'start failed');
      const code = (err as { code?: string }).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        const where = `${config.server.host}:${config.server.port}`;
        throw new FetchmlError(
          'ML_ERR_CONFIG_INVALID',
          code === 'EADDRINUSE'
            ? `${where} is already in use (another fetchml?); choose another with --port or server.port`
            : `cannot listen on ${where} (${code}); check server.host and server.port`,
          { cause: err, details: { field: 'server.port' } },
        );
      }
      throw err;
    });
    if (services.worker) {
      logs.app.info(
        { worker_id: services.worker.id, runtime: services.runtime?.name ?? null },
        'worker started',
      );
    }
    if (json) {
      writeJson(ctx.io.stdout, {
        url: services.url,
        fingerprint: services.server?.fingerprint ?? null,
        tls_warnings: services.server?.tlsWarnings ?? [],
        admin_key: services.server?.adminKey ?? null,
        worker_id: services.worker?.id ?? null,
        runtime: services.runtime?.name ?? null,
        home: config.home,
      });
    } else {
      ctx.io.stdout.write(`${banner(services, config.home).join('\n')}\n`);
    }
    const signal = await shutdown.requested;
    log(`${signal}: stopping (again to force)`);
    void shutdown.forced.then(() => {
      log('forcing stop');
      return services.stop({ force: true });
    });
    await services.stop();
    log('stopped');
  } finally {
    shutdown.dispose();
    await logs.close();
  }
}

/** Registers `up`, `server` and `worker`. */
export function registerServeCommands(program: Command, ctx: OpsContext): void {
  program
    .command('up')
    .description('run the server and a worker in one process on the embedded defaults')
    .option('--host <addr>', 'listen address (server.host)')
    .option('--port <n>', 'HTTPS port (server.port)')
    .option('--runtime <name>', 'auto, sandbox, process, podman or docker (worker.runtime)')
    .option('--concurrency <n>', 'jobs run at once (worker.concurrency)')
    .option('--log-level <level>', LOG_LEVEL_HELP)
    .addHelpText(
      'after',
      examples(
        'fetchml up',
        'FETCHML_HOME=/srv/fetchml fetchml up --port 9443 --runtime sandbox',
        'fetchml up --log-level debug   # JSON logs in <home>/logs/app.log and access.log',
      ),
    )
    .action((_o: unknown, cmd: Command) => serve(ctx, cmd, { server: true, worker: true }));

  program
    .command('server')
    .description('run the API server only (workers run apart with `fetchml worker`)')
    .option('--host <addr>', 'listen address (server.host)')
    .option('--port <n>', 'HTTPS port (server.port)')
    .option('--log-level <level>', LOG_LEVEL_HELP)
    .addHelpText(
      'after',
      examples('fetchml server --host 0.0.0.0', 'fetchml server --log-level warn'),
    )
    .action((_o: unknown, cmd: Command) => serve(ctx, cmd, { server: true, worker: false }));

  program
    .command('worker')
    .description('run a worker only; it shares the base dir and database with the server')
    .option('--id <id>', 'worker id, unique per worker (worker.id)')
    .option('--runtime <name>', 'auto, sandbox, process, podman or docker (worker.runtime)')
    .option('--concurrency <n>', 'jobs run at once (worker.concurrency)')
    .option('--log-level <level>', LOG_LEVEL_HELP)
    .addHelpText(
      'after',
      examples('fetchml worker --id gpu-box-1', 'fetchml worker --id w2 --runtime sandbox'),
    )
    .action((_o: unknown, cmd: Command) => serve(ctx, cmd, { server: false, worker: true }));
}
