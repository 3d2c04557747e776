/**
 * @module cli/shared/quiet
 * `ml --quiet`: stderr keeps only what needs a person — errors and warnings. By the convention all
 * `ml` commands follow, results go to stdout and stderr carries notes, progress and problems;
 * problems start with `error:` or `warning:` (and the bug-report hint of an unexpected error), so a
 * quietable stderr drops every other write while quiet. Progress checks {@link isQuiet} and draws
 * nothing at all.
 */
import type { TextSink } from './output.ts';

/** A sink that drops informational writes while {@link QuietableSink.quiet} is set. */
export interface QuietableSink extends TextSink {
  quiet: boolean;
  /** Passed through from the wrapped sink (progress asks whether stderr is a terminal). */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const KEPT = /^(error|warning)\b|^This is a bug in fetchml/;

/** Whether a write is kept under `--quiet`. */
export function keptWhenQuiet(chunk: string): boolean {
  return KEPT.test(chunk);
}

/** Wraps `sink`; not quiet until told. */
export function quietable(sink: TextSink): QuietableSink {
  const tty = sink as { isTTY?: boolean; columns?: number };
  return {
    quiet: false,
    get isTTY() {
      return tty.isTTY;
    },
    get columns() {
      return tty.columns;
    },
    write(chunk: string) {
      if (this.quiet && !keptWhenQuiet(chunk)) return true;
      return sink.write(chunk);
    },
  };
}

/** Whether `sink` is a quietable sink that is quiet now. */
export function isQuiet(sink: TextSink): boolean {
  return (sink as Partial<QuietableSink>).quiet === true;
}
