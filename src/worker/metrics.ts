/**
 * @module worker/metrics
 * A run's metrics: JSON lines the job appends to the file named by `$FETCHML_METRICS`, which is
 * `$FETCHML_OUTPUT/metrics.jsonl` — inside the output dir, the one place every runtime lets the
 * job write, so the same path works under process, sandbox, podman and docker.
 *
 * Format (one JSON object per line; docs/reproducibility.md#metrics):
 *
 *     {"step": 10, "loss": 0.31, "accuracy": 0.92}
 *
 * `step` (an integer ≥ 0) and `time` (a number, unix seconds) are optional and reserved; every
 * other key is a metric name (letters, digits, `. _ - /`, at most 128) and its value a finite
 * number. A metric's final value is its value on the last line that has it. A job may also state
 * final values outright in `$FETCHML_OUTPUT/final_metrics.json` (an object of numbers), which wins
 * key by key; `metrics.json` is read the same way, below it, for older jobs.
 *
 * Bad input never fails the job: a line that is not JSON, not an object, or has a bad key or value
 * is skipped (the rest of the line's metrics too, for a non-object) and reported as a manifest
 * warning naming the line number and what is wrong (the first {@link MAX_REPORTED}, then a count).
 * Caps, each reported when hit: {@link METRICS_MAX_BYTES} read, {@link METRICS_MAX_LINES} lines,
 * {@link METRICS_MAX_LINE_BYTES} per line, {@link METRICS_MAX_NAMES} distinct metrics.
 *
 * Where metrics are kept — as the `metrics.jsonl` artifact plus final values in the run manifest,
 * not in a store table: the file is in output/ anyway, so it is stored in the blob store with its
 * sha256 listed in the manifest (verified, exported and compared like every artifact, on every
 * store backend, with no migration); the final values in the manifest keep `ml info` and
 * `ml compare` to one read each. The full series stays available as the artifact.
 */
import { createReadStream } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The metrics file's name in the output dir (what `$FETCHML_METRICS` names). */
export const METRICS_FILE = 'metrics.jsonl';
export const METRICS_MAX_BYTES = 64 * 1024 * 1024;
export const METRICS_MAX_LINES = 1_000_000;
export const METRICS_MAX_LINE_BYTES = 64 * 1024;
export const METRICS_MAX_NAMES = 1000;
/** Bad lines reported one by one; the rest are counted. */
const MAX_REPORTED = 5;
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._/-]{0,127}$/;
const RESERVED = new Set(['step', 'time']);

/** What {@link collectMetrics} read. */
export interface CollectedMetrics {
  /** Final value per metric name, sorted by name. */
  final: Record<string, number>;
  /** Lines read from metrics.jsonl (blank lines not counted). */
  lines: number;
  /** Lines skipped as bad. */
  badLines: number;
  /** The largest `step` seen, or null. */
  lastStep: number | null;
  /** One line per problem, for the manifest's warnings. */
  warnings: string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What is wrong with one parsed line, or null; valid metrics are written to `out`. */
function lineProblem(value: unknown, out: Map<string, number>): string | null {
  if (!isObject(value)) return 'not a JSON object';
  const step = value['step'];
  if (step !== undefined && !(Number.isInteger(step) && (step as number) >= 0)) {
    return `"step" must be an integer ≥ 0 (got ${JSON.stringify(step)})`;
  }
  const time = value['time'];
  if (time !== undefined && !(typeof time === 'number' && Number.isFinite(time))) {
    return `"time" must be a number (unix seconds; got ${JSON.stringify(time)})`;
  }
  const found = new Map<string, number>();
  for (const [key, v] of Object.entries(value)) {
    if (RESERVED.has(key)) continue;
    if (!NAME_RE.test(key))
      return `metric name ${JSON.stringify(key)}: letters, digits, . _ - / only (max 128)`;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      return `metric ${JSON.stringify(key)}: value must be a finite number (got ${JSON.stringify(v) ?? String(v)})`;
    }
    found.set(key, v);
  }
  for (const [k, v] of found) out.set(k, v);
  return null;
}

async function regularFile(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => null);
  return st?.isFile() ?? false;
}

/**
 * Splits a byte stream into lines under the caps: at most `maxBytes` read; a line longer than
 * `maxLine` is handed over as `null` (once) and the rest of it skipped, never buffered.
 * @returns whether the byte cap cut the stream short.
 */
async function eachLine(
  stream: AsyncIterable<Buffer>,
  maxBytes: number,
  maxLine: number,
  onLine: (line: Buffer | null) => boolean,
): Promise<boolean> {
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let skipping = false;
  let bytes = 0;
  for await (const chunk of stream) {
    const room = maxBytes - bytes;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    bytes += part.length;
    let at = 0;
    while (at < part.length) {
      const nl = part.indexOf(0x0a, at);
      const end = nl === -1 ? part.length : nl;
      if (!skipping) {
        pending.push(part.subarray(at, end));
        pendingLen += end - at;
        if (pendingLen > maxLine) {
          pending = [];
          pendingLen = 0;
          skipping = true;
          if (!onLine(null)) return false;
        }
      }
      if (nl === -1) break;
      if (!skipping && !onLine(Buffer.concat(pending, pendingLen))) return false;
      pending = [];
      pendingLen = 0;
      skipping = false;
      at = nl + 1;
    }
    if (part.length < chunk.length) return true;
  }
  if (!skipping && pendingLen > 0) onLine(Buffer.concat(pending, pendingLen));
  return false;
}

