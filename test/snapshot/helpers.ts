/**
 * @module test/snapshot/helpers
 * Real temp directories for the snapshot tests: write a tree from a spec, age mtimes so the
 * stat cache does not treat fresh files as racy, and clean up.
 */
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A file's content (string or bytes), `{link}` for a symlink, `{exec}` for an executable. */
export type Spec = Record<string, string | Uint8Array | { link: string } | { exec: string }>;

const dirs: string[] = [];

/** A fresh temp dir, removed by {@link cleanup}. */
export function tempDir(prefix = 'fetchml-snap-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Removes every dir made by {@link tempDir}. */
export function cleanup(): void {
  for (const d of dirs.splice(0)) {
    chmodTree(d);
    rmSync(d, { recursive: true, force: true });
  }
}

function chmodTree(d: string): void {
  try {
    chmodSync(d, 0o755);
  } catch {
    // gone already
  }
}

/** Writes `spec` under `root`, in the order given. */
export function writeTree(root: string, spec: Spec): void {
  for (const [rel, v] of Object.entries(spec)) {
    const abs = join(root, rel);
    mkdirSync(dirname(abs), { recursive: true });
    if (typeof v === 'string' || v instanceof Uint8Array) writeFileSync(abs, v);
    else if ('link' in v) symlinkSync(v.link, abs);
    else {
      writeFileSync(abs, v.exec);
      chmodSync(abs, 0o755);
    }
  }
}

/** Sets the mtime of each path (relative to root) to `secondsAgo` in the past. */
export function age(root: string, paths: string[], secondsAgo = 3600): void {
  const t = Date.now() / 1000 - secondsAgo;
  for (const p of paths) utimesSync(join(root, p), t, t);
}

/** A tree under a new temp dir, with every regular file aged. */
export function makeTree(spec: Spec): string {
  const root = tempDir();
  writeTree(root, spec);
  age(
    root,
    Object.entries(spec)
      .filter(([, v]) => typeof v === 'string' || v instanceof Uint8Array || 'exec' in v)
      .map(([k]) => k),
  );
  return root;
}
