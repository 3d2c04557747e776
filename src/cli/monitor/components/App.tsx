/**
 * @module cli/monitor/components/App
 * The monitor's root component: reads the store (`useSyncExternalStore`), turns key presses into
 * `key` actions (cli/monitor/keys), follows terminal resizes, and draws the frame for the state
 * (cli/monitor/views/frame) with the chosen theme.
 */
import { useInput, useStdout } from 'ink';
import { useEffect, useSyncExternalStore } from 'react';

import { keyNames } from '../keys.ts';
import type { Store } from '../store.ts';
import type { Theme } from '../theme.ts';
import { frameLines } from '../views/frame.ts';
import { Screen } from './Screen.tsx';

export interface AppProps {
  store: Store;
  theme: Theme;
}

export function App({ store, theme }: AppProps) {
  const state = useSyncExternalStore(store.subscribe, store.get);
  const { stdout } = useStdout();

  useInput((input, key) => {
    for (const k of keyNames(input, key)) store.dispatch({ type: 'key', key: k });
  });

  useEffect(() => {
    const onResize = () => {
      const columns = stdout.columns;
      const rows = stdout.rows;
      if (columns > 0 && rows > 0) store.dispatch({ type: 'resize', size: { columns, rows } });
    };
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, store]);

  return <Screen lines={frameLines(state)} theme={theme} />;
}
