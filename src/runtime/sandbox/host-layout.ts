/**
 * @module runtime/sandbox/host-layout
 * Probes the host root once per runtime: which system dirs exist and whether they are merged-/usr
 * symlinks (bwrap must recreate those as symlinks: binding a link would bind its target at the
 * link's path and break relative lookups), which sensitive files exist to mask, and which GPU
 * device nodes exist.
 */
import { lstat, readdir, readlink } from 'node:fs/promises';

import { MASK_DIRS, MASK_FILES, MINIMAL_ROOTS } from './bwrap-args.ts';
import type { HostLayout, RootEntry } from './bwrap-args.ts';

async function kind(path: string): Promise<'file' | 'dir' | 'link' | null> {
  try {
    const st = await lstat(path);
    if (st.isSymbolicLink()) return 'link';
    if (st.isDirectory()) return 'dir';
    return 'file';
  } catch {
    return null;
  }
}

/** Reads the host layout used by {@link buildBwrapArgs}. */
export async function probeHostLayout(): Promise<HostLayout> {
  const roots: RootEntry[] = [];
  for (const path of MINIMAL_ROOTS) {
    const k = await kind(path);
    if (k === 'dir') roots.push({ path });
    else if (k === 'link') roots.push({ path, symlink: await readlink(path) });
  }
  const maskFiles: string[] = [];
  for (const f of MASK_FILES) if ((await kind(f)) === 'file') maskFiles.push(f);
  const maskDirs: string[] = [];
  for (const d of MASK_DIRS) if ((await kind(d)) === 'dir') maskDirs.push(d);
  const dev = await readdir('/dev').catch(() => [] as string[]);
  const gpuDevices = dev.filter((n) => n.startsWith('nvidia')).map((n) => `/dev/${n}`);
  return { roots, maskFiles, maskDirs, gpuDevices };
}
