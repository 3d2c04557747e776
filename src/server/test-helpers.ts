/**
 * @module server/test-helpers
 * A server on real embedded backends (SQLite store and queue, fs blobs, memory events) in a temp
 * base dir (worker/test-backends.ts), for the server's tests. Not part of the runtime API.
 */
import { canonicalSha256, sha256Hex } from '../core/hash.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import { openTestBackends } from '../worker/test-backends.ts';
import { createServer } from './app.ts';
import type { FetchmlServer } from './app.ts';
import type { ServerDeps, ServerOptions } from './types.ts';

export interface TestServer {
  server: FetchmlServer;
  deps: Required<Pick<ServerDeps, 'store' | 'queue' | 'blobs' | 'events'>>;
  home: string;
  /** The admin key. */
  key: string;
  auth: { authorization: string };
  cleanup(): Promise<void>;
}

export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const backends = await openTestBackends('fetchml-server-');
  const { home, store, queue, blobs, events } = backends;
  const deps = { store, queue, blobs, events };
  const server = await createServer({ home, port: 0, reapIntervalMs: 0, ...options }, deps);
  const key = server.adminKey!;
  return {
    server,
    deps,
    home,
    key,
    auth: { authorization: `Bearer ${key}` },
    async cleanup() {
      await server.close();
      await backends.cleanup();
    },
  };
}

/** A one-file project (`train.py`) and its manifest. */
export function sampleProject(script = 'print("hello")\n') {
  const data = Buffer.from(script);
  const manifest: TreeManifest = {
    version: 1,
    entries: [
      { path: 'train.py', type: 'file', mode: 0o644, size: data.length, sha256: sha256Hex(data) },
    ],
  };
  return { data, manifest, commitId: canonicalSha256(manifest), sha: sha256Hex(data) };
}

/** The `error` member of an error response. */
export function errorOf(res: { json<T>(): T }): { code: string; message: string } {
  return res.json<{ error: { code: string; message: string } }>().error;
}

/** A spec that passes the strict preflight on {@link sampleProject} (it declares no deps manifest). */
export const sampleSpec = { name: 'demo', command: 'python3 train.py', deps: 'none' };
