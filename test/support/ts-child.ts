/**
 * @module test/support/ts-child
 * Lets a test run fetchml's TypeScript sources in a child process. Node 20 cannot load `.ts`, so
 * {@link compileForChild} transpiles the entry modules, and every module they import (relative
 * specifiers, static or `import('…')`, followed transitively), with the TypeScript compiler into a
 * directory, with a `package.json` (`"type": "module"`) and a link to
 * node_modules. The child imports the `.js` output.
 *
 * Why not dist/: `npm test` builds it first, but `npx vitest run <file>` does not, and a stale
 * dist/ would test old code. Why not a loader hook in the child: each child would load the
 * compiler (~1 s on a busy machine), which skews tests that start several children together.
 */
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

/** The repository root. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Transpiles `entries` (paths relative to the repository root, e.g. `src/queue/sqlite/queue.ts`)
 * and their relative imports into `outDir`, keeping the layout (`outDir/src/queue/sqlite/queue.js`).
 * Returns the absolute path of each entry's `.js`, in order.
 */
export async function compileForChild(outDir: string, entries: string[]): Promise<string[]> {
  const done = new Set<string>();
  const compile = async (source: string): Promise<void> => {
    if (done.has(source)) return;
    done.add(source);
    const text = await readFile(source, 'utf8');
    const { outputText } = ts.transpileModule(text, {
      fileName: source,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        rewriteRelativeImportExtensions: true,
        verbatimModuleSyntax: true,
      },
    });
    const target = outputPath(outDir, source);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
    const imports = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    await Promise.all(
      imports
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => compile(resolve(dirname(source), spec))),
    );
  };
  const sources = entries.map((entry) => join(ROOT, entry));
  for (const source of sources) await compile(source);
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}');
  await symlink(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  return sources.map((source) => outputPath(outDir, source));
}

function outputPath(outDir: string, source: string): string {
  return join(outDir, relative(ROOT, source)).replace(/\.ts$/, '.js');
}
