/**
 * @module runtime/validate
 * Rejects a malformed {@link RunSpec} before anything is spawned or mounted. These are caller bugs
 * (the worker builds specs from validated plans), so they throw instead of becoming a RunResult.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';

import { errors } from '../core/errors.ts';
import type { RunSpec } from './types.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Throws `ML_ERR_VALIDATION` naming the field at fault. */
export function validateRunSpec(spec: RunSpec): void {
  if (spec.argv.length === 0 || spec.argv[0] === '') {
    throw errors.validation('argv', 'must name a command');
  }
  for (const [field, path] of [
    ['workDir', spec.workDir],
    ['outputDir', spec.outputDir],
  ] as const) {
    if (!isAbsolute(path)) throw errors.validation(field, `must be an absolute path: ${path}`);
  }
  const seen = new Set<string>();
  spec.datasets.forEach((d, i) => {
    if (!NAME.test(d.name))
      throw errors.validation(`datasets[${i}].name`, 'letters, digits, . _ -');
    if (seen.has(d.name)) throw errors.validation(`datasets[${i}].name`, `duplicate ${d.name}`);
    seen.add(d.name);
    if (!isAbsolute(d.hostPath)) {
      throw errors.validation(`datasets[${i}].hostPath`, 'must be an absolute path');
    }
  });
  for (const key of Object.keys(spec.env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw errors.validation(`env.${key}`, 'bad name');
  }
  for (const i of spec.resources.gpuIndices) {
    if (!Number.isInteger(i) || i < 0) throw errors.validation('resources.gpuIndices', `bad ${i}`);
  }
  if (spec.timeoutMs !== null && !(spec.timeoutMs >= 0)) {
    throw errors.validation('timeoutMs', 'must be ≥ 0 or null');
  }
}

/** Throws `ML_ERR_VALIDATION` if a staged directory of the spec is missing or not a directory. */
export async function checkStagedDirs(spec: RunSpec): Promise<void> {
  const dirs: [string, string][] = [
    ['workDir', spec.workDir],
    ['outputDir', spec.outputDir],
    ...spec.datasets.map((d, i): [string, string] => [`datasets[${i}].hostPath`, d.hostPath]),
  ];
  for (const [field, path] of dirs) {
    const st = await stat(path).catch(() => null);
    if (st === null || !st.isDirectory()) {
      throw errors.validation(field, `not a directory: ${path}`);
    }
  }
}
