/**
 * @module blobs/fs/fsync
 * Durability helpers. A rename is atomic but not durable until the directory holding the new name
 * is fsynced; without that a power cut can lose a blob the caller was told is stored.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsyncs a directory so that entries created or renamed in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes sure `dir` exists. When this call created it, its parent is fsynced too, so the new
 * directory itself is durable before anything is renamed into it.
 */
export async function ensureDurableDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created !== undefined) await fsyncDir(dirname(dir));
}
