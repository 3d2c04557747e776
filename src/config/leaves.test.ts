import { describe, expect, it } from 'vitest';

import { coerceEnvValue } from './env.ts';
import { envNameFor, keysAt, listLeaves } from './leaves.ts';
import { closest } from '../core/suggest.ts';

describe('schema leaves', () => {
  it('derives env names from dot paths', () => {
    expect(envNameFor('server.port')).toBe('FETCHML_SERVER_PORT');
    expect(envNameFor('worker.memory_mb')).toBe('FETCHML_WORKER_MEMORY_MB');
    expect(envNameFor('home')).toBe('FETCHML_HOME');
  });

  it('lists every leaf once with a kind and a description', () => {
    const leaves = listLeaves();
    const byPath = new Map(leaves.map((l) => [l.path, l]));
    expect(byPath.size).toBe(leaves.length);
    expect(new Set(leaves.map((l) => l.env)).size).toBe(leaves.length);
    expect(byPath.get('server.port')?.kind).toEqual({ type: 'number' });
    expect(byPath.get('blobs.s3.force_path_style')?.kind).toEqual({ type: 'boolean' });
    expect(byPath.get('worker.labels')?.kind).toEqual({ type: 'list', of: 'string' });
    expect(byPath.get('worker.memory_mb')?.kind).toEqual({ type: 'string' });
    expect(byPath.get('worker.gpus')?.kind).toEqual({
      type: 'keyword-or-list',
      keywords: ['auto', 'none'],
      of: 'number',
    });
    expect(byPath.get('server.port')?.default).toBe(9101);
    for (const leaf of leaves) expect(leaf.description, leaf.path).not.toBe('');
  });

  it('knows the keys of each section', () => {
    expect(keysAt([])).toContain('server');
    expect(keysAt(['server', 'tls'])).toEqual(['cert', 'key', 'hostnames']);
    expect(keysAt(['nope'])).toEqual([]);
  });
});

describe('env coercion and suggestions', () => {
  it('leaves values that do not coerce for the schema to report', () => {
    expect(coerceEnvValue('abc', { type: 'number' })).toBe('abc');
    expect(coerceEnvValue('maybe', { type: 'boolean' })).toBe('maybe');
    expect(coerceEnvValue(' 42 ', { type: 'number' })).toBe(42);
    expect(coerceEnvValue('OFF', { type: 'boolean' })).toBe(false);
    expect(coerceEnvValue('a, ,b', { type: 'list', of: 'string' })).toEqual(['a', 'b']);
  });

  it('suggests only plausible typos', () => {
    expect(closest('prot', ['port', 'host'])).toBe('port');
    expect(closest('zzzzzz', ['port', 'host'])).toBeUndefined();
  });
});
