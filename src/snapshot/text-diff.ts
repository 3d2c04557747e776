/**
 * @module snapshot/text-diff
 * A line diff of two texts in unified format (`ml compare --diff`): Myers' O((N+M)·D) algorithm
 * after trimming the common prefix and suffix, hunks with 3 lines of context. Bounded: more than
 * `maxEdits` changed lines gives null (the caller says "too many changes to show") rather than a
 * slow or huge answer.
 */

/** Options of {@link unifiedDiff}. */
export interface UnifiedDiffOptions {
  /** Header names, e.g. `a/train.py` and `b/train.py`; `/dev/null` for an absent side. */
  from: string;
  to: string;
  /** Context lines around each change. @default 3 */
  context?: number;
  /** Most inserted + deleted lines to work out. @default 4000 */
  maxEdits?: number;
}

type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** The edit script turning `a` into `b` (Myers), or null past `maxEdits`. */
function editScript(a: readonly string[], b: readonly string[], maxEdits: number): Op[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      const down =
        k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number));
      let x = down ? (v[offset + k + 1] as number) : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    v = next;
    if (found >= 0) break;
  }
  if (found < 0) return null;
  // Walk back through the trace.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const vd = trace[d] as Int32Array;
    const k = x - y;
    const down =
      k === -d || (k !== d && (vd[offset + k - 1] as number) < (vd[offset + k + 1] as number));
    const prevK = down ? k + 1 : k - 1;
    const prevX = vd[offset + prevK] as number;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[x - 1] as string });
      x--;
      y--;
    }
    if (down) ops.push({ kind: '+', line: b[y - 1] as string });
    else ops.push({ kind: '-', line: a[x - 1] as string });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: ' ', line: a[x - 1] as string });
    x--;
    y--;
  }
  return ops.reverse();
}

/**
 * The unified diff of `before` → `after` (empty string when equal), or null when more than
 * `maxEdits` lines changed.
 */
export function unifiedDiff(
  before: string,
  after: string,
  options: UnifiedDiffOptions,
): string | null {
  const context = options.context ?? 3;
  const a = splitLines(before);
  const b = splitLines(after);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let post = 0;
  while (
    post < a.length - pre &&
    post < b.length - pre &&
    a[a.length - 1 - post] === b[b.length - 1 - post]
  ) {
    post++;
  }
  const middle = editScript(
    a.slice(pre, a.length - post),
    b.slice(pre, b.length - post),
    options.maxEdits ?? 4000,
  );
  if (middle === null) return null;
  const ops: Op[] = [
    ...a.slice(0, pre).map((line): Op => ({ kind: ' ', line })),
    ...middle,
    ...a.slice(a.length - post).map((line): Op => ({ kind: ' ', line })),
  ];
  if (!ops.some((o) => o.kind !== ' ')) return '';

  let out = `--- ${options.from}\n+++ ${options.to}\n`;
  // Line numbers (1-based) of each op in a and b.
  let ia = 0;
  let ib = 0;
  const pos = ops.map((o) => {
    const here = { a: ia, b: ib };
    if (o.kind !== '+') ia++;
    if (o.kind !== '-') ib++;
    return here;
  });
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && (ops[i] as Op).kind === ' ') i++;
    if (i >= ops.length) break;
    const start = Math.max(0, i - context);
    let end = i;
    // Extend while the next change is within 2·context lines.
    for (;;) {
      while (end < ops.length && (ops[end] as Op).kind !== ' ') end++;
      let gap = end;
      while (gap < ops.length && (ops[gap] as Op).kind === ' ') gap++;
      if (gap < ops.length && gap - end <= 2 * context) end = gap;
      else {
        end = Math.min(ops.length, end + context);
        break;
      }
    }
    const hunk = ops.slice(start, end);
    const first = pos[start] as { a: number; b: number };
    const countA = hunk.filter((o) => o.kind !== '+').length;
    const countB = hunk.filter((o) => o.kind !== '-').length;
    const range = (line: number, count: number) =>
      count === 1 ? `${line + 1}` : `${count === 0 ? line : line + 1},${count}`;
    out += `@@ -${range(first.a, countA)} +${range(first.b, countB)} @@\n`;
    for (const o of hunk) out += `${o.kind}${o.line}\n`;
    i = end;
  }
  return out;
}
