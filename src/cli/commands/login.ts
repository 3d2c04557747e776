/**
 * @module cli/commands/login
 * `ml login`: the credential half of `ml init` alone (no project files): store or replace the API
 * key for a server and decide how to trust its certificate — pin the fingerprint (shown for
 * confirmation on first use; `--yes` or `--fingerprint` for scripts), re-pin with `--force`, or
 * verify against a CA with `--ca`.
 */
import type { Command } from 'commander';

import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import {
  describeCredentials,
  storeCredentials,
  trustOptions,
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
  const login = program
    .command('login')
    .description(
      'store an API key for a server and pin its certificate (ml init without the files)',
    )
    .option(
      '--key <key>',
      'API key (default: $FETCHML_API_KEY, else <$FETCHML_HOME|./data>/admin.key)',
    )
    .option('--key-file <path>', 'read the API key from a file')
    .option('--force', 'forget the pinned certificate and pin the one presented now (asks first)');
  trustOptions(login)
    .addHelpText(
      'after',
      examples(
        'ml login --key-file ~/fetchml.key',
        'ml --server https://gpu-box:9101 login --key fml_…',
        'ml login --server https://gpu-box:9101 --fingerprint AB:CD:…   # pin what the admin gave you',
        'ml login --server https://gpu-box:9101 --key-file k --yes      # scripts: trust on first use',
        'ml login --server https://ml.lab.example --ca ~/lab-ca.pem      # a CA-issued certificate',
        'ml login --force   # re-pin after the server certificate changed on purpose',
      ) +
        '\nOn first use the certificate fingerprint is shown and must be confirmed: on a terminal\n' +
        'answer y after comparing it with the one `fetchml up` / `fetchml server` printed; without a\n' +
        'terminal pass --yes or --fingerprint. A certificate matching <$FETCHML_HOME|./data>/tls/cert.pem\n' +
        '(the server on this machine) needs no confirmation. No API key is sent before that.\n',
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
