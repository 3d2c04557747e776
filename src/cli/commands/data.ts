/**
 * @module cli/commands/data
 * `ml data`: the server's dataset catalog.
 *
 * - `ml data upload <dir|file> --name N`: snapshot and upload (only missing blobs, with progress;
 *   re-run after an interrupt to resume); a new version when the content changed, the existing one
 *   when it did not. Prints the checksum to pin in fetchml.yaml.
 * - `ml data list`: every dataset, latest version.
 * - `ml data show N[@version]` (alias `info`): one version, every version, `--files` its files.
 * - `ml data verify N[@version]`: the server re-hashes every blob and the tree; exit 1 naming each
 *   file that is missing or changed.
 *
 * All take `--json`.
 */
import type { Command } from 'commander';

import { ExitError, FetchmlError } from '../../core/errors.ts';
import type {
  DatasetShowResponse,
  DatasetVerifyResponse,
  DatasetVersion,
} from '../../core/schemas/dataset.ts';
import { formatBytes } from '../../core/units.ts';
import { DATASET_NAME_RE, uploadDataset } from '../data/upload.ts';
import type { UploadResult } from '../data/upload.ts';
import { withClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { formatDuration } from '../shared/format.ts';
import { formatTable, writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';

interface DataOptions {
  json?: boolean;
  server?: string;
}

/** `name` or `name@version`, checked. */
export function parseDatasetRef(ref: string): { name: string; version?: number } {
  const at = ref.lastIndexOf('@');
  const name = at === -1 ? ref : ref.slice(0, at);
  const v = at === -1 ? undefined : ref.slice(at + 1);
  if (!DATASET_NAME_RE.test(name)) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      `${JSON.stringify(ref)}: not a dataset name (letters, digits, . _ -; optionally @version)`,
      { details: { field: 'dataset', value: ref } },
    );
  }
  if (v === undefined) return { name };
  if (!/^[1-9][0-9]{0,8}$/.test(v)) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      `${JSON.stringify(ref)}: the version after @ must be a number from 1 (e.g. ${name}@2)`,
      { details: { field: 'dataset', value: ref } },
    );
  }
  return { name, version: Number(v) };
}

/** The fetchml.yaml lines that pin `d`. */
export function pinSnippet(d: DatasetVersion): string {
  return `datasets:\n  - name: ${d.name}\n    checksum: ${d.checksum}\n`;
}

function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

/** Runs `ml data upload`. */
export async function runDataUpload(
  deps: CommandDeps,
  path: string,
  opts: DataOptions & { name: string },
): Promise<UploadResult> {
  const result = await withClient(deps, opts.server, (client) =>
    uploadDataset(deps, client, path, opts.name, { json: opts.json }),
  );
  if (opts.json) writeJson(deps.io.stdout, result);
  else {
    const d = result.dataset;
    deps.io.stdout.write(
      `dataset ${d.name} v${d.version} ${d.checksum}${result.created ? '' : ' (unchanged: this content is already that version)'}\n` +
        `  ${result.files} files (${formatBytes(result.bytes)}), ${result.uploaded_blobs} blobs uploaded ` +
        `(${formatBytes(result.uploaded_bytes)}) in ${formatDuration(result.ms)}\n` +
        `pin it in fetchml.yaml:\n${indent(pinSnippet(d))}`,
    );
  }
  return result;
}

/** Runs `ml data list`. */
export async function runDataList(deps: CommandDeps, opts: DataOptions): Promise<void> {
  const { datasets } = await withClient(deps, opts.server, (client) => client.listDatasets());
  if (opts.json) return writeJson(deps.io.stdout, { datasets });
  if (datasets.length === 0) {
    deps.io.stdout.write('no datasets yet: ml data upload <dir> --name <name> adds one\n');
    return;
  }
  deps.io.stdout.write(
    formatTable(
      ['NAME', 'LATEST', 'VERSIONS', 'FILES', 'SIZE', 'CREATOR', 'CREATED', 'CHECKSUM'],
      datasets.map((d) => [
        d.name,
        `v${d.version}`,
        String(d.versions),
        String(d.files),
        formatBytes(d.size),
        d.creator,
        d.created_at.slice(0, 19).replace('T', ' '),
        d.checksum,
      ]),
    ),
  );
}

