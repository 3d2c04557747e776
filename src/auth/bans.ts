/**
 * @module auth/bans
 * Automatic bans: an address with `threshold` authentication failures (401) within
 * {@link FAILURE_WINDOW_MS} is banned for `banMs`. Bans persist in `<home>/bans.json` (0600), so a
 * restart keeps them, and `fetchml ban remove` (another process) takes effect within milliseconds:
 * like the key file, the ban file is watched (`auth/file-watch`) and re-read only when it changed.
 * Failure counters are in memory (a restart forgets half-way counts, not bans).
 */
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';

import { FetchmlError } from '../core/errors.ts';
import { watchFile } from './file-watch.ts';

/** Failures older than this are forgotten. */
export const FAILURE_WINDOW_MS = 10 * 60_000;

/** One ban. */
export interface Ban {
  ip: string;
  since: string;
  until: string;
  failures: number;
}

interface BanFile {
  version: 1;
  bans: Ban[];
}

/** The bans in `path` (expired ones included); ML_ERR_STORE_CORRUPT when unreadable. */
export async function readBans(path: string): Promise<Ban[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as BanFile;
    if (parsed.version === 1 && Array.isArray(parsed.bans)) return parsed.bans;
  } catch (cause) {
    throw new FetchmlError('ML_ERR_STORE_CORRUPT', `${path} is not valid JSON`, { cause });
  }
  throw new FetchmlError('ML_ERR_STORE_CORRUPT', `${path}: unknown format`);
}

/** Writes `bans` atomically (0600). */
export async function writeBans(path: string, bans: readonly Ban[]): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const body: BanFile = { version: 1, bans: [...bans] };
  await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Live bans and failure counting over one ban file. */
export interface BanList {
  /**
   * The live ban of `ip`, or null. Synchronous unless the ban file changed since it was last read
   * (the auth chain then costs no promise per request).
   */
  bannedUntil(ip: string): string | null | Promise<string | null>;
  /** Counts a failure; returns the new ban when this one crossed the threshold. */
  recordFailure(ip: string): Promise<Ban | null>;
  close(): void;
}

/** A {@link BanList} over `path`. */
export function openBanList(
  path: string,
  opts: { threshold: number; banMs: number; clock?: () => number },
): BanList {
  const clock = opts.clock ?? Date.now;
  let bans = new Map<string, Ban>();
  const watcher = watchFile(path);
  const failures = new Map<string, number[]>();

  const refresh = async () => {
    if (!watcher.changed()) return;
    watcher.markRead();
    bans = new Map((await readBans(path)).map((b) => [b.ip, b]));
  };

  return {
    bannedUntil(ip) {
      const lookup = () => {
        const ban = bans.get(ip);
        return ban && Date.parse(ban.until) > clock() ? ban.until : null;
      };
      return watcher.changed() ? refresh().then(lookup) : lookup();
    },
    async recordFailure(ip) {
      const now = clock();
      const recent = (failures.get(ip) ?? []).filter((t) => now - t < FAILURE_WINDOW_MS);
      recent.push(now);
      failures.set(ip, recent);
      if (recent.length < opts.threshold) return null;
      failures.delete(ip);
      await refresh();
      const ban: Ban = {
        ip,
        since: new Date(now).toISOString(),
        until: new Date(now + opts.banMs).toISOString(),
        failures: recent.length,
      };
      const live = [...bans.values()].filter((b) => Date.parse(b.until) > now && b.ip !== ip);
      await writeBans(path, [...live, ban]);
      bans = new Map([...live, ban].map((b) => [b.ip, b]));
      return ban;
    },
    close() {
      watcher.close();
    },
  };
}
