/**
 * @module cli/monitor/types
 * The shapes the terminal UI (`ml monitor`) is built from: its state, the actions that change it
 * and the effects a change asks for. The reducer (cli/monitor/state) is a pure function of
 * (state, action) → (state, effects); the controller (cli/monitor/controller) performs the effects
 * against the server and dispatches what came back; the components only draw the state.
 *
 * Type-only imports keep this module free of zod and the API client, so the first frame loads
 * nothing it does not need.
 */
import type { Task, TaskStatus } from '../../core/schemas/task.ts';
import type { LogBuffer } from './log-buffer.ts';

export type { Task, TaskStatus };

/** The screens. */
export type View = 'list' | 'details' | 'logs' | 'help';

/** Terminal size in character cells. */
export interface Size {
  columns: number;
  rows: number;
}

/** A key as the reducer understands it: a name (`up`, `enter`, …) or one printable character. */
export type KeyName =
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'pageup'
  | 'pagedown'
  | 'home'
  | 'end'
  | 'enter'
  | 'escape'
  | 'backspace'
  | 'tab'
  | 'ctrl-c'
  | 'ctrl-u'
  | 'ctrl-d'
  | 'ctrl-f'
  | 'ctrl-b'
  | 'ctrl-l'
  | { char: string };

/** What the server-side part of a filter asks `GET /v1/tasks` for. */
export interface ServerQuery {
  status?: TaskStatus[];
  user?: string;
  name?: string;
}

/** A one-line prompt being typed at the bottom of the screen. */
export interface PromptState {
  kind: 'filter' | 'priority' | 'search';
  text: string;
  /** The task a priority prompt is for. */
  taskId?: string;
}

/** The log viewer's state; the lines themselves live in {@link LogBuffer}. */
export interface LogState {
  taskId: string;
  buffer: LogBuffer;
  /** Bumped on every append, so a render sees a change. */
  version: number;
  /** First line shown. */
  top: number;
  /** Columns scrolled to the right. */
  left: number;
  /** Stick to the end as lines arrive. */
  follow: boolean;
  /** The last search pattern (case-insensitive substring). */
  search: string | null;
  /** Line index of the current match. */
  match: number | null;
  /** Set once the task ended: e.g. `completed (exit 0)`. */
  ended: string | null;
  /** Set while the stream is broken (reconnecting, or given up). */
  problem: string | null;
}

/** A note shown in the status line until the next key. */
export interface Message {
  text: string;
  kind: 'info' | 'error';
}

export interface MonitorState {
  view: View;
  /** Where help returns to. */
  back: View;
  size: Size;
  /** ms since the epoch, advanced by ticks (ages and durations are drawn against it). */
  now: number;
  /** The server's URL, shown in the header. */
  server: string;
  /** Loaded tasks, newest first, as the server-side filter returned them. */
  tasks: Task[];
  /** The server has older tasks than the last loaded one. */
  hasMore: boolean;
  loadingMore: boolean;
  /** Tasks per status (GET /v1/status), null until known. */
  counts: Record<string, number> | null;
  /** Raised whenever the server-side query changes: answers to an older one are dropped. */
  generation: number;
  /** The filter as typed and applied (`/`). */
  filter: string;
  /** Selected task, kept across refreshes. */
  selectedId: string | null;
  /** Index of the selection among the shown (filtered) tasks. */
  cursor: number;
  /** First shown row of the list (the list is virtualised: only visible rows are drawn). */
  top: number;
  prompt: PromptState | null;
  confirm: { kind: 'cancel'; taskId: string; name: string } | null;
  log: LogState | null;
  message: Message | null;
  /** The last refresh failed with this (the monitor keeps retrying). */
  problem: string | null;
  lastRefresh: number | null;
}

/** Everything that can happen to the monitor. */
export type Action =
  | { type: 'key'; key: KeyName }
  | { type: 'resize'; size: Size }
  | { type: 'tick'; now: number }
  | {
      type: 'tasks';
      generation: number;
      /** `head`: a refresh of the first `limit` tasks; `more`: the next page. */
      mode: 'head' | 'more';
      tasks: Task[];
      limit: number;
      now: number;
    }
  | { type: 'tasks-failed'; generation: number; mode: 'head' | 'more'; message: string }
  | { type: 'counts'; counts: Record<string, number> }
  | { type: 'done'; message: Message; refresh: boolean }
  | { type: 'log-text'; taskId: string; text: string }
  | { type: 'log-end'; taskId: string; summary: string }
  | { type: 'log-problem'; taskId: string; problem: string | null };

/** What a change asks the outside world to do. */
export type Effect =
  | { type: 'refresh' }
  | { type: 'load-more' }
  | { type: 'cancel'; taskId: string }
  | { type: 'priority'; taskId: string; priority: number }
  | { type: 'open-log'; taskId: string }
  | { type: 'close-log' }
  | { type: 'redraw' }
  | { type: 'exit' };

/** The reducer's answer. */
export interface Step {
  state: MonitorState;
  effects: Effect[];
}
