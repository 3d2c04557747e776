/**
 * @module cli/shared/format
 * Small formatting rules shared by the `ml` commands, so every table says times, ids and sizes
 * the same way.
 */
import { formatBytes } from '../../core/units.ts';

/**
 * The short form of a task id shown in tables: the 26-character body without `task_`, cut to 12
 * (10 characters of creation time in ms + 2 random): unique in practice, and accepted back by
 * every command as a prefix.
 */
export function shortId(id: string): string {
  return id.replace(/^task_/, '').slice(0, 12);
}

/** 3725000 → `1h02m`, 185000 → `3m05s`, 4200 → `4.2s`, 0.5 → `1ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.max(1, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.floor(s)}s`;
  const total = Math.floor(s);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (d > 0) return `${d}d${String(h).padStart(2, '0')}h`;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  return `${m}m${String(sec).padStart(2, '0')}s`;
}

/** Milliseconds between two ISO times (`end` defaults to `now`), or null when `start` is unset. */
export function elapsedMs(start: string | null, end: string | null, now: number): number | null {
  if (!start) return null;
  const a = Date.parse(start);
  const b = end ? Date.parse(end) : now;
  return Number.isNaN(a) || Number.isNaN(b) ? null : Math.max(0, b - a);
}

/** Bytes per second as a rate, e.g. `12.5 MiB/s`. */
export function formatRate(bytes: number, ms: number): string {
  if (ms <= 0) return '-';
  return `${formatBytes(Math.round((bytes * 1000) / ms))}/s`;
}
