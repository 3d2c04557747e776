/**
 * @module server/auth/key-store
 * Where API keys are kept: only their keyed hashes, never the keys. A small interface so the
 * security work can move keys into the MetadataStore (and add roles, rotation, revocation) without
 * touching the auth chain. Until then {@link openFileKeyStore} keeps them in `<home>/keys.json`
 * (mode 0600), re-read when another process (`fetchml user add|revoke|rotate`) changes it.
 *
 * Why a file and not the MetadataStore: `fetchml user` runs beside a live server, with no server
 * API to call and possibly no database credentials (PostgreSQL), and keys are few. Revocation must
 * take effect at once: the file is watched (`auth/file-watch`: inotify, plus a stat at most once a
 * second as a backstop) and re-read on the next lookup after it changed — within milliseconds of
 * `fetchml user revoke`, without a syscall per request (a per-request `stat` cost ~10 µs under
 * load, a fifth of a request).
 */
import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises';

import { watchFile } from '../../auth/file-watch.ts';

import { FetchmlError } from '../../core/errors.ts';

/** One stored API key. The key itself is not stored; see `auth/api-keys`. */
export interface ApiKeyRecord {
  id: string;
  user: string;
  role: string;
  /** The first characters of the key's secret part: narrows a lookup to (almost always) one record. */
  prefix: string;
  /** Per-key random salt, hex: the HMAC key of {@link hash}. */
  salt: string;
  /** HMAC-SHA256(salt, key), hex. */
  hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface KeyStore {
  /**
   * Records whose prefix is `prefix` (revoked ones included; the caller checks). May answer
   * synchronously (the file store does unless the file changed), so the auth chain costs no
   * promise per request.
   */
  findByPrefix(prefix: string): ApiKeyRecord[] | Promise<ApiKeyRecord[]>;
  add(record: ApiKeyRecord): Promise<void>;
  list(): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; unknown id is ML_ERR_NOT_FOUND. */
  revoke(id: string, at: string): Promise<void>;
  /** Stops watching for changes (if the store watches). */
  close?(): void;
}

/** Identity of one version of the file: changes whenever another process rewrites it. */
function versionOf(st: { mtimeMs: number; size: number; ino: number }): string {
  return `${st.mtimeMs}:${st.size}:${st.ino}`;
}

interface KeyFile {
  version: 1;
  keys: ApiKeyRecord[];
}

/** A {@link KeyStore} in one JSON file, written atomically with mode 0600. */
export async function openFileKeyStore(path: string): Promise<KeyStore> {
  let keys: ApiKeyRecord[] = [];
  let version = 'absent';
  const watcher = watchFile(path);

  const load = async (): Promise<void> => {
    watcher.markRead();
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        keys = [];
        version = 'absent';
        return;
      }
      throw err;
    }
    if (versionOf(st) === version) return;
    let parsed: KeyFile;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8')) as KeyFile;
    } catch (cause) {
      throw new FetchmlError('ML_ERR_STORE_CORRUPT', `${path} is not valid JSON`, { cause });
    }
    if (parsed.version !== 1 || !Array.isArray(parsed.keys)) {
      throw new FetchmlError('ML_ERR_STORE_CORRUPT', `${path}: unknown format`);
    }
    keys = parsed.keys;
    version = versionOf(st);
  };

  const save = async (): Promise<void> => {
    const tmp = `${path}.${process.pid}.tmp`;
    const body: KeyFile = { version: 1, keys };
    await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
    version = versionOf(await stat(path));
  };

  await load();
  return {
    findByPrefix(prefix) {
      const pick = () => keys.filter((k) => k.prefix === prefix);
      // Added, revoked or rotated by another process since we last looked: re-read.
      return watcher.changed() ? load().then(pick) : pick();
    },
    async add(record) {
      await load();
      keys = [...keys, record];
      await save();
    },
    async list() {
      await load();
      return [...keys];
    },
    async revoke(id, at) {
      await load();
      const key = keys.find((k) => k.id === id);
      if (!key) throw new FetchmlError('ML_ERR_NOT_FOUND', `no such API key: ${id}`);
      keys = keys.map((k) => (k.id === id ? { ...k, revoked_at: at } : k));
      await save();
    },
    close() {
      watcher.close();
    },
  };
}
