/**
 * @module cli/shared/confirm
 * A yes/no question on the terminal, for the few decisions `ml` must not take alone (trusting a
 * server certificate on first use). Only offered when stdin is a terminal: scripts and CI get no
 * prompt and must say yes with a flag. The question goes to stderr, so `--json` output stays clean.
 */
/** Asks `question` on the process's terminal; true for y/yes (any case), false otherwise. */
export async function askOnTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    const answer = await rl.question(question);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

/** The terminal prompt for the process's own IO: present only when stdin is a terminal. */
export function terminalConfirm(): { confirm?: (question: string) => Promise<boolean> } {
  return process.stdin.isTTY ? { confirm: askOnTerminal } : {};
}
