/**
 * @module runtime/resolve-command
 * Looks up `argv[0]` before starting the job, the way execvp will, so "command not found" is a
 * clear `spawn_failed` for every runtime. Without this, the failure would surface only as an exit
 * code from a wrapper (bwrap, sh, prlimit) that is indistinguishable from the job's own exit 1/127.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';

/** Maps a path as the job sees it to the host path, or `null` if it is not visible to the job. */
export type PathMapper = (jobPath: string) => string | null;

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns the job-side path `command` resolves to, or `null` if it would not be found.
 * @param command `argv[0]`: a name searched on `pathVar`, or a path (relative to `cwd`).
 * @param cwd the job's working directory, as the job sees it.
 * @param toHost maps job paths to host paths (identity for the `process` runtime).
 */
export async function resolveCommand(
  command: string,
  pathVar: string,
  cwd: string,
  toHost: PathMapper = (p) => p,
): Promise<string | null> {
  const check = async (jobPath: string) => {
    const host = toHost(jobPath);
    return host !== null && (await isExecutableFile(host)) ? jobPath : null;
  };
  if (command === '') return null;
  if (command.includes('/')) {
    return check(isAbsolute(command) ? command : posix.join(cwd, command));
  }
  for (const dir of pathVar.split(':')) {
    // An empty PATH entry means the current directory (execvp semantics).
    const found = await check(dir === '' ? join(cwd, command) : posix.join(dir, command));
    if (found !== null) return found;
  }
  return null;
}
