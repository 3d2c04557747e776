/**
 * @module server/validate
 * Request validation with the core zod schemas. A failure is ML_ERR_VALIDATION whose message names
 * each offending field by dot path (`spec.resources.memory: not a size`), so a client can show it
 * as is.
 */
import type { z } from 'zod';

import { FetchmlError } from '../core/errors.ts';
import { formatIssues } from '../core/schemas/common.ts';

/** Parses `value` (a body, query or params) or throws ML_ERR_VALIDATION naming the fields. */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = formatIssues(parsed.error);
  const fields = parsed.error.issues.map((i) => i.path.map(String).join('.') || '<root>');
  throw new FetchmlError('ML_ERR_VALIDATION', `invalid ${where}: ${issues.join('; ')}`, {
    cause: parsed.error,
    details: { field: fields[0], fields, issues },
  });
}
