/**
 * @module core/schemas/spec
 * The experiment spec: `fetchml.yaml` in the project root, written by `ml init`.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { FetchmlError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import { didYouMean } from '../suggest.ts';
import { Checksum, DurationS, EnvName, formatIssues, RelativePath, SizeMb } from './common.ts';

export const DatasetSpec = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, . _ - only'),
  /** Required under the strict repro policy; `sha256:<hex>` of the dataset's tree manifest. */
  checksum: Checksum.optional(),
});
export type DatasetSpec = z.infer<typeof DatasetSpec>;

export const TrackingPlugin = z.enum(['mlflow', 'tensorboard', 'wandb']);

export const ExperimentSpec = z.strictObject({
  name: z
    .string({
      error: (iss) =>
        iss.input === undefined
          ? 'required: a name for the experiment (letters, digits, . _ -), e.g. name: logreg'
          : 'must be a string',
    })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, . _ - only (max 128)'),
  /** What to run, from the snapshot root: a shell-free argv, or one string split on spaces. */
  command: z.union(
    [
      z.string().min(1).max(LIMITS.longString),
      z.array(z.string().max(LIMITS.longString)).min(1).max(LIMITS.argv),
    ],
    { error: 'required: the program to run, as a string or a list (e.g. "python3 train.py")' },
  ),
  kind: z.enum(['batch', 'service']).default('batch'),
  image: z.string().min(1).max(LIMITS.shortString).optional(),
  /**
   * Dependency manifest (requirements.txt, pyproject.toml, environment.yml, ...). Unset: found at
   * the project root (core/plan DEPS_MANIFEST_NAMES); `none`: the run needs nothing beyond its image.
   */
  deps: RelativePath.optional(),
  datasets: z.array(DatasetSpec).max(LIMITS.specList).default([]),
  resources: z
    .strictObject({
      cpus: z.number().positive().max(1024).default(1),
      memory: SizeMb.pipe(z.number().int().positive('must be more than 0')).default(1024),
      gpus: z.number().int().min(0).max(64).default(0),
    })
    .default({ cpus: 1, memory: 1024, gpus: 0 }),
  env: z
    .record(EnvName.max(LIMITS.shortString), z.string().max(LIMITS.longString))
    .refine((env) => Object.keys(env).length <= LIMITS.envEntries, {
      message: `at most ${LIMITS.envEntries} variables`,
    })
    .default({}),
  network: z.enum(['none', 'bridge']).default('none'),
  timeout: DurationS.optional(),
  priority: z.number().int().min(-1000).max(1000).default(0),
  tracking: z.array(TrackingPlugin).max(LIMITS.specList).default([]),
  labels: z.array(z.string().min(1).max(LIMITS.shortString)).max(LIMITS.specList).default([]),
  /** `strict` (default when unset) or `relaxed`; `ml queue --repro-policy` overrides it. */
  repro_policy: z.enum(['strict', 'relaxed'], { error: 'must be strict or relaxed' }).optional(),
});
export type ExperimentSpecInput = z.input<typeof ExperimentSpec>;
export type ExperimentSpec = z.infer<typeof ExperimentSpec>;

/** Parses and validates fetchml.yaml text. Errors name the field: `resources.memory: not a size`. */
export function parseExperimentSpec(text: string, source = 'fetchml.yaml'): ExperimentSpec {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new FetchmlError('ML_ERR_SPEC_INVALID', `${source}: not valid YAML: ${msg}`, { cause });
  }
  const result = ExperimentSpec.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.flatMap((issue) => {
      if (issue.code !== 'unrecognized_keys') return formatIssues(new z.ZodError([issue]));
      // A typo gets the key it was probably meant to be.
      const at = issue.path.map(String);
      const allowed =
        at.length === 0
          ? Object.keys(ExperimentSpec.shape)
          : at[0] === 'resources'
            ? ['cpus', 'memory', 'gpus']
            : at[0] === 'datasets'
              ? ['name', 'checksum']
              : [];
      return issue.keys.map(
        (key) => `${[...at, key].join('.')}: unknown key${didYouMean(key, allowed)}`,
      );
    });
    throw new FetchmlError(
      'ML_ERR_SPEC_INVALID',
      `${source} is invalid:\n  ${lines.join('\n  ')}`,
      {
        details: { issues: lines },
      },
    );
  }
  return result.data;
}

/** The command as an argv. A string command is split on whitespace (no shell). */
export function commandArgv(command: string | readonly string[]): string[] {
  return typeof command === 'string' ? command.trim().split(/\s+/) : [...command];
}
