/**
 * @module snapshot/ignore
 * Which paths a snapshot leaves out: `.gitignore` files at every level with git's semantics, plus
 * `.mlignore` files (same syntax) that have the last word, so `!pattern` in a `.mlignore`
 * re-includes what a `.gitignore` excludes. No git is needed: only ignore files inside the tree are
 * read (not `.git/info/exclude` or `core.excludesFile`, which are per-clone, not per-project).
 *
 * Order of decision for a path, first match wins:
 * 1. built-ins: any `.git` entry, and the tool's own state (`.fetchml/` at the root, the stat
 *    cache file) — never included, whatever the rules say;
 * 2. `.mlignore` files from the path's directory up to the root (deeper files win, as in git);
 * 3. `.gitignore` files the same way; otherwise the path is included.
 * Within one file the last matching line wins. As in git, an excluded directory is not entered,
 * so nothing below it can be re-included except by re-including the directory itself.
 *
 * Matching uses the `ignore` package's per-rule-set test, which does not let a parent directory's
 * exclusion "pass down": the walker already decided the parent, and a deeper re-include (or a
 * `.mlignore`) must not be undone by the inherited verdict of a shallower file.
 */
import ignore from 'ignore';

/** The result of testing one path against one rule set. */
interface RuleResult {
  ignored: boolean;
  unignored: boolean;
}

interface RuleSet {
  test(path: string, mode: 'regex'): RuleResult;
}

/** One rule file's matcher: tests a path relative to the file's directory, itself only. */
export type Matcher = (relPath: string) => RuleResult;

/**
 * Compiles the text of an ignore file into a {@link Matcher}. Returns null when the file has no
 * rules (only blank lines and comments), so levels without rules cost nothing.
 */
export function compileIgnore(text: string): Matcher | null {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length === 0) return null;
  const ig = ignore().add(lines);
  const rules = (ig as unknown as { _rules?: RuleSet })._rules;
  if (rules && typeof rules.test === 'function') {
    return (path) => rules.test(path, 'regex');
  }
  // Fallback for an `ignore` release without the per-rule-set test: parent verdicts pass down.
  return (path) => ig.test(path);
}

/** The rules that apply inside one directory of the walk (a persistent linked list). */
export interface IgnoreLevel {
  /** Directory of the rule file, relative to the root, '' for the root, with no trailing slash. */
  readonly base: string;
  readonly git: Matcher | null;
  readonly ml: Matcher | null;
  readonly parent: IgnoreLevel | null;
}

/** Adds a directory's rule files (text or null) on top of `parent`; returns `parent` if none. */
export function pushLevel(
  parent: IgnoreLevel | null,
  base: string,
  gitText: string | null,
  mlText: string | null,
): IgnoreLevel | null {
  const git = gitText === null ? null : compileIgnore(gitText);
  const ml = mlText === null ? null : compileIgnore(mlText);
  if (!git && !ml) return parent;
  return { base, git, ml, parent };
}

function decide(level: IgnoreLevel | null, relPath: string, which: 'git' | 'ml'): boolean | null {
  for (let l = level; l; l = l.parent) {
    const m = l[which];
    if (!m) continue;
    const r = m(l.base === '' ? relPath : relPath.slice(l.base.length + 1));
    if (r.ignored) return true;
    if (r.unignored) return false;
  }
  return null;
}

/**
 * Whether `relPath` (relative to the root; directories tested with `isDir`) is excluded by the
 * rule files in `level` and its parents. Built-in exclusions are the walker's job.
 */
export function isIgnored(level: IgnoreLevel | null, relPath: string, isDir: boolean): boolean {
  if (!level) return false;
  const p = isDir ? `${relPath}/` : relPath;
  return decide(level, p, 'ml') ?? decide(level, p, 'git') ?? false;
}
