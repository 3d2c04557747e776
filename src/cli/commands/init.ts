/**
 * @module cli/commands/init
 * `ml init`: make the working directory a fetchml project and connect to a server. Writes
 * `fetchml.yaml` (name from the directory, command guessed) and `.mlignore` unless present, then
 * stores the server URL, API key and pinned certificate fingerprint in the client config (see
 * cli/shared/credentials). Existing files are kept unless `--force`, which saves the old file as
 * `<name>.bak` first, so a re-pin with `--force` never silently loses an edited spec.
 */
import type { Command } from 'commander';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';

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
import { SPEC_FILE } from '../shared/project.ts';
import { mlignoreTemplate, specNameFrom, specTemplate } from './init-templates.ts';

/** Options of {@link runInit}. */
export interface InitOptions extends CredentialOptions {
  name?: string;
  json?: boolean;
}

/** What happened to one project file. */
export type FileOutcome = 'written' | 'kept' | 'replaced';

/** The result of {@link runInit} (its `--json` output). */
export interface InitResult {
  project: string;
  files: Record<string, FileOutcome>;
  name: string;
  command: string | null;
  credentials: CredentialResult;
}

function writeProjectFile(path: string, text: string, force: boolean | undefined): FileOutcome {
  if (existsSync(path)) {
    if (!force) return 'kept';
    copyFileSync(path, `${path}.bak`);
    writeFileSync(path, text);
    return 'replaced';
  }
  writeFileSync(path, text, { flag: 'wx' });
  return 'written';
}

/** A fetchml base dir inside the project (it holds keys and must never be snapshotted). */
function baseDirsInside(deps: CommandDeps, root: string): string[] {
  const candidates = [resolve(deps.cwd, deps.io.env['FETCHML_HOME'] || 'data')];
  return candidates
    .filter((d) => existsSync(join(d, 'admin.key')) || existsSync(join(d, 'keys.json')))
    .map((d) => relative(root, d))
    .filter((rel) => rel !== '' && !rel.startsWith('..') && !rel.startsWith('/'))
    .map((rel) => rel.split('\\').join('/'));
}

/** Runs `ml init`. */
export async function runInit(deps: CommandDeps, opts: InitOptions): Promise<InitResult> {
  const root = resolve(deps.cwd);
  const name = specNameFrom(opts.name ?? basename(root));
  const command = existsSync(join(root, 'train.py')) ? 'python3 train.py' : null;
  const files: Record<string, FileOutcome> = {
    [SPEC_FILE]: writeProjectFile(join(root, SPEC_FILE), specTemplate(name, command), opts.force),
    '.mlignore': writeProjectFile(
      join(root, '.mlignore'),
      mlignoreTemplate(baseDirsInside(deps, root)),
      opts.force,
    ),
  };
  if (!opts.json) {
    for (const [file, outcome] of Object.entries(files)) {
      const note =
        outcome === 'kept'
          ? ' (exists; --force replaces it)'
          : outcome === 'replaced'
            ? ` (old one saved as ${file}.bak)`
            : '';
      deps.io.stdout.write(`${outcome === 'kept' ? 'kept ' : `${outcome} `}${file}${note}\n`);
    }
    if (files[SPEC_FILE] !== 'kept' && command === null) {
      deps.io.stdout.write(`edit ${SPEC_FILE}: set \`command\` to what runs your experiment\n`);
    }
  }
  const credentials = await storeCredentials(deps, opts);
  const result: InitResult = { project: root, files, name, command, credentials };
  if (opts.json) writeJson(deps.io.stdout, result);
  else {
    deps.io.stdout.write(describeCredentials(credentials));
    deps.io.stdout.write('next: `ml queue` to snapshot and submit, `ml status` to watch\n');
  }
  return result;
}

/** Registers `ml init`. */
export function registerInit(program: Command, ctx: CliContext): void {
  const init = program
    .command('init')
    .description(
      'write fetchml.yaml and .mlignore here, and store the server URL, API key and pinned certificate',
    )
    .option(
      '--key <key>',
      'API key (default: $FETCHML_API_KEY, else <$FETCHML_HOME|./data>/admin.key)',
    )
    .option('--key-file <path>', 'read the API key from a file')
    .option('--name <name>', 'experiment name (default: the directory name)')
    .option(
      '--force',
      'replace existing files (old ones saved as .bak) and re-pin the certificate',
    );
  trustOptions(init)
    .addHelpText(
      'after',
      examples(
        'ml init',
        'ml init --server https://gpu-box:9101 --key-file ~/fetchml.key',
        'ml init --force   # after the server certificate changed on purpose',
        'ml init --server https://gpu-box:9101 --fingerprint AB:CD:…   # pin what the admin gave you',
      ),
    )
    .action(async (opts: InitOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runInit(ctx.deps(), {
        ...opts,
        json: g.json,
        ...(g.server ? { server: g.server } : {}),
      });
    });
}
