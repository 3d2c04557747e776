/**
 * @module ops/commands/user
 * `fetchml user add|list|revoke|rotate`: API keys and the users and roles they belong to. Works on
 * `<home>/keys.json` directly (beside a running server, which sees every change on its next
 * request). A new key is printed once and never stored in plaintext. Every change is appended to
 * the audit log (`<home>/logs/audit.log`, actor `ops`) beside the server's entries.
 */
import type { Command } from 'commander';
import { join } from 'node:path';

import { loadRoles } from '../../auth/roles.ts';
import type { Config } from '../../config/index.ts';
import { formatCell, formatTable, writeJson } from '../../cli/shared/output.ts';
import { examples } from '../../cli/shared/program.ts';
import { openFileKeyStore } from '../../server/auth/key-store.ts';
import type { KeyStore } from '../../server/auth/key-store.ts';
import type { OpsContext } from '../context.ts';
import { recordOpsAction } from './audit.ts';
import { addUser, listUsers, revokeUser, rotateUser } from '../users.ts';

/** Where the roles file of `config` is. */
export function rolesPath(config: Pick<Config, 'home' | 'security'>): string {
  return config.security.roles_file ?? join(config.home, 'roles.yaml');
}

function keyStore(ctx: OpsContext, cmd: Command): Promise<KeyStore> {
  const { config, warnings } = ctx.loadConfig(cmd);
  ctx.warn(warnings);
  return openFileKeyStore(join(config.home, 'keys.json'));
}

/** Registers the `user` command group on the `fetchml` program. */
export function registerUserCommands(program: Command, ctx: OpsContext): void {
  const group = program
    .command('user')
    .description('manage API keys: each key belongs to a user with a role')
    .addHelpText(
      'after',
      examples(
        'fetchml user add ana --role researcher',
        'fetchml user list',
        'fetchml user rotate ana',
        'fetchml user revoke ana',
      ),
    );
  const json = (cmd: Command) => ctx.globals(cmd).json === true;
  const showKey = (cmd: Command, out: { key: string; user: string; role: string; id: string }) => {
    if (json(cmd)) return writeJson(ctx.io.stdout, out);
    ctx.io.stdout.write(
      `API key for ${out.user} (role ${out.role}, id ${out.id}), shown once:\n  ${out.key}\n` +
        'Give it to the user; they save it to a file and run:\n' +
        '  ml login --server https://<this host>:<port> --key-file <file>\n' +
        '(only its hash is kept here: it cannot be shown again)\n',
    );
  };

  group
    .command('add <name>')
    .description('create a user with a new API key (printed once)')
    .requiredOption(
      '--role <role>',
      'role from the roles file (built-in: admin, researcher, viewer)',
    )
    .addHelpText(
      'after',
      examples('fetchml user add ana --role researcher', 'fetchml user add ci --role admin --json'),
    )
    .action(async (name: string, opts: { role: string }, cmd: Command) => {
      const { config } = ctx.loadConfig(cmd);
      const roles = await loadRoles(rolesPath(config));
      const { key, record } = await addUser(await keyStore(ctx, cmd), name, opts.role, roles.names);
      await recordOpsAction(config.home, {
        action: 'user.add',
        target: record.user,
        detail: { key_id: record.id, role: record.role },
      });
      showKey(cmd, { key, user: record.user, role: record.role, id: record.id });
    });

  group
    .command('list')
    .description('list keys: id, user, role, created, revoked (never the keys)')
    .addHelpText('after', examples('fetchml user list', 'fetchml user list --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const users = await listUsers(await keyStore(ctx, cmd));
      if (json(cmd)) return writeJson(ctx.io.stdout, { keys: users });
      const rows = users.map((u) => [
        u.id,
        u.user,
        u.role,
        u.created_at,
        formatCell(u.revoked_at ?? undefined),
      ]);
      ctx.io.stdout.write(formatTable(['ID', 'USER', 'ROLE', 'CREATED', 'REVOKED'], rows));
    });

  group
    .command('revoke <name-or-key-id>')
    .description('revoke one key by id, or every live key of a user; effective at once')
    .addHelpText('after', examples('fetchml user revoke ana', 'fetchml user revoke key_…'))
    .action(async (target: string, _opts: unknown, cmd: Command) => {
      const revoked = await revokeUser(await keyStore(ctx, cmd), target);
      await recordOpsAction(ctx.loadConfig(cmd).config.home, {
        action: 'user.revoke',
        target,
        detail: {
          key_ids: revoked.map((r) => r.id),
          users: [...new Set(revoked.map((r) => r.user))],
        },
      });
      if (json(cmd)) return writeJson(ctx.io.stdout, { revoked });
      for (const r of revoked) ctx.io.stdout.write(`revoked ${r.id} (${r.user}, ${r.role})\n`);
    });

  group
    .command('rotate <name>')
    .description('give a user a new key (printed once) and revoke the old ones at once')
    .addHelpText('after', examples('fetchml user rotate ana', 'fetchml user rotate ana --json'))
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { key, record, revoked } = await rotateUser(await keyStore(ctx, cmd), name);
      await recordOpsAction(ctx.loadConfig(cmd).config.home, {
        action: 'user.rotate',
        target: record.user,
        detail: { key_id: record.id, role: record.role, revoked },
      });
      showKey(cmd, { key, user: record.user, role: record.role, id: record.id });
      if (!json(cmd)) ctx.io.stdout.write(`revoked ${revoked.join(', ')}\n`);
    });
}
