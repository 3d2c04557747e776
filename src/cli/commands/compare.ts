/**
 * @module cli/commands/compare
 * `ml compare A B`: two runs side by side from their run manifests (`GET /v1/compare`): whether
 * they ran the same plan; the files changed between their commits (`--diff`: unified diffs of the
 * text files); then run settings, dependencies, datasets, image, resources, worker and environment
 * — the rows that differ, with a count of those that agree (`--all` shows every row) — and the
 * final metrics with B − A. `--json` prints the server's answer as is.
 */
import type { Command } from 'commander';

import type { CompareResponse, CompareRow } from '../../core/schemas/compare.ts';
import { withClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { shortId } from '../shared/format.ts';
import { formatCell, formatTable, writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { resolveTaskId } from '../shared/task-ref.ts';

export interface CompareOptions {
  diff?: boolean;
  all?: boolean;
  json?: boolean;
  server?: string;
}

const MARK: Record<string, string> = { added: 'A', removed: 'D', modified: 'M' };

function cell(value: CompareRow['a']): string {
  if (value === null) return '-';
  if (Array.isArray(value))
    return value.length === 0 ? '[]' : value.map((v) => formatCell(v)).join(' ');
  return formatCell(value);
}

function number(n: number | null): string {
  if (n === null) return '-';
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6)));
}

/** The human view of a comparison. */
export function formatCompare(r: CompareResponse, opts: { all?: boolean } = {}): string {
  const a = `A ${shortId(r.a.task_id)} (${r.a.name}, ${r.a.status})`;
  const b = `B ${shortId(r.b.task_id)} (${r.b.name}, ${r.b.status})`;
  let out = `${a}\n${b}\n`;
  out += r.same_plan
    ? `plan: same (${r.a.plan_sha256})\n`
    : `plan: differs (A ${r.a.plan_sha256.slice(0, 16)}…, B ${r.b.plan_sha256.slice(0, 16)}…)\n`;

  out += `\ncode: `;
  if (r.code.same) out += `same commit contents (${r.code.unchanged} files)\n`;
  else {
    out += `${r.code.files.length} file${r.code.files.length === 1 ? '' : 's'} differ, ${r.code.unchanged} unchanged\n`;
    for (const f of r.code.files) {
      out += `  ${MARK[f.change] ?? '?'} ${f.path}${f.note ? `  (${f.note})` : ''}\n`;
    }
    for (const f of r.code.files) if (f.diff) out += `\n${f.diff}`;
  }

  // Sections in the server's order: run, dependencies, datasets, image, resources, worker,
  // environment. Those that agree entirely (or are empty on both sides) share one line.
  const same: string[] = [];
  const empty: string[] = [];
  for (const [section, rows] of Object.entries(r.sections)) {
    const differ = rows.filter((x) => !x.same);
    if (rows.length === 0) {
      empty.push(section);
      if (!opts.all) continue;
    } else if (differ.length === 0 && !opts.all) {
      same.push(`${section} (${rows.length})`);
      continue;
    }
    if (rows.length === 0) continue;
    const shown = opts.all ? rows : differ;
    const agree = rows.length - differ.length;
    out += `\n${section}:${shown.length === rows.length ? '' : ` ${agree} same, these differ:`}\n`;
    out += formatTable(
      ['  KEY', 'A', 'B', ''],
      shown.map((x) => [`  ${x.key}`, cell(x.a), cell(x.b), x.same ? '' : '*']),
    );
  }
  if (same.length > 0) out += `\nsame: ${same.join(', ')}\n`;
  if (empty.length > 0)
    out += `${same.length > 0 ? '' : '\n'}none on either side: ${empty.join(', ')}\n`;

  out += '\nmetrics (final values):';
  if (r.metrics.length === 0) out += ' none on either side\n';
  else {
    out += '\n';
    out += formatTable(
      ['  NAME', 'A', 'B', 'B − A'],
      r.metrics.map((m) => [
        `  ${m.key}`,
        number(m.a),
        number(m.b),
        m.delta === null ? '' : `${m.delta > 0 ? '+' : ''}${number(m.delta)}`,
      ]),
    );
  }
  return out;
}

/** Runs `ml compare`. */
export async function runCompare(
  deps: CommandDeps,
  refA: string,
  refB: string,
  opts: CompareOptions,
): Promise<CompareResponse> {
  return withClient(deps, opts.server, async (client) => {
    const a = await resolveTaskId(client, refA);
    const b = await resolveTaskId(client, refB);
    const result = await client.compare(a, b, { diff: opts.diff ?? false });
    if (opts.json) writeJson(deps.io.stdout, result);
    else deps.io.stdout.write(formatCompare(result, opts));
    return result;
  });
}

/** Registers `ml compare`. */
export function registerCompare(program: Command, ctx: CliContext): void {
  program
    .command('compare')
    .description(
      'two runs side by side: code, args, deps, datasets, image, resources, env, metrics',
    )
    .argument('<task-a>', 'the first task: id or a unique prefix of it')
    .argument('<task-b>', 'the second task: id or a unique prefix of it')
    .option('--diff', 'show unified diffs of the changed text files')
    .option('--all', 'show every row, not only those that differ')
    .addHelpText(
      'after',
      examples(
        'ml compare 01JD3Q3Z 01JD3R7K',
        'ml compare 01JD3Q3Z 01JD3R7K --diff',
        'ml compare 01JD3Q3Z 01JD3R7K --json | jq .metrics',
      ),
    )
    .action(async (a: string, b: string, opts: CompareOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runCompare(ctx.deps(), a, b, {
        ...opts,
        json: g.json,
        ...(g.server ? { server: g.server } : {}),
      });
    });
}
