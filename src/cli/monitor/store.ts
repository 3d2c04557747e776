/**
 * @module cli/monitor/store
 * A minimal store around the reducer: `dispatch` runs it, keeps the new state, tells subscribers
 * (the React root, through `useSyncExternalStore`) and hands the effects to the runner (the
 * controller). No React here, so the controller and the reducer are tested without rendering.
 */
import { reduce } from './state.ts';
import type { Action, Effect, MonitorState } from './types.ts';

export interface Store {
  get: () => MonitorState;
  dispatch: (action: Action) => void;
  subscribe: (listener: () => void) => () => void;
}

/** A store starting at `initial`; `run` performs each effect a change asks for. */
export function createStore(initial: MonitorState, run: (effect: Effect) => void): Store {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    dispatch(action) {
      const step = reduce(state, action);
      state = step.state;
      for (const l of listeners) l();
      for (const e of step.effects) run(e);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
