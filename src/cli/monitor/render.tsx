/**
 * @module cli/monitor/render
 * Hands the terminal to Ink: raw keyboard input, frames drawn over the pre-painted first one
 * (cli/monitor/paint), and a clean exit on `q` or Ctrl-C. Loaded by `ml monitor` only, while the
 * first page of tasks travels.
 */
import { render } from 'ink';

import { App } from './components/App.tsx';
import type { Store } from './store.ts';
import type { Theme } from './theme.ts';

/** The terminal the monitor draws on. */
export interface MonitorTerminal {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

const CLEAR = '\x1b[2J\x1b[H';

/** What {@link mountMonitor} returns. */
export interface MountedMonitor {
  /** Ends the UI (the `exit` effect). */
  exit: () => void;
  /** Clears the screen before the next frame (the `redraw` effect). */
  redraw: () => void;
  /** Settles when Ink has let go of the terminal. */
  done: Promise<void>;
}

/** Renders the monitor for `store` on `term`. */
export function mountMonitor(store: Store, theme: Theme, term: MonitorTerminal): MountedMonitor {
  const instance = render(<App store={store} theme={theme} />, {
    stdin: term.stdin,
    stdout: term.stdout,
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 30,
  });
  const done = instance.waitUntilExit().then(
    () => undefined,
    () => undefined,
  );
  return {
    exit: () => instance.unmount(),
    redraw: () => {
      instance.clear();
      term.stdout.write(CLEAR);
    },
    done,
  };
}
