/**
 * @module test/support/dist
 * {@link ensureBuilt} for tests that run the real binaries (`bin/*.js` → dist/) in child
 * processes. `npm test` builds first; a bare `npx vitest run <file>` may find dist/ missing, and
 * then the first test file to get here builds it while the others wait (a lock dir in tmpdir).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Builds dist/ once when it is missing; throws if there is still no dist/ops/main.js. */
export function ensureBuilt(): void {
  const main = join(ROOT, 'dist', 'ops', 'main.js');
  if (existsSync(main)) return;
  const lock = join(tmpdir(), 'fetchml-dist-build.lock');
  let owner = false;
  try {
    mkdirSync(lock);
    owner = true;
  } catch {
    // another test file is building: wait for it below
  }
  if (owner) {
    try {
      execFileSync(
        process.execPath,
        [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
        { cwd: ROOT, stdio: 'inherit' },
      );
    } catch {
      // tsc exits non-zero on type errors but still emits; the check below decides
    } finally {
      rmdirSync(lock);
    }
  } else {
    const until = Date.now() + 120_000;
    while (existsSync(lock) && Date.now() < until) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  if (!existsSync(main)) throw new Error(`dist is not built (${main}): run npm run build`);
}
