/**
 * @module snapshot/manifest
 * Helpers over tree manifests shared by snapshot, materialize and diff: the byte-order path
 * comparator the schema requires, a fast commit id, and the symlink check that a lexical test
 * alone cannot do.
 *
 * Why a second serializer: `canonicalSha256(manifest)` walks every entry generically (key sorting,
 * cycle checks) and was a visible share of a warm re-snapshot of 20k files. {@link commitIdOf}
 * writes the same bytes for the one known shape; a test pins it to `canonicalSha256`.
 *
 * Why a virtual resolver: `symlinkTargetProblem` checks one link lexically, but `a -> b/../..`
 * stays inside lexically while escaping when `b` is itself a link to `../..`. {@link
 * treeSymlinkProblems} resolves every target through the tree's own links, as the kernel would
 * after materialize, and reports any that climb above the root.
 */
import { createHash } from 'node:crypto';

import { symlinkTargetProblem } from '../core/paths.ts';
import type { TreeEntry, TreeManifest } from '../core/schemas/tree.ts';

/**
 * Orders paths by their UTF-8 bytes (the manifest's order). UTF-16 order differs from it only
 * when a surrogate meets a code unit at or above U+E000, so the first difference is compared by
 * code point.
 */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x < 0xd800 && y < 0xd800) return x - y;
      return (a.codePointAt(i) ?? x) - (b.codePointAt(i) ?? y);
    }
  }
  return a.length - b.length;
}

/** Characters `JSON.stringify` escapes: quote, backslash, controls and (lone) surrogates. */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const quote = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);

function entryJson(e: TreeEntry): string {
  if (e.type === 'file') {
    return `{"mode":${e.mode},"path":${quote(e.path)},"sha256":"${e.sha256}","size":${e.size},"type":"file"}`;
  }
  return `{"path":${quote(e.path)},"target":${quote(e.target)},"type":"symlink"}`;
}

/**
 * The commit id of a manifest: identical to `canonicalSha256(manifest)` for a well-formed
 * {@link TreeManifest}, computed without building one large string.
 */
export function commitIdOf(manifest: TreeManifest): string {
  const hash = createHash('sha256');
  hash.update('{"entries":[');
  const { entries } = manifest;
  const CHUNK = 512;
  for (let i = 0; i < entries.length; i += CHUNK) {
    const part: string[] = [];
    for (let j = i; j < Math.min(i + CHUNK, entries.length); j++) {
      part.push(entryJson(entries[j] as TreeEntry));
    }
    hash.update((i === 0 ? '' : ',') + part.join(','));
  }
  hash.update(`],"version":${manifest.version}}`);
  return hash.digest('hex');
}

/**
 * The canonical JSON of a manifest's entries as UTF-8, joined by ',', with where each entry and
 * each file's sha256 start in it (byte offsets): kept by the tree cache (./tree-cache.ts) so that
 * the next snapshot of the same layout hashes the bytes of every entry that did not change as
 * they are, and makes JSON only for those that did.
 */
export interface ManifestText {
  bytes: Buffer;
  /** Entry `i` is `bytes[starts[i], starts[i + 1] - 1)`; `entries + 1` offsets. */
  starts: Int32Array;
  /** Per entry, where its sha256 hex starts (-1 for a symlink). */
  shaAt: Int32Array;
}

/** {@link ManifestText} of `entries`. */
export function manifestText(entries: readonly TreeEntry[]): ManifestText {
  const n = entries.length;
  const parts: string[] = new Array<string>(n);
  const starts = new Int32Array(n + 1);
  const shaAt = new Int32Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i] as TreeEntry;
    const json = entryJson(e);
    const size = Buffer.byteLength(json);
    parts[i] = json;
    starts[i] = at;
    // What follows the hash ('","size":…}') is ASCII: count back from the end.
    shaAt[i] = e.type === 'file' ? at + size - (json.length - json.indexOf('"sha256":"') - 10) : -1;
    at += size + 1;
  }
  starts[n] = at;
  return { bytes: Buffer.from(parts.join(','), 'utf8'), starts, shaAt };
}

