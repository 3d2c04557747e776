/**
 * @module config/layers
 * Turning layers (file, env, flags) into one raw object plus a record of which layer set each
 * path. Layers are flattened to `{path, value, source}` entries and applied in precedence order,
 * so "later wins" is literal and the source of every value is known without a second pass.
 */
import { isAbsolute, resolve } from 'node:path';

import type { LayerValue } from './env.ts';
import { PATH_LEAVES } from './schema.ts';

/** A mapping (not null, not a list). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Flattens a parsed config file into entries. Nested mappings are walked; anything else
 * (scalars, lists, a mapping where a value is expected) is one entry. YAML nulls (`key:` with
 * nothing after it) count as unset.
 */
export function flattenObject(
  value: Record<string, unknown>,
  source: string,
  prefix = '',
): LayerValue[] {
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child === null || child === undefined) return [];
    return isPlainObject(child)
      ? flattenObject(child, source, path)
      : [{ path, value: child, source }];
  });
}

/** Makes a relative path value absolute against `base`; other values pass through. */
export function resolvePathValue(entry: LayerValue, base: string): LayerValue {
  if (!PATH_LEAVES.has(entry.path) || typeof entry.value !== 'string' || isAbsolute(entry.value)) {
    return entry;
  }
  return { ...entry, value: resolve(base, entry.value) };
}

/** The raw, merged object and the source of every path that a layer set. */
export interface Merged {
  raw: Record<string, unknown>;
  sources: Map<string, string>;
}

/** Applies entries in order (later wins) into a nested object. */
export function applyLayers(entries: readonly LayerValue[]): Merged {
  const raw: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const { path, value, source } of entries) {
    const segments = path.split('.');
    let node = raw;
    for (const segment of segments.slice(0, -1)) {
      const next = node[segment];
      if (!isPlainObject(next)) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    node[segments.at(-1)!] = value;
    for (const key of [...sources.keys()]) {
      if (key.startsWith(`${path}.`)) sources.delete(key);
    }
    sources.set(path, source);
  }
  return { raw, sources };
}

/**
 * The source of the value at `path`: its own, else that of the nearest ancestor set as a whole,
 * else that of a value set beneath it (an unknown section such as `sever:` only has children),
 * else `default`.
 */
export function sourceOf(sources: ReadonlyMap<string, string>, path: string): string {
  for (let p = path; p !== ''; p = p.slice(0, Math.max(0, p.lastIndexOf('.')))) {
    const hit = sources.get(p);
    if (hit !== undefined) return hit;
  }
  for (const [key, source] of sources) {
    if (path === '' || key.startsWith(`${path}.`)) return source;
  }
  return 'default';
}
