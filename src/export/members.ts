/**
 * @module export/members
 * The layout of an export archive (`ml export`): one tar (optionally gzip-compressed) whose members
 * are, in this order:
 *
 * ```
 * export.json                what this is: format, version, task id, commit id, when, which fetchml
 * task.json                  the task record as the server stored it
 * plan.json                  the resolved plan (its canonical sha256 is the task's plan_sha256)
 * run_manifest.json          the provenance record the worker wrote
 * logs/output.log            the task's log (absent when the task never logged)
 * snapshot/tree.json         the snapshot's tree manifest (its canonical sha256 is the commit id)
 * snapshot/files/<path>      every file of the snapshot, by its path (symlinks are in tree.json only)
 * artifacts/<path>           every artifact listed in the run manifest, by its path
 * checksums.sha256           `<sha256>  <member>` for every member above (`sha256sum -c` format)
 * ```
 *
 * Only regular files (and, tolerated, directory entries) appear; no links of any kind. Members
 * carry fixed owner 0/0 and the task's end time, so exporting the same task twice gives the same
 * bytes.
 *
 * No dependencies: commands use these names without loading zod or tar-stream.
 */
export const EXPORT_FORMAT = 'fetchml-export';
export const EXPORT_FORMAT_VERSION = 1;

/** Fixed member names. */
export const MEMBER = {
  info: 'export.json',
  task: 'task.json',
  plan: 'plan.json',
  manifest: 'run_manifest.json',
  log: 'logs/output.log',
  tree: 'snapshot/tree.json',
  checksums: 'checksums.sha256',
} as const;

/** Prefix of snapshot file members. */
export const SNAPSHOT_PREFIX = 'snapshot/files/';
/** Prefix of artifact members. */
export const ARTIFACT_PREFIX = 'artifacts/';

/** One line of `checksums.sha256`. */
export function checksumLine(sha256: string, member: string): string {
  return `${sha256}  ${member}\n`;
}

/** Parses `checksums.sha256`; returns member → sha256, or the first bad line's problem. */
export function parseChecksums(text: string): Map<string, string> | string {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const [i, line] of lines.entries()) {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!m) return `line ${i + 1} is not '<sha256>  <member>'`;
    const [, sha, name] = m as unknown as [string, string, string];
    if (out.has(name)) return `line ${i + 1} lists ${JSON.stringify(name)} twice`;
    out.set(name, sha);
  }
  return out;
}
