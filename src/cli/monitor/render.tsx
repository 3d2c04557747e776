/**
 * @module cli/monitor/render
 * Puts the monitor on the terminal with Ink: the alternate screen (the shell's screen comes back
 * untouched on quit, as with `less` or `htop`), raw keyboard input, and a clean exit on `q` or
 * Ctrl-C. Loaded only by `ml monitor`, after the first page of tasks was requested.
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

const ALT_SCREEN_ON = '\x1b[?1049h\x1b[H';
const ALT_SCREEN_OFF = '\x1b[?1049l';
const CLEAR = '\x1b[2J\x1b[H';

/** What {@link mountMonitor} returns. */
export interface MountedMonitor {
  /** Ends the UI (the `exit` effect). */
  exit: () => void;
  /** Clears the screen before the next frame (the `redraw` effect). */
  redraw: () => void;
  /** Settles when the UI is gone and the terminal restored. */
  done: Promise<void>;
}

/** Renders the monitor for `store` on `term`. */
export function mountMonitor(
  store: Store,
  theme: Theme,
  term: MonitorTerminal,
  opts: { altScreen: boolean },
): MountedMonitor {
  if (opts.altScreen) term.stdout.write(ALT_SCREEN_ON);
  const instance = render(<App store={store} theme={theme} />, {
    stdin: term.stdin,
    stdout: term.stdout,
    exitOnCtrlC: false,
    patchConsole: false,
    incrementalRendering: false,
    maxFps: 30,
  });
  const done = instance.waitUntilExit().then(
    () => undefined,
    () => undefined,
  );
  const restored = done.finally(() => {
    if (opts.altScreen) term.stdout.write(ALT_SCREEN_OFF);
  });
  return {
    exit: () => instance.unmount(),
    redraw: () => {
      instance.clear();
      term.stdout.write(CLEAR);
    },
    done: restored,
  };
}
