/**
 * @module config
 * Layered configuration for both programs: defaults < `fetchml.config.yaml` < `FETCHML_*`
 * environment < flags, validated once. This is the only module that interprets the environment;
 * entry points hand it `process.env`.
 */
export { loadConfig } from './load.ts';
export type { ConfigFlag, LoadConfigOptions, LoadedConfig } from './load.ts';
export { ConfigSchema, PATH_LEAVES } from './schema.ts';
export type { Config, ConfigInput, ParsedConfig } from './schema.ts';
export { listLeaves, envNameFor } from './leaves.ts';
export type { Leaf, LeafKind } from './leaves.ts';
export { currentHost, type HostInfo } from './defaults.ts';
export { redactConfig, redactUrl, redactValue, REDACTED } from './redact.ts';
export { RULES, type Rule, type RuleIssue } from './rules.ts';
export { formatProblem, type ConfigProblem } from './problems.ts';
export { configJsonSchema, renderConfigTable } from './docs.ts';
export { CONFIG_FILE_NAME } from './file.ts';