/** The commit id of a version-1 manifest whose entries' canonical JSON is `text`. */
export function commitIdOfText(text: ManifestText): string {
  return createHash('sha256')
    .update('{"entries":[')
    .update(text.bytes)
    .update('],"version":1}')
    .digest('hex');
}

/** A file entry's JSON starts '{"mode":420,' or '{"mode":493,': its 10th byte tells them apart. */
const MODE_BYTE = 9;
const MODE_644 = 0x32; // '2'
const MODE_755 = 0x39; // '9'

/**
 * The commit id of `entries`, re-using `cached` — the text of the same entries in the same order
 * with perhaps other hashes and modes — for every file whose sha256 and mode are unchanged (its
 * size follows from its content) and every symlink (replayed from the same record). Null when the
 * entries are not the cached ones (a file left out meanwhile): compute it in full then.
 */
export function commitIdReusing(
  entries: readonly TreeEntry[],
  cached: ManifestText,
  /** Per entry, 1 where the entry's sha256 was taken from `cached` itself (no need to compare). */
  fromText: Uint8Array | null = null,
): string | null {
  const n = entries.length;
  const { bytes, starts, shaAt } = cached;
  if (starts.length !== n + 1) return null;
  const hash = createHash('sha256').update('{"entries":[');
  let runFrom = 0; // bytes not yet hashed start here (an entry's start)
  for (let i = 0; i < n; i++) {
    const e = entries[i] as TreeEntry;
    if (e.type !== 'file') continue;
    const at = starts[i] as number;
    const sha = shaAt[i] as number;
    if (
      sha >= 0 &&
      (fromText?.[i] === 1 || bytes.toString('latin1', sha, sha + 64) === e.sha256) &&
      bytes[at + MODE_BYTE] === (e.mode === 0o755 ? MODE_755 : MODE_644)
    ) {
      continue;
    }
    // Changed: the bytes before it, then its own JSON in its place.
    if (at > runFrom) hash.update(bytes.subarray(runFrom, at));
    hash.update(entryJson(e));
    runFrom = (starts[i + 1] as number) - 1; // its ',' (or the end) is hashed with what follows
  }
  if (runFrom < bytes.length) hash.update(bytes.subarray(runFrom));
  return hash.update('],"version":1}').digest('hex');
}

const MAX_LINK_HOPS = 40;

/**
 * Resolves the target of the link at `linkPath` through the links in `links` (path → target).
 * Returns a problem when the resolution leaves the tree or reaches an absolute path.
 */
function resolveProblem(linkPath: string, links: ReadonlyMap<string, string>): string | null {
  let hops = 0;
  // A work list of components still to walk, processed from the front.
  const start = links.get(linkPath) ?? '';
  const lexical = symlinkTargetProblem(linkPath, start);
  if (lexical) return lexical;
  const stack: string[] = linkPath.split('/').slice(0, -1);
  let todo: string[] = start.split('/');
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) return `symlink resolves outside the tree (${start})`;
      stack.pop();
      continue;
    }
    stack.push(part);
    const here = stack.join('/');
    const next = links.get(here);
    if (next !== undefined) {
      // A loop fails with ELOOP wherever it is followed, as the kernel stops at 40 hops too.
      if (++hops > MAX_LINK_HOPS) return null;
      if (next.startsWith('/')) return `symlink resolves to an absolute path (${start})`;
      stack.pop();
      todo = [...next.split('/'), ...todo];
    }
  }
  return null;
}

/**
 * Every symlink in `entries` whose target, followed through the tree's own links, leaves the
 * tree or is absolute: `[{path, reason}]`, empty when all stay inside.
 */
export function treeSymlinkProblems(
  entries: readonly TreeEntry[],
): { path: string; reason: string }[] {
  const links = new Map<string, string>();
  for (const e of entries) if (e.type === 'symlink') links.set(e.path, e.target);
  const problems: { path: string; reason: string }[] = [];
  for (const path of links.keys()) {
    const reason = resolveProblem(path, links);
    if (reason) problems.push({ path, reason });
  }
  return problems;
}
