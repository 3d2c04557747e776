/**
 * @module cli/shared/project
 * Finding the project a command works on: the nearest directory at or above the working directory
 * holding `fetchml.yaml` (like git finds `.git`), so `ml queue` works from a subdirectory; and
 * reading the spec with errors that name the field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { FetchmlError } from '../../core/errors.ts';
import type { ExperimentSpec } from '../../core/schemas/spec.ts';

export const SPEC_FILE = 'fetchml.yaml';

/** The nearest ancestor of `cwd` (itself included) with a fetchml.yaml, or null. */
export function findProjectRoot(cwd: string): string | null {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, SPEC_FILE))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/** The project root, or an error telling the user to run `ml init`. */
export function requireProjectRoot(cwd: string): string {
  const root = findProjectRoot(cwd);
  if (root === null) {
    throw new FetchmlError(
      'ML_ERR_SPEC_INVALID',
      `no ${SPEC_FILE} in ${resolve(cwd)} or any parent directory: run \`ml init\` in your project first`,
      { details: { cwd: resolve(cwd) } },
    );
  }
  return root;
}

/** Reads and validates `<root>/fetchml.yaml` (zod and yaml are loaded only here). */
export async function loadSpec(root: string): Promise<ExperimentSpec> {
  const { parseExperimentSpec } = await import('../../core/schemas/spec.ts');
  const path = join(root, SPEC_FILE);
  return parseExperimentSpec(readFileSync(path, 'utf8'), path);
}