/** The human view of `ml data show`. */
export function formatDatasetShow(show: DatasetShowResponse): string {
  const d = show.dataset;
  const latest = show.versions[0];
  const rows: [string, string][] = [
    [
      'dataset',
      `${d.name} v${d.version}${latest && latest.version === d.version ? ` (latest of ${show.versions.length})` : ` (latest is v${latest?.version ?? '?'})`}`,
    ],
    ['checksum', d.checksum],
    ['files', `${d.files} (${formatBytes(d.size)})`],
    ['creator', d.creator],
    ['created', d.created_at],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  let out = rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}\n`).join('');
  out += `\nversions:\n${indent(
    formatTable(
      ['VERSION', 'FILES', 'SIZE', 'CREATOR', 'CREATED', 'CHECKSUM'],
      show.versions.map((v) => [
        `v${v.version}`,
        String(v.files),
        formatBytes(v.size),
        v.creator,
        v.created_at.slice(0, 19).replace('T', ' '),
        v.checksum,
      ]),
    ),
  )}`;
  if (show.manifest) {
    out += `\nfiles:\n${indent(
      formatTable(
        ['PATH', 'SIZE', 'SHA256'],
        show.manifest.entries.map((e) =>
          e.type === 'file'
            ? [e.path, formatBytes(e.size), e.sha256]
            : [e.path, 'symlink', `-> ${e.target}`],
        ),
      ),
    )}`;
  }
  return `${out}\npin it in fetchml.yaml:\n${indent(pinSnippet(d))}`;
}

/** Runs `ml data show`. */
export async function runDataShow(
  deps: CommandDeps,
  ref: string,
  opts: DataOptions & { files?: boolean },
): Promise<DatasetShowResponse> {
  const { name, version } = parseDatasetRef(ref);
  const show = await withClient(deps, opts.server, (client) =>
    client.showDataset(name, {
      ...(version !== undefined ? { version } : {}),
      ...(opts.files ? { files: true } : {}),
    }),
  );
  if (opts.json) writeJson(deps.io.stdout, show);
  else deps.io.stdout.write(formatDatasetShow(show));
  return show;
}

/** Runs `ml data verify`: exit 1 (ML_ERR_DATASET_CORRUPT) when a file is missing or changed. */
export async function runDataVerify(
  deps: CommandDeps,
  ref: string,
  opts: DataOptions,
): Promise<DatasetVerifyResponse> {
  const { name, version } = parseDatasetRef(ref);
  const report = await withClient(deps, opts.server, (client) =>
    client.verifyDataset(name, version),
  );
  const d = report.dataset;
  if (opts.json) {
    writeJson(deps.io.stdout, report);
    if (!report.ok) throw new ExitError(1);
    return report;
  }
  const what = `dataset ${d.name} v${d.version} (${d.checksum})`;
  if (report.ok) {
    deps.io.stdout.write(
      `ok: ${what}: ${report.checked_files} files (${formatBytes(report.checked_bytes)}) re-hashed on the server, all match\n`,
    );
    return report;
  }
  for (const p of report.problems) deps.io.stdout.write(`${p.name}: ${p.problem ?? 'failed'}\n`);
  throw new FetchmlError(
    'ML_ERR_DATASET_CORRUPT',
    `${what} failed verification: ${report.problems.length} of ${report.checked_files} files missing or changed ` +
      `(${report.problems.map((p) => p.name.replace(`dataset ${d.name} file `, '')).join(', ')}); ` +
      `upload the original files again with ml data upload <dir> --name ${d.name}`,
    { details: { dataset: d.name, version: d.version, problems: report.problems } },
  );
}

/** Registers `ml data` and its subcommands. */
export function registerData(program: Command, ctx: CliContext): void {
  const data = program
    .command('data')
    .description('the dataset catalog: upload, list, show and verify datasets')
    .addHelpText(
      'after',
      examples(
        'ml data upload ./mnist --name mnist',
        'ml data list',
        'ml data show mnist@2 --files',
        'ml data verify mnist',
      ) +
        '\nA dataset is pinned in fetchml.yaml by name and checksum (ml data upload and show print\n' +
        'the lines); the worker stages it read-only at $FETCHML_DATA/<name> and re-hashes it first.\n',
    );
  const globals = (cmd: Command): DataOptions => {
    const g = ctx.globals(cmd);
    return { json: g.json, ...(g.server ? { server: g.server } : {}) };
  };

  data
    .command('upload')
    .description('upload a directory or a file as a new version of a dataset (resumable)')
    .argument('<path>', 'directory (.gitignore/.mlignore apply) or single file')
    .requiredOption('--name <name>', 'dataset name (letters, digits, . _ -)')
    .addHelpText(
      'after',
      examples(
        'ml data upload ./data/mnist --name mnist',
        'ml data upload corpus.jsonl --name corpus',
      ) +
        '\nOnly blobs the server lacks are sent; after an interrupt, run the same command again to\n' +
        'resume. Unchanged content gives the same version back.\n',
    )
    .action(async (path: string, opts: { name: string }, cmd: Command) => {
      await runDataUpload(ctx.deps(), path, { ...globals(cmd), name: opts.name });
    });

  data
    .command('list')
    .description('every dataset with its latest version')
    .addHelpText(
      'after',
      examples('ml data list', 'ml data list --json | jq -r ".datasets[].name"'),
    )
    .action(async (_opts: unknown, cmd: Command) => {
      await runDataList(ctx.deps(), globals(cmd));
    });

  data
    .command('show')
    .alias('info')
    .description('one version of a dataset (default: the latest) and all its versions')
    .argument('<name[@version]>', 'e.g. mnist or mnist@2')
    .option('--files', 'list its files with sizes and sha256')
    .addHelpText('after', examples('ml data show mnist', 'ml data show mnist@1 --files'))
    .action(async (ref: string, opts: { files?: boolean }, cmd: Command) => {
      await runDataShow(ctx.deps(), ref, { ...globals(cmd), ...opts });
    });

  data
    .command('verify')
    .description('have the server re-hash every file of a dataset version; exit 1 on a mismatch')
    .argument('<name[@version]>', 'e.g. mnist or mnist@2')
    .addHelpText('after', examples('ml data verify mnist', 'ml data verify mnist@1 --json'))
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      await runDataVerify(ctx.deps(), ref, globals(cmd));
    });
}
