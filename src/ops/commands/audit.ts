/**
 * @module ops/commands/audit
 * `fetchml audit verify`: checks `<home>/logs/audit.log` (or `--file`) end to end — each entry
 * against its hash, each link against the line before, seq without gaps — and names the first bad
 * line (`audit/verify`). Exit 0 when intact, 1 otherwise. Also {@link recordOpsAction}, which the
 * commands that change state on the host (`fetchml user`, `fetchml ban`) use to append to the
 * same log as the server, safely beside it.
 */
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';

import { auditLogPath, openAuditLog, verifyAuditLog } from '../../audit/index.ts';
import type { AuditEntry, AuditEvent, AuditReport } from '../../audit/index.ts';
import { writeJson } from '../../cli/shared/output.ts';
import { examples } from '../../cli/shared/program.ts';
import { ExitError } from '../../core/errors.ts';
import type { OpsContext } from '../context.ts';

function osUser(): string | null {
  try {
    return userInfo().username;
  } catch {
    return null;
  }
}

/**
 * Appends one `ops` entry (actor `ops`, the OS user in `detail.os_user`) to the audit log of
 * `home`, durably, and closes it.
 */
export async function recordOpsAction(
  home: string,
  event: Omit<AuditEvent, 'actor'>,
): Promise<AuditEntry> {
  const log = openAuditLog(auditLogPath(home));
  try {
    return await log.record({
      ...event,
      actor: 'ops',
      detail: { os_user: osUser(), ...event.detail },
    });
  } finally {
    await log.close();
  }
}

function describeReport(report: AuditReport): string {
  if (report.ok) {
    const head = report.head
      ? ` (head seq ${report.head.seq}, line digest ${report.head.digest})`
      : '';
    return `${report.path}: intact, ${report.entries} entries${head}\n`;
  }
  const p = report.problem!;
  const good =
    report.entries === 0
      ? 'no entry before it verifies'
      : `the ${report.entries} entries before it verify (up to seq ${report.head?.seq})`;
  return `${report.path}: NOT intact\n  ${p.message}\n  ${good}\n`;
}

/** Registers the `audit` command group on the `fetchml` program. */
export function registerAuditCommands(program: Command, ctx: OpsContext): void {
  const group = program
    .command('audit')
    .description('the hash-chained audit log (<home>/logs/audit.log)')
    .addHelpText('after', examples('fetchml audit verify', 'fetchml audit verify --json'));

  group
    .command('verify')
    .description(
      'check every entry and link of the audit log; exit 1 naming the first edited, deleted, reordered or truncated entry',
    )
    .option('--file <path>', 'the log to check (default: <home>/logs/audit.log)')
    .addHelpText(
      'after',
      '\nA removed tail leaves a shorter valid chain: keep the reported head (seq and line\n' +
        'digest) somewhere else and compare it later.\n' +
        examples(
          'fetchml audit verify',
          'fetchml audit verify --file /backup/audit.log',
          'fetchml audit verify --json | jq .head',
        ),
    )
    .action(async (opts: { file?: string }, cmd: Command) => {
      let path: string;
      if (opts.file !== undefined) {
        path = resolve(ctx.io.cwd, opts.file);
      } else {
        const { config, warnings } = ctx.loadConfig(cmd);
        ctx.warn(warnings);
        path = auditLogPath(config.home);
      }
      const report = await verifyAuditLog(path);
      if (ctx.globals(cmd).json) writeJson(ctx.io.stdout, report);
      else ctx.io.stdout.write(describeReport(report));
      if (!report.ok) throw new ExitError(1);
    });
}
