/**
 * @module core/schemas/common
 * Small zod building blocks shared by the other schemas, and {@link parseInput}, which every
 * backend uses to refuse bad caller input the same way.
 */
import { z } from 'zod';

import { FetchmlError } from '../errors.ts';
import { relativePathProblem } from '../paths.ts';
import { parseDurationS, parseSizeMb } from '../units.ts';

export const Sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be a lowercase sha256 hex digest');

/** `sha256:<hex>` — how dataset checksums are written in fetchml.yaml. */
export const Checksum = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, "must look like 'sha256:<64 hex digits>'");

export const RelativePath = z.string().superRefine((p, ctx) => {
  const problem = relativePathProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(p)}: ${problem}` });
});

export const IsoTime = z.iso.datetime({ offset: true });

/** Size in MiB: a number, or a string such as `512m`, `4g`, `1.5GiB`. */
export const SizeMb = z.union([z.number(), z.string().max(64)]).transform((v, ctx) => {
  const mb = parseSizeMb(v);
  if (mb === null) {
    ctx.addIssue({ code: 'custom', message: `not a size: ${JSON.stringify(v)} (try 512m or 4g)` });
    return z.NEVER;
  }
  return mb;
});

/** Duration in seconds: a number, or a string such as `90s`, `30m`, `1h30m`. */
export const DurationS = z.union([z.number(), z.string().max(64)]).transform((v, ctx) => {
  const s = parseDurationS(v);
  if (s === null) {
    ctx.addIssue({
      code: 'custom',
      message: `not a duration: ${JSON.stringify(v)} (try 90s or 2h)`,
    });
    return z.NEVER;
  }
  return s;
});

export const EnvName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name');

/** Resources a task asks for, or a worker offers. */
export const Resources = z.strictObject({
  cpus: z.number().positive().max(1024).default(1),
  memory_mb: z.number().int().positive().default(1024),
  gpus: z.number().int().min(0).max(64).default(0),
});
export type Resources = z.infer<typeof Resources>;

/** Flattens zod issues into `dot.path: reason` lines. */
export function formatIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return `${path || '<root>'}: ${issue.message}`;
  });
}

/**
 * Parses `value` with `schema`, or throws ML_ERR_VALIDATION listing `label.field: reason`. The
 * queue and store backends validate what callers pass with it, before touching any datastore.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  label: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = formatIssues(parsed.error, label);
  throw new FetchmlError('ML_ERR_VALIDATION', `invalid ${label}: ${issues.join('; ')}`, {
    cause: parsed.error,
    details: { field: label, issues },
  });
}
