/**
 * @module ops/commands/config
 * `fetchml config print | validate | schema`: show the effective configuration and where each
 * value came from, check a configuration before starting anything, and print the JSON Schema
 * (or the reference table) that editors and docs use.
 */
import type { Command } from 'commander';

import {
  configJsonSchema,
  listLeaves,
  redactConfig,
  redactValue,
  renderConfigTable,
} from '../../config/index.ts';
import { isFetchmlError, ExitError } from '../../core/errors.ts';
import { formatCell, formatTable, writeJson } from '../../cli/shared/output.ts';
import { EXIT_USAGE, examples, printError } from '../../cli/shared/program.ts';
import type { OpsContext } from '../context.ts';

function valueAt(config: unknown, path: string): unknown {
  let node: unknown = config;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Registers the `config` command group on the `fetchml` program. */
export function registerConfigCommands(program: Command, ctx: OpsContext): void {
  const group = program
    .command('config')
    .description('inspect and check the configuration (defaults < file < FETCHML_* env < flags)')
    .addHelpText(
      'after',
      examples('fetchml config print', 'fetchml config validate --config prod.yaml'),
    );

  group
    .command('print')
    .description('print every setting with its value and where it came from (secrets redacted)')
    .addHelpText(
      'after',
      examples('fetchml config print', 'FETCHML_SERVER_PORT=8443 fetchml config print --json'),
    )
    .action((_opts: unknown, cmd: Command) => {
      const { config, sources, warnings } = ctx.loadConfig(cmd);
      ctx.warn(warnings);
      if (ctx.globals(cmd).json) {
        writeJson(ctx.io.stdout, { config: redactConfig(config), sources });
        return;
      }
      const rows = listLeaves().map((leaf) => [
        leaf.path,
        formatCell(redactValue(leaf.path, valueAt(config, leaf.path))),
        sources[leaf.path] ?? 'default',
      ]);
      ctx.io.stdout.write(formatTable(['KEY', 'VALUE', 'SOURCE'], rows));
    });

  group
    .command('validate')
    .description('check the configuration; exit 0 and print "ok", or exit 2 listing every problem')
    .addHelpText(
      'after',
      examples(
        'fetchml config validate',
        'fetchml config validate --config /etc/fetchml/fetchml.config.yaml',
      ),
    )
    .action((_opts: unknown, cmd: Command) => {
      const json = ctx.globals(cmd).json;
      try {
        const { warnings, file } = ctx.loadConfig(cmd);
        ctx.warn(warnings);
        if (json) writeJson(ctx.io.stdout, { ok: true, file: file ?? null, warnings });
        else
          ctx.io.stdout.write(
            `ok${file ? ` (${file})` : ' (no config file; defaults and environment)'}\n`,
          );
      } catch (err) {
        if (!isFetchmlError(err, 'ML_ERR_CONFIG_INVALID')) throw err;
        printError(err, ctx.io, { json });
        throw new ExitError(EXIT_USAGE, err.message);
      }
    });

  group
    .command('schema')
    .description('print the JSON Schema of fetchml.config.yaml (or the reference table)')
    .option('--markdown', 'print the reference table used in docs/configuration.md instead')
    .addHelpText(
      'after',
      examples(
        'fetchml config schema > fetchml.config.schema.json',
        'fetchml config schema --markdown',
      ),
    )
    .action((opts: { markdown?: boolean }) => {
      if (opts.markdown) ctx.io.stdout.write(`${renderConfigTable()}\n`);
      else writeJson(ctx.io.stdout, configJsonSchema());
    });
}
