/**
 * @module config/load
 * The loader: built-in defaults < YAML file < `FETCHML_*` environment < flags, merged into one
 * raw object, validated once, completed with derived defaults, then checked by the cross-field
 * rules. The environment is passed in (entry points pass `process.env`), so this module is the
 * only place that interprets it and tests never mutate the real environment.
 */
import { dirname, resolve } from 'node:path';

import { readEnvLayer, type LayerValue } from './env.ts';
import { applyDerivedDefaults, currentHost, type HostInfo } from './defaults.ts';
import { chooseConfigFile, readConfigFile } from './file.ts';
import { applyLayers, flattenObject, isPlainObject, resolvePathValue, sourceOf } from './layers.ts';
import { listLeaves } from './leaves.ts';
import {
  configInvalid,
  formatProblem,
  issueMessage,
  problemFromRule,
  problemsFromZod,
} from './problems.ts';
import { RULES } from './rules.ts';
import { ConfigSchema, type Config } from './schema.ts';

/** A value given on the command line for a config leaf, e.g. `{path: 'server.port', value: 8443, flag: '--port'}`. */
export interface ConfigFlag {
  /** Dot path of the leaf it sets. */
  path: string;
  value: unknown;
  /** The flag as typed, used in sources: `flag:--port`. */
  flag: string;
}

/** Inputs of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** The environment to read `FETCHML_*` from; entry points pass `process.env`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Base for relative paths given by env, flags and defaults. */
  cwd: string;
  /** `--config <path>`; overrides `FETCHML_CONFIG` and `<home>/fetchml.config.yaml`. */
  configFile?: string | undefined;
  /** Command-line overrides, highest precedence. Undefined values are ignored. */
  flags?: readonly ConfigFlag[];
  /** The machine derived defaults describe. @default the current host */
  host?: HostInfo;
}

/** A loaded configuration and where each value came from. */
export interface LoadedConfig {
  config: Config;
  /** Every leaf dot-path → `default` | `file:<abs path>` | `env:FETCHML_…` | `flag:--…`. */
  sources: Record<string, string>;
  /** Things that work but are probably mistakes (unknown env variables, odd combinations). */
  warnings: string[];
  /** The config file that was read, if any. */
  file: string | undefined;
}

/**
 * Loads, merges and validates the configuration.
 *
 * @throws FetchmlError `ML_ERR_CONFIG_INVALID` listing every problem as
 *   `<dot.path>: <reason> (from <source>)`, or naming a missing / unparsable config file.
 * @example
 * const { config, sources } = loadConfig({ env: process.env, cwd: process.cwd(),
 *   flags: [{ path: 'server.port', value: 8443, flag: '--port' }] });
 */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const { env, cwd } = options;
  const leaves = listLeaves();
  const known = new Set(leaves.map((l) => l.path));

  const flagValues: LayerValue[] = (options.flags ?? [])
    .filter((f) => f.value !== undefined)
    .map((f) => {
      if (!known.has(f.path))
        throw new Error(`bug: flag ${f.flag} targets unknown config key ${f.path}`);
      return resolvePathValue({ path: f.path, value: f.value, source: `flag:${f.flag}` }, cwd);
    });
  const envLayer = readEnvLayer(env, leaves);
  const envValues = envLayer.values.map((v) => resolvePathValue(v, cwd));

  // Home decides where the default config file lives, so it is settled from flags/env first.
  const earlyHome = [...flagValues, ...envValues].find((v) => v.path === 'home')?.value;
  const choice = chooseConfigFile({
    flag: options.configFile,
    env: env['FETCHML_CONFIG']?.trim() || undefined,
    home: resolve(cwd, typeof earlyHome === 'string' ? earlyHome : './data'),
    cwd,
  });
  const fileData = readConfigFile(choice);
  const fileSource = `file:${choice.path}`;
  if (fileData !== undefined && !isPlainObject(fileData)) {
    const got = Array.isArray(fileData) ? 'a list' : JSON.stringify(fileData);
    const problem = {
      path: '<root>',
      message: `expected a mapping of sections (server:, store:, ...), got ${got}`,
      source: fileSource,
    };
    throw configInvalid([problem]);
  }
  const fileValues = fileData
    ? flattenObject(fileData, fileSource).map((v) => resolvePathValue(v, dirname(choice.path)))
    : [];

  const merged = applyLayers([...fileValues, ...envValues, ...flagValues]);
  const parsed = ConfigSchema.safeParse(merged.raw, { error: issueMessage });
  if (!parsed.success)
    throw configInvalid(problemsFromZod(parsed.error, merged.sources), parsed.error);

  const home = resolve(cwd, parsed.data.home);
  const config = applyDerivedDefaults({ ...parsed.data, home }, options.host ?? currentHost());

  const findings = RULES.flatMap((rule) => rule(config));
  const errors = findings
    .filter((f) => f.level === 'error')
    .map((f) => problemFromRule(f, merged.sources));
  if (errors.length > 0) throw configInvalid(errors);
  const warnings = [
    ...envLayer.warnings,
    ...findings
      .filter((f) => f.level === 'warning')
      .map((f) => formatProblem(problemFromRule(f, merged.sources))),
  ];

  const sources = Object.fromEntries(leaves.map((l) => [l.path, sourceOf(merged.sources, l.path)]));
  return { config, sources, warnings, file: fileData === undefined ? undefined : choice.path };
}
