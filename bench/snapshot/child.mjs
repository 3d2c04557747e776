/**
 * @module bench/snapshot/child
 * One snapshot in a fresh process, as the CLI would run it: prints the library call's time, its
 * stats, and the process's peak RSS (VmHWM; worker threads share the process, so they count).
 * Usage: node child.mjs <tree> <statcache path | default | none> [list]
 */
import { readFileSync } from 'node:fs';

const [tree, cache, list] = process.argv.slice(2);
const { snapshotTree } = await import(
  new URL('../../dist/snapshot/index.js', import.meta.url).href
);
const opts =
  cache === 'default' ? {} : cache === 'none' ? { statCache: false } : { statCache: cache };
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const result = await snapshotTree(tree, opts);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
process.stdout.write(
  JSON.stringify({
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    commitId: result.commitId,
    stats: result.stats,
    peakRssMb: hwm ? Number(hwm[1]) / 1024 : process.resourceUsage().maxRSS / 1024,
    files:
      list === 'list'
        ? result.manifest.entries.filter((e) => e.type === 'file').map((e) => e.path)
        : undefined,
  }),
);
