/**
 * @module runtime/test-support
 * Fixtures for the runtime test suites (no test-framework imports, so it type-checks and builds
 * like any module): a staged snapshot + output dir, a spec builder, and an output collector that
 * timestamps chunks so tests can prove streaming.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ProcessRuntime } from './process/process-runtime.ts';
import { SandboxRuntime } from './sandbox/sandbox-runtime.ts';
import type { RunSpec, Runtime, RuntimeOptions } from './types.ts';

/** A staged run: snapshot dir (with `run.sh`), output dir, a dataset dir. */
export interface Fixture {
  root: string;
  workDir: string;
  outputDir: string;
  dataDir: string;
  cleanup(): Promise<void>;
}

/** Creates a fixture under the OS temp dir. */
export async function makeFixture(): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'fetchml-rt-test-'));
  const workDir = join(root, 'src');
  const outputDir = join(root, 'output');
  const dataDir = join(root, 'data-mnist');
  await Promise.all([mkdir(workDir), mkdir(outputDir), mkdir(dataDir)]);
  await writeFile(join(workDir, 'hello.txt'), 'hello from the snapshot\n');
  await writeFile(join(workDir, 'run.sh'), '#!/bin/sh\necho "run.sh args: $*"\n');
  await chmod(join(workDir, 'run.sh'), 0o755);
  await writeFile(join(dataDir, 'train.csv'), 'x,y\n1,2\n');
  return {
    root,
    workDir,
    outputDir,
    dataDir,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Collected output with arrival times (ms since collector creation). */
export interface Collected {
  stdout(): string;
  stderr(): string;
  /** When the first chunk containing `text` arrived, or null. */
  arrivedAt(text: string): number | null;
  onOutput: RunSpec['onOutput'];
}

export function collector(): Collected {
  const t0 = performance.now();
  const chunks: { stream: 'stdout' | 'stderr'; text: string; at: number }[] = [];
  const all = (s: 'stdout' | 'stderr') =>
    chunks
      .filter((c) => c.stream === s)
      .map((c) => c.text)
      .join('');
  return {
    stdout: () => all('stdout'),
    stderr: () => all('stderr'),
    arrivedAt: (text) => chunks.find((c) => c.text.includes(text))?.at ?? null,
    onOutput: (stream, chunk) =>
      chunks.push({ stream, text: chunk.toString('utf8'), at: performance.now() - t0 }),
  };
}

/** A spec with test defaults; `overrides` win. */
export function makeSpec(fx: Fixture, argv: string[], overrides: Partial<RunSpec> = {}): RunSpec {
  return {
    taskId: `test-${Math.random().toString(36).slice(2, 10)}`,
    argv,
    workDir: fx.workDir,
    outputDir: fx.outputDir,
    datasets: [{ name: 'mnist', hostPath: fx.dataDir }],
    env: {},
    resources: { cpus: 2, memory_mb: 1024, gpuIndices: [] },
    network: 'none',
    timeoutMs: 20_000,
    image: null,
    signal: new AbortController().signal,
    onOutput: () => undefined,
    ...overrides,
  };
}

/** Whether any host process has exactly this text in its command line (orphan check). */
export function hostProcessWith(text: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    execFile('ps', ['-eo', 'args='], (err, stdout) => {
      if (err) reject(new Error(`ps failed: ${err.message}`));
      else resolve(stdout.split('\n').some((l) => l.includes(text)));
    });
  });
}

/** A unique `sleep` duration, so `ps` can find exactly this test's sleeper. */
export function uniqueSleep(): string {
  return `60.${Math.floor(Math.random() * 1e6)}`;
}

/** Runs `fn` with a TCP server listening on 127.0.0.1 of the host. */
export async function withServer(fn: (port: number) => Promise<void>): Promise<void> {
  const { createServer } = await import('node:net');
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end('hi\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    await fn(port);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A python3 one-liner that exits 0 if it can connect to 127.0.0.1:`port`, 1 otherwise. */
export function connectPy(port: number): string {
  return [
    'import socket, sys',
    'try:',
    `    socket.create_connection(('127.0.0.1', ${port}), timeout=2).close(); print('connected')`,
    'except OSError as e:',
    "    print('unreachable', e); sys.exit(1)",
  ].join('\n');
}

/** A runtime under test, and whether it may be absent. */
export interface SuiteTarget {
  name: 'sandbox' | 'process';
  create(options?: RuntimeOptions): Runtime;
  /** Why the whole target is skipped (only FETCHML_TEST_NO_BWRAP=1 may skip the sandbox). */
  skipAll?: string;
}

/**
 * The runtimes every suite runs against. A missing bwrap fails the sandbox suites loudly (their
 * `available()` check throws) unless FETCHML_TEST_NO_BWRAP=1.
 */
export function suiteTargets(): SuiteTarget[] {
  return [
    {
      name: 'sandbox',
      create: (options) => new SandboxRuntime(options),
      skipAll: process.env['FETCHML_TEST_NO_BWRAP'] === '1' ? 'FETCHML_TEST_NO_BWRAP=1' : undefined,
    },
    { name: 'process', create: (options) => new ProcessRuntime(options) },
  ];
}
