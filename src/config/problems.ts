/**
 * @module config/problems
 * Turns zod issues and rule findings into problems that say what is wrong, where, and which
 * layer the bad value came from: `server.port: expected a number, got "abc" (from
 * env:FETCHML_SERVER_PORT)`. Unknown keys get a "did you mean" from the schema's own keys.
 */
import type { z } from 'zod';

import { FetchmlError } from '../core/errors.ts';
import { sourceOf } from './layers.ts';
import { keysAt } from './leaves.ts';
import type { RuleIssue } from './rules.ts';
import { didYouMean } from '../core/suggest.ts';

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  path: string;
  message: string;
  /** Where the value came from (`default`, `file:...`, `env:...`, `flag:...`). */
  source: string;
  /** For cross-field rules: the field whose value made the rule apply (`source` is its source). */
  because?: string;
}

function describeValue(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return JSON.stringify(input);
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

/**
 * Per-parse zod error messages, written for operators. Returning `undefined` keeps zod's own
 * message (and any message set on the schema always wins).
 */
export function issueMessage(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[iss.expected] ?? iss.expected}, got ${describeValue(iss.input)}`;
    case 'invalid_value':
      return `expected one of ${iss.values.map(String).join(', ')}; got ${describeValue(iss.input)}`;
    case 'too_big':
      return iss.origin === 'number' ? `must be at most ${String(iss.maximum)}` : undefined;
    case 'too_small':
      if (iss.origin !== 'number') return undefined;
      return iss.inclusive === false
        ? `must be greater than ${String(iss.minimum)}`
        : `must be at least ${String(iss.minimum)}`;
    default:
      return undefined;
  }
}

/** Problems from a failed parse, each with the source of the offending value. */
export function problemsFromZod(
  error: z.ZodError,
  sources: ReadonlyMap<string, string>,
): ConfigProblem[] {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const allowed = keysAt(base);
      return issue.keys.map((key) => {
        const path = [...base, key].join('.');
        return {
          path,
          message: `unknown key${didYouMean(key, allowed)}`,
          source: sourceOf(sources, path),
        };
      });
    }
    const path = base.join('.') || '<root>';
    return [{ path, message: issue.message, source: sourceOf(sources, base.join('.')) }];
  });
}

/** A rule finding as a problem; its source is that of the field that triggered the rule. */
export function problemFromRule(
  issue: RuleIssue,
  sources: ReadonlyMap<string, string>,
): ConfigProblem {
  const blame = issue.because ?? issue.path;
  return {
    path: issue.path,
    message: issue.message,
    source: sourceOf(sources, blame),
    ...(issue.because ? { because: issue.because } : {}),
  };
}

/** `path: message (from source)`, or `path: message (because from source)` for rules. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.path}: ${p.message} (${p.because ? `${p.because} ` : ''}from ${p.source})`;
}

/** The ML_ERR_CONFIG_INVALID error listing every problem, one per line. */
export function configInvalid(problems: readonly ConfigProblem[], cause?: unknown): FetchmlError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new FetchmlError(
    'ML_ERR_CONFIG_INVALID',
    `invalid configuration (${count}):\n  ${problems.map(formatProblem).join('\n  ')}`,
    { cause, details: { problems } },
  );
}
