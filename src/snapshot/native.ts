/**
 * @module snapshot/native
 * The optional native stat check (native/fetchml_native.c, built into `build/` by
 * scripts/build-native.mjs during `npm run build`). A warm snapshot is one lstat per file: the
 * native check does them from C on several threads, as `git status` does, instead of one
 * `lstatSync` (and one `Stats` object) at a time. When the helper is not built — no C compiler,
 * no Node headers — or fails to load, {@link nativeStats} is null and ./stat-check.ts does the
 * same check in JavaScript; both give the same answers (tested side by side).
 */
import { createRequire } from 'node:module';

/** The helper's one function; see native/fetchml_native.c for the contract. */
export interface NativeStats {
  checkStats(
    root: string,
    /** Root-relative paths joined by NUL. */
    paths: string,
    expect: Float64Array,
    found: Float64Array,
    status: Uint8Array,
    threads: number,
  ): void;
  /** `checkStats` on `threads` threads of its own: returns at once; see {@link finishCheck}. */
  startCheck(
    root: string,
    paths: string,
    expect: Float64Array,
    found: Float64Array,
    status: Uint8Array,
    threads: number,
  ): NativeCheckHandle;
  /** Waits for a started check (helping with what is left). Idempotent. */
  finishCheck(handle: NativeCheckHandle): void;
}

/** An opaque handle of a running native check. */
export type NativeCheckHandle = { readonly __nativeCheck: unique symbol };

/** Where the build puts it: `<package>/build/`, two levels above both src/snapshot and dist/snapshot. */
const ADDON = '../../build/fetchml_native.node';

let loaded: NativeStats | null | undefined;

/** The native helper, or null when it is not built or does not load (loaded once). */
export function nativeStats(): NativeStats | null {
  if (loaded !== undefined) return loaded;
  try {
    const mod = createRequire(import.meta.url)(ADDON) as Partial<NativeStats>;
    loaded =
      typeof mod.checkStats === 'function' && typeof mod.startCheck === 'function'
        ? (mod as NativeStats)
        : null;
  } catch {
    loaded = null;
  }
  return loaded;
}
