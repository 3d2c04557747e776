/**
 * @module cli/monitor/theme
 * Themes map a span's role to how Ink draws it. `dark` (light text for dark terminals, the
 * default), `light` (dark colours for light backgrounds) and `none`: no colour at all, only
 * bold/inverse, chosen automatically when `NO_COLOR` is set (https://no-color.org) or the
 * terminal is `dumb`. Only the 8 basic ANSI colours are used, which every terminal and SSH client
 * shows.
 */
import type { Role } from './layout.ts';

export const THEMES = ['dark', 'light', 'none'] as const;
export type ThemeName = (typeof THEMES)[number];

/** How one role looks (Ink `<Text>` props). */
export interface Style {
  color?: string;
  backgroundColor?: string;
  bold?: boolean;
  dimColor?: boolean;
  inverse?: boolean;
}

export type Theme = Readonly<Record<Role, Style>>;

const dark: Theme = {
  normal: {},
  title: { color: 'cyan', bold: true },
  dim: { color: 'gray' },
  header: { bold: true, color: 'white' },
  selected: { inverse: true, bold: true },
  key: { color: 'cyan', bold: true },
  info: { color: 'green' },
  error: { color: 'red', bold: true },
  match: { color: 'black', backgroundColor: 'yellow' },
  queued: { color: 'yellow' },
  running: { color: 'cyan', bold: true },
  completed: { color: 'green' },
  failed: { color: 'red', bold: true },
  cancelled: { color: 'magenta' },
};

const light: Theme = {
  normal: {},
  title: { color: 'blue', bold: true },
  dim: { color: 'gray' },
  header: { bold: true, color: 'black' },
  selected: { inverse: true, bold: true },
  key: { color: 'blue', bold: true },
  info: { color: 'green' },
  error: { color: 'red', bold: true },
  match: { color: 'white', backgroundColor: 'blue' },
  queued: { color: 'magenta' },
  running: { color: 'blue', bold: true },
  completed: { color: 'green' },
  failed: { color: 'red', bold: true },
  cancelled: { color: 'gray' },
};

const none: Theme = {
  normal: {},
  title: { bold: true },
  dim: {},
  header: { bold: true },
  selected: { inverse: true },
  key: { bold: true },
  info: {},
  error: { bold: true },
  match: { inverse: true },
  queued: {},
  running: { bold: true },
  completed: {},
  failed: { bold: true },
  cancelled: {},
};

const TABLE: Record<ThemeName, Theme> = { dark, light, none };

/** The theme for a `--theme` flag (if given) and the environment. */
export function pickTheme(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): ThemeName {
  if (flag !== undefined) return flag as ThemeName;
  if ((env['NO_COLOR'] ?? '') !== '' || env['TERM'] === 'dumb') return 'none';
  return 'dark';
}

export function themeOf(name: ThemeName): Theme {
  return TABLE[name];
}
