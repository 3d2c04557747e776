/**
 * @module config/leaves
 * Walks the config schema once to list its leaves: the dot-path, the `FETCHML_*` variable that
 * sets it, how an environment string is coerced for it, its description and static default.
 * Env names are derived from the leaves rather than parsed from the variable name, so
 * underscores are never ambiguous (`worker.memory_mb` ↔ `FETCHML_WORKER_MEMORY_MB`).
 */
import { z } from 'zod';

import { ConfigSchema } from './schema.ts';

/** How an environment string becomes a value for a leaf. */
export type LeafKind =
  | { type: 'string' }
  | { type: 'number' }
  | { type: 'boolean' }
  | { type: 'list'; of: 'string' | 'number' }
  /** A keyword (e.g. `auto`) or a comma list of numbers. */
  | { type: 'keyword-or-list'; keywords: string[]; of: 'string' | 'number' };

/** One configurable value. */
export interface Leaf {
  /** Dot path, e.g. `server.port`. */
  path: string;
  /** Environment variable, e.g. `FETCHML_SERVER_PORT`. */
  env: string;
  kind: LeafKind;
  description: string;
  /** The static default, when the schema has one (derived defaults live in `defaults.ts`). */
  default?: unknown;
  /** Whether the leaf has a static default. */
  hasDefault: boolean;
}

/** The env variable for a dot path: `worker.memory_mb` → `FETCHML_WORKER_MEMORY_MB`. */
export function envNameFor(path: string): string {
  return `FETCHML_${path.replaceAll('.', '_').toUpperCase()}`;
}

export interface Unwrapped {
  inner: z.ZodType;
  description: string | undefined;
  default?: { value: unknown };
}

/** Peels optional / default / prefault / pipe wrappers, keeping the outermost description. */
export function unwrap(schema: z.ZodType): Unwrapped {
  let current: z.ZodType = schema;
  let description = schema.description;
  let dflt: { value: unknown } | undefined;
  for (;;) {
    description ??= current.description;
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault) {
      dflt ??= { value: current.def.defaultValue };
      current = current.def.innerType as z.ZodType;
    } else if (current instanceof z.ZodOptional || current instanceof z.ZodNullable) {
      current = current.def.innerType as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.def.in as z.ZodType;
    } else {
      return { inner: current, description, ...(dflt ? { default: dflt } : {}) };
    }
  }
}

function scalarKind(schema: z.ZodType): 'string' | 'number' | 'boolean' {
  const inner = unwrap(schema).inner;
  if (inner instanceof z.ZodNumber) return 'number';
  if (inner instanceof z.ZodBoolean) return 'boolean';
  return 'string';
}

function kindOf(schema: z.ZodType): LeafKind {
  if (schema instanceof z.ZodArray) {
    return {
      type: 'list',
      of: scalarKind(schema.element as z.ZodType) === 'number' ? 'number' : 'string',
    };
  }
  if (schema instanceof z.ZodUnion) {
    const options = schema.options as z.ZodType[];
    const list = options.find((o): o is z.ZodArray => o instanceof z.ZodArray);
    const keywords = options.flatMap((o) =>
      o instanceof z.ZodEnum
        ? (o.options as string[])
        : o instanceof z.ZodLiteral
          ? [String(o.value)]
          : [],
    );
    if (list) {
      const of = scalarKind(list.element as z.ZodType) === 'number' ? 'number' : 'string';
      return { type: 'keyword-or-list', keywords, of };
    }
    return { type: 'string' };
  }
  return { type: scalarKind(schema) };
}

/** Every leaf of `schema` (default: the config schema), depth first, in declaration order. */
export function listLeaves(schema: z.ZodType = ConfigSchema, prefix = ''): Leaf[] {
  const { inner } = unwrap(schema);
  if (!(inner instanceof z.ZodObject)) return [];
  const leaves: Leaf[] = [];
  const shape: Record<string, z.ZodType> = inner.shape;
  for (const [key, child] of Object.entries(shape)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const u = unwrap(child);
    if (u.inner instanceof z.ZodObject) {
      leaves.push(...listLeaves(child, path));
      continue;
    }
    leaves.push({
      path,
      env: envNameFor(path),
      kind: kindOf(u.inner),
      description: u.description ?? '',
      hasDefault: u.default !== undefined,
      ...(u.default ? { default: u.default.value } : {}),
    });
  }
  return leaves;
}

/** The keys allowed in the object at `path` (`''` = top level), for "did you mean" hints. */
export function keysAt(
  path: readonly (string | number)[],
  schema: z.ZodType = ConfigSchema,
): string[] {
  let current = unwrap(schema).inner;
  for (const segment of path) {
    if (!(current instanceof z.ZodObject)) return [];
    const child = (current.shape as Record<string, z.ZodType | undefined>)[String(segment)];
    if (!child) return [];
    current = unwrap(child).inner;
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}
