/**
 * @module cli/commands/login
 * `ml login`: the credential half of `ml init` alone (no project files): store or replace the API
 * key for a server, and re-pin its certificate with `--force`.
 */
import type { Command } from 'commander';

import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import {
  describeCredentials,
  storeCredentials,
  type CredentialOptions,
  type CredentialResult,
} from '../shared/credentials.ts';
import { writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';

/** Runs `ml login`. */
export async function runLogin(
  deps: CommandDeps,
  opts: CredentialOptions & { json?: boolean },
): Promise<CredentialResult> {
  const result = await storeCredentials(deps, opts);
  if (opts.json) writeJson(deps.io.stdout, result);
  else deps.io.stdout.write(describeCredentials(result));
  return result;
}

/** Registers `ml login`. */
export function registerLogin(program: Command, ctx: CliContext): void {
  program
    .command('login')
    .description(
      'store an API key for a server and pin its certificate (ml init without the files)',
    )
    .option(
      '--key <key>',
      'API key (default: $FETCHML_API_KEY, else <$FETCHML_HOME|./data>/admin.key)',
    )
    .option('--key-file <path>', 'read the API key from a file')
    .option('--force', 'forget the pinned certificate and trust the one presented now')
    .addHelpText(
      'after',
      examples(
        'ml login --key-file ~/fetchml.key',
        'ml --server https://gpu-box:9101 login --key fml_…',
        'ml login --force   # re-pin after the server certificate changed on purpose',
      ),
    )
    .action(async (opts: CredentialOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runLogin(ctx.deps(), {
        ...opts,
        json: g.json,
        ...(g.server ? { server: g.server } : {}),
      });
    });
}