/** Reads the JSON-lines file under the caps into `into` and `values`; see the module doc. */
async function readLines(path: string, into: CollectedMetrics, values: Map<string, number>) {
  const problems: string[] = [];
  let lineNo = 0;
  let tooMany: string | null = null;
  const bad = (why: string) => {
    into.badLines += 1;
    if (problems.length < MAX_REPORTED) {
      problems.push(`${METRICS_FILE} line ${lineNo}: ${why}; skipped`);
    }
  };
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  let cut: boolean;
  try {
    cut = await eachLine(
      stream as AsyncIterable<Buffer>,
      METRICS_MAX_BYTES,
      METRICS_MAX_LINE_BYTES,
      (raw) => {
        lineNo += 1;
        if (raw === null) {
          bad(`longer than ${METRICS_MAX_LINE_BYTES} bytes`);
          return true;
        }
        const text = raw.toString('utf8').trim();
        if (text === '') return true;
        if (into.lines >= METRICS_MAX_LINES) {
          tooMany = `${METRICS_FILE}: more than ${METRICS_MAX_LINES} lines; only the first ${METRICS_MAX_LINES} were read (log less often)`;
          return false;
        }
        into.lines += 1;
        let value: unknown;
        try {
          value = JSON.parse(text) as unknown;
        } catch {
          bad('not valid JSON');
          return true;
        }
        const line = new Map<string, number>();
        const problem = lineProblem(value, line);
        if (problem) {
          bad(problem);
          return true;
        }
        for (const [k, v] of line) {
          if (!values.has(k) && values.size >= METRICS_MAX_NAMES) {
            tooMany ??= `${METRICS_FILE}: more than ${METRICS_MAX_NAMES} distinct metrics; the later names were dropped`;
            continue;
          }
          values.set(k, v);
        }
        const step = (value as Record<string, unknown>)['step'];
        if (typeof step === 'number') into.lastStep = Math.max(into.lastStep ?? 0, step);
        return true;
      },
    );
  } finally {
    stream.destroy();
  }
  if (into.badLines > problems.length) {
    problems.push(`${METRICS_FILE}: ${into.badLines - problems.length} more bad lines skipped`);
  }
  into.warnings.push(...problems);
  if (cut) {
    const mib = METRICS_MAX_BYTES / (1024 * 1024);
    into.warnings.push(
      `${METRICS_FILE}: larger than ${mib} MiB; only the first ${mib} MiB were read (log less often)`,
    );
  }
  if (tooMany) into.warnings.push(tooMany);
}

/** An object of final values (final_metrics.json, metrics.json) into `values`; else a warning. */
async function readFinalFile(
  outputDir: string,
  name: string,
  into: CollectedMetrics,
  values: Map<string, number>,
): Promise<void> {
  const path = join(outputDir, name);
  if (!(await regularFile(path))) return;
  const st = await lstat(path);
  if (st.size > METRICS_MAX_LINE_BYTES * 16) {
    into.warnings.push(
      `${name}: larger than ${(METRICS_MAX_LINE_BYTES * 16) / 1024} KiB; not read`,
    );
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    into.warnings.push(`${name}: not valid JSON; not read`);
    return;
  }
  const found = new Map<string, number>();
  const problem = lineProblem(value, found);
  if (problem) {
    into.warnings.push(`${name}: ${problem}; not read`);
    return;
  }
  for (const [k, v] of found) values.set(k, v);
}

/**
 * The run's metrics from its output dir (see the module doc). Symlinks are never read; a missing
 * file is no metrics, not an error.
 */
export async function collectMetrics(outputDir: string): Promise<CollectedMetrics> {
  const into: CollectedMetrics = { final: {}, lines: 0, badLines: 0, lastStep: null, warnings: [] };
  const values = new Map<string, number>();
  const path = join(outputDir, METRICS_FILE);
  if (await regularFile(path)) await readLines(path, into, values);
  await readFinalFile(outputDir, 'metrics.json', into, values);
  await readFinalFile(outputDir, 'final_metrics.json', into, values);
  for (const k of [...values.keys()].sort()) into.final[k] = values.get(k) as number;
  return into;
}

/** One log line about what was read. */
export function describeMetrics(m: CollectedMetrics): string {
  const names = Object.keys(m.final);
  if (m.lines === 0 && names.length === 0)
    return 'metrics: none (write JSON lines to $FETCHML_METRICS)';
  const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? ', …' : '');
  return (
    `metrics: ${m.lines} lines, ${names.length} metrics (${shown})` +
    (m.lastStep !== null ? `, last step ${m.lastStep}` : '') +
    (m.badLines > 0 ? `, ${m.badLines} bad lines skipped` : '')
  );
}
