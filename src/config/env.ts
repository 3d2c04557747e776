/**
 * @module config/env
 * The `FETCHML_*` environment layer. Variables are matched against the known leaves (never split
 * on underscores) and coerced by the leaf's type: numbers, booleans and comma lists. A value that
 * does not coerce is passed through unchanged so the schema reports it with the field's name.
 * An empty variable counts as unset. Unknown `FETCHML_*` names become warnings with a hint.
 */
import type { Leaf, LeafKind } from './leaves.ts';
import { didYouMean } from '../core/suggest.ts';

/** `FETCHML_*` variables that are not leaves but are read by the loader itself. */
export const LOADER_ENV = ['FETCHML_CONFIG'] as const;

/**
 * `FETCHML_*` variables that belong to the `ml` client or to jobs, not to this configuration: a
 * shell that sets them for `ml` must not make `fetchml` warn.
 */
export const OTHER_PROGRAM_ENV = [
  'FETCHML_API_KEY',
  'FETCHML_CLIENT_CONFIG',
  'FETCHML_SERVER',
  'FETCHML_OUTPUT',
  'FETCHML_TASK_ID',
  'FETCHML_SRC',
  'FETCHML_DATA',
  'FETCHML_METRICS',
] as const;

/** A value set by one layer, with where it came from. */
export interface LayerValue {
  path: string;
  value: unknown;
  source: string;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function coerceScalar(text: string, type: 'string' | 'number' | 'boolean'): unknown {
  const t = text.trim();
  if (type === 'number') return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : text;
  if (type === 'boolean') {
    const lower = t.toLowerCase();
    if (TRUE.has(lower)) return true;
    if (FALSE.has(lower)) return false;
    return text;
  }
  return text;
}

function splitList(text: string, of: 'string' | 'number'): unknown[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => coerceScalar(s, of));
}

/** Turns one environment string into a value for a leaf of the given kind. */
export function coerceEnvValue(text: string, kind: LeafKind): unknown {
  switch (kind.type) {
    case 'list':
      return splitList(text, kind.of);
    case 'keyword-or-list':
      return kind.keywords.includes(text.trim()) ? text.trim() : splitList(text, kind.of);
    default:
      return coerceScalar(text, kind.type);
  }
}

/** Reads the environment layer: one value per set `FETCHML_*` leaf variable, plus warnings. */
export function readEnvLayer(
  env: Record<string, string | undefined>,
  leaves: readonly Leaf[],
): { values: LayerValue[]; warnings: string[] } {
  const values: LayerValue[] = [];
  const byName = new Map(leaves.map((l) => [l.env, l]));
  for (const leaf of leaves) {
    const text = env[leaf.env];
    if (text === undefined || text.trim() === '') continue;
    values.push({
      path: leaf.path,
      value: coerceEnvValue(text, leaf.kind),
      source: `env:${leaf.env}`,
    });
  }
  const warnings: string[] = [];
  const known = [...byName.keys(), ...LOADER_ENV];
  const quiet = new Set<string>([...known, ...OTHER_PROGRAM_ENV]);
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('FETCHML_') || quiet.has(name)) continue;
    const hint = didYouMean(name, known);
    warnings.push(`${name}: unknown fetchml environment variable, ignored${hint}`);
  }
  return { values, warnings };
}
