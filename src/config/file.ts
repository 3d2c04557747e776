/**
 * @module config/file
 * Finding and reading the YAML config file. The file is chosen explicitly (`--config`, then
 * `FETCHML_CONFIG`) or found at `<home>/fetchml.config.yaml`. An explicit file that is missing is
 * an error; the conventional one is simply optional. YAML syntax errors name the line and column.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

import { parseDocument } from 'yaml';

import { FetchmlError } from '../core/errors.ts';

/** The file name looked for in the home directory. */
export const CONFIG_FILE_NAME = 'fetchml.config.yaml';

/** A config file chosen by the loader, and why. */
export interface ConfigFileChoice {
  path: string;
  /** `--config`, `env:FETCHML_CONFIG` or `home`. */
  chosenBy: string;
  /** Whether a missing file is an error. */
  required: boolean;
}

/** Picks the config file: `--config` > `FETCHML_CONFIG` > `<home>/fetchml.config.yaml`. */
export function chooseConfigFile(opts: {
  flag: string | undefined;
  env: string | undefined;
  home: string;
  cwd: string;
}): ConfigFileChoice {
  if (opts.flag)
    return { path: resolve(opts.cwd, opts.flag), chosenBy: '--config', required: true };
  if (opts.env) {
    return { path: resolve(opts.cwd, opts.env), chosenBy: 'env:FETCHML_CONFIG', required: true };
  }
  return { path: resolve(opts.home, CONFIG_FILE_NAME), chosenBy: 'home', required: false };
}

function invalid(message: string, path: string, cause?: unknown): FetchmlError {
  return new FetchmlError('ML_ERR_CONFIG_INVALID', message, {
    cause,
    details: { problems: [{ path: '<file>', message, source: `file:${path}` }] },
  });
}

/**
 * Reads and parses the chosen file. Returns `undefined` when an optional file is absent, and the
 * parsed YAML (an empty file is `{}`) otherwise. The result is not validated here.
 */
export function readConfigFile(choice: ConfigFileChoice): unknown {
  let text: string;
  try {
    if (!statSync(choice.path).isFile()) {
      throw invalid(
        `config file is not a regular file: ${choice.path} (from ${choice.chosenBy})`,
        choice.path,
      );
    }
    text = readFileSync(choice.path, 'utf8');
  } catch (err) {
    if (err instanceof FetchmlError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !choice.required) return undefined;
    const reason =
      code === 'ENOENT'
        ? 'config file not found'
        : `cannot read config file (${code ?? String(err)})`;
    throw invalid(`${reason}: ${choice.path} (from ${choice.chosenBy})`, choice.path, err);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const at = e.linePos?.[0];
      const where = at ? `line ${at.line}, column ${at.col}` : 'unknown position';
      const first = e.message.split('\n')[0] ?? e.message;
      return `${where}: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw invalid(
      `invalid YAML in ${choice.path}:\n  ${lines.join('\n  ')}`,
      choice.path,
      doc.errors[0],
    );
  }
  const value: unknown = doc.toJS();
  return value ?? {};
}
