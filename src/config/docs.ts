/**
 * @module config/docs
 * Documentation generated from the schema, so it cannot drift: the JSON Schema printed by
 * `fetchml config schema` (committed as `docs/config.schema.json`, for editors) and the reference
 * table printed by `fetchml config schema --markdown` (embedded in `docs/configuration.md`).
 * Tests fail when either committed copy differs from what the schema generates.
 */
import { z } from 'zod';

import { DERIVED_DEFAULTS } from './defaults.ts';
import { listLeaves, unwrap, type Leaf } from './leaves.ts';
import { ConfigSchema } from './schema.ts';

/** The JSON Schema of a config file (input side: every key optional, sizes as numbers or strings). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' });
  return { ...schema, title: 'fetchml.config.yaml' };
}

/** Markers around the generated table in `docs/configuration.md`. */
export const TABLE_BEGIN = '<!-- BEGIN GENERATED: fetchml config schema --markdown -->';
export const TABLE_END = '<!-- END GENERATED -->';

function typeOf(schema: z.ZodType): string {
  const inner = unwrap(schema).inner;
  if (inner instanceof z.ZodEnum) return (inner.options as string[]).join(' \\| ');
  if (inner instanceof z.ZodNumber) return inner.isInt ? 'integer' : 'number';
  if (inner instanceof z.ZodBoolean) return 'boolean';
  if (inner instanceof z.ZodArray) return `list of ${typeOf(inner.element as z.ZodType)}s`;
  if (inner instanceof z.ZodUnion) {
    return (inner.options as z.ZodType[])
      .map(typeOf)
      .join(' \\| ')
      .replace('number \\| string', 'size');
  }
  return 'string';
}

function schemaAt(path: string): z.ZodType {
  let current: z.ZodType = ConfigSchema;
  for (const key of path.split('.')) {
    const obj = unwrap(current).inner as z.ZodObject;
    current = (obj.shape as Record<string, z.ZodType>)[key]!;
  }
  return current;
}

/** Escapes what markdown tables and HTML would swallow: pipes, `<`, `>`, newlines. */
const cell = (text: string): string =>
  text.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\n', ' ');

function defaultText(leaf: Leaf): string {
  const derived = DERIVED_DEFAULTS.find((d) => d.path === leaf.path);
  if (derived) return cell(derived.describe);
  if (!leaf.hasDefault) return '—';
  const v = leaf.default;
  return `\`${Array.isArray(v) ? v.join(', ') || '[]' : String(v)}\``;
}

/** The reference table: one row per leaf with its type, default, env variable and description. */
export function renderConfigTable(): string {
  const rows = listLeaves().map((leaf) =>
    [
      `\`${leaf.path}\``,
      typeOf(schemaAt(leaf.path)),
      defaultText(leaf),
      `\`${leaf.env}\``,
      cell(leaf.description),
    ].join(' | '),
  );
  return [
    TABLE_BEGIN,
    '<!-- prettier-ignore-start -->',
    '| Key | Type | Default | Environment | Description |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r} |`),
    '<!-- prettier-ignore-end -->',
    TABLE_END,
  ].join('\n');
}
