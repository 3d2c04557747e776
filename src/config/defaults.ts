/**
 * @module config/defaults
 * Defaults that cannot be static: paths under `home`, and what the host offers (worker id,
 * cpus, memory). They are applied after validation, only to leaves no layer set, and the host is
 * injectable so tests and `config print` on another machine are deterministic.
 */
import { availableParallelism, hostname, totalmem } from 'node:os';
import { join } from 'node:path';

import { keysAt } from './leaves.ts';
import type { Config, ParsedConfig } from './schema.ts';

/** What the defaults need to know about the machine. */
export interface HostInfo {
  hostname: string;
  cpus: number;
  totalMemBytes: number;
}

/** Reads the current machine (at call time, never at import time). */
export function currentHost(): HostInfo {
  return { hostname: hostname(), cpus: availableParallelism(), totalMemBytes: totalmem() };
}

/** Share of host memory a worker offers by default, leaving room for the OS and fetchml. */
export const DEFAULT_MEMORY_SHARE = 0.9;

/** A worker id from a host name: lower case, only characters a worker id allows. */
export function workerIdFromHost(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  return cleaned || 'worker';
}

/**
 * Each derived default: the leaf, how docs describe it, and how it is computed.
 * `config/docs.ts` prints `describe` in the reference table.
 */
export const DERIVED_DEFAULTS: ReadonlyArray<{
  path: string;
  describe: string;
  compute: (c: ParsedConfig, host: HostInfo) => unknown;
}> = [
  {
    path: 'store.sqlite_path',
    describe: '<home>/fetchml.db',
    compute: (c) => join(c.home, 'fetchml.db'),
  },
  { path: 'blobs.root', describe: '<home>/objects', compute: (c) => join(c.home, 'objects') },
  {
    path: 'events.redis_url',
    describe: 'queue.redis_url',
    compute: (c) => c.queue.redis_url,
  },
  {
    path: 'worker.id',
    describe: 'host name',
    compute: (_c, host) => workerIdFromHost(host.hostname),
  },
  { path: 'worker.cpus', describe: 'all CPUs', compute: (_c, host) => host.cpus },
  {
    path: 'worker.memory_mb',
    describe: '90% of host memory',
    compute: (_c, host) => Math.floor((host.totalMemBytes * DEFAULT_MEMORY_SHARE) / (1024 * 1024)),
  },
  {
    path: 'worker.work_dir',
    describe: '<home>/cache/work',
    compute: (c) => join(c.home, 'cache', 'work'),
  },
];

/** Fills every derived leaf that is still unset. `parsed.home` must already be absolute. */
export function applyDerivedDefaults(parsed: ParsedConfig, host: HostInfo): Config {
  const config = structuredClone(parsed) as unknown as Record<string, Record<string, unknown>>;
  for (const d of DERIVED_DEFAULTS) {
    const [section, key] = d.path.split('.') as [string, string];
    const target = config[section]!;
    if (target[key] === undefined) target[key] = d.compute(parsed, host);
  }
  // Keep keys in schema order so printed configs read like the docs.
  for (const section of Object.keys(config)) {
    const target = config[section]!;
    if (typeof target !== 'object') continue;
    const order = keysAt([section]).filter((k) => k in target);
    config[section] = Object.fromEntries(order.map((k) => [k, target[k]]));
  }
  return config as unknown as Config;
}
