/**
 * @module runtime/test-support
 * Fixtures for the runtime test suites (no test-framework imports, so it type-checks and builds
 * like any module): a staged snapshot + output dir, a spec builder, and an output collector that
 * timestamps chunks so tests can prove streaming.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';

import { DockerRuntime } from './docker/docker-runtime.ts';
import { engineEnvFrom } from './oci/cli.ts';
import { PodmanRuntime } from './podman/podman-runtime.ts';
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

/** Runs `fn` with a TCP server listening on `host` (default 127.0.0.1) of the host. */
export async function withServer(
  fn: (port: number) => Promise<void>,
  host = '127.0.0.1',
): Promise<void> {
  const { createServer } = await import('node:net');
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end('hi\n');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    await fn(port);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A python3 one-liner that exits 0 if it can connect to `host`:`port`, 1 otherwise. */
export function connectPy(port: number, host = '127.0.0.1'): string {
  return [
    'import socket, sys',
    'try:',
    `    socket.create_connection(('${host}', ${port}), timeout=2).close(); print('connected')`,
    'except OSError as e:',
    "    print('unreachable', e); sys.exit(1)",
  ].join('\n');
}

/** A runtime under test, and whether it may be absent. */
export interface SuiteTarget {
  name: 'podman' | 'docker' | 'sandbox' | 'process';
  create(options?: RuntimeOptions): Runtime;
  /** Why the whole target is skipped (only FETCHML_TEST_NO_BWRAP=1 may skip the sandbox). */
  skipAll?: string;
  /** Where a test server listens so that this runtime's jobs could reach it with a network. */
  serverHost: string;
  /** The host's address as the job dials it with `network: bridge`. */
  hostFromJob: string;
  /** An address of the host that a job with `network: none` must not reach. */
  hostForNoNetwork: string;
}

/** The python image for podman tests (built by .ci/build-test-images). */
export function testImage(kind: 'python' | 'busybox' = 'python'): string {
  return kind === 'python'
    ? (process.env['FETCHML_TEST_IMAGE_PYTHON'] ?? 'localhost/fetchml-test-python:latest')
    : (process.env['FETCHML_TEST_IMAGE_BUSYBOX'] ?? 'localhost/fetchml-test-busybox:latest');
}

/** Whether podman tests must run (CI, or FETCHML_TEST_PODMAN=1): then a missing podman fails. */
export function podmanRequired(): boolean {
  return process.env['CI'] === 'true' || process.env['FETCHML_TEST_PODMAN'] === '1';
}

/**
 * Why the podman suites are skipped, or undefined when they run. They run when required (and then
 * fail loudly if podman or the image is missing), or when podman and the test image are present.
 */
export function podmanSkipReason(): string | undefined {
  if (process.env['FETCHML_TEST_PODMAN'] === '0') return 'FETCHML_TEST_PODMAN=0';
  if (podmanRequired()) return undefined;
  try {
    const env = testEngineEnv();
    if (env['CONTAINERS_CONF'] === undefined)
      return 'CONTAINERS_CONF not set (.ci/build-test-images)';
    execFileSync('podman', ['image', 'exists', testImage()], {
      stdio: 'ignore',
      timeout: 10_000,
      env,
    });
    return undefined;
  } catch {
    return `podman or ${testImage()} missing (bash .ci/build-test-images; FETCHML_TEST_PODMAN=1 requires them)`;
  }
}

/** A non-loopback IPv4 address of this host (falls back to 127.0.0.1). */
export function hostAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** The containers.conf .ci/build-test-images writes (used when CONTAINERS_CONF is not set). */
export const CI_CONTAINERS_CONF = '/etc/containers/fetchml-ci.conf';

/** The engine env for podman tests: the caller's, with CONTAINERS_CONF defaulting to the CI conf. */
export function testEngineEnv(): Record<string, string> {
  const env = engineEnvFrom(process.env);
  if (env['CONTAINERS_CONF'] === undefined && existsSync(CI_CONTAINERS_CONF)) {
    env['CONTAINERS_CONF'] = CI_CONTAINERS_CONF;
  }
  return env;
}

/** A podman runtime for tests: the python test image as the default image. */
export function testPodman(options: RuntimeOptions & { workerId?: string } = {}): PodmanRuntime {
  return new PodmanRuntime({ defaultImage: testImage(), engineEnv: testEngineEnv(), ...options });
}

/**
 * Why the docker suites are skipped, or undefined when they run: only with FETCHML_TEST_DOCKER=1
 * (a docker engine is rare on dev machines and CI starts one on purpose: .ci/start-docker); then a
 * missing engine or test image fails loudly.
 */
export function dockerSkipReason(): string | undefined {
  return process.env['FETCHML_TEST_DOCKER'] === '1'
    ? undefined
    : 'FETCHML_TEST_DOCKER=1 not set (a docker engine with the test images: .ci/start-docker)';
}

/** A docker runtime for tests (DOCKER_HOST from the environment): the python test image as default. */
export function testDocker(options: RuntimeOptions & { workerId?: string } = {}): DockerRuntime {
  return new DockerRuntime({
    defaultImage: testImage(),
    engineEnv: engineEnvFrom(process.env),
    ...options,
  });
}

/**
 * The runtimes every suite runs against. podman runs when required or present
 * ({@link podmanSkipReason}); a missing bwrap fails the sandbox suites loudly (their
 * `available()` check throws) unless FETCHML_TEST_NO_BWRAP=1.
 */
export function suiteTargets(): SuiteTarget[] {
  const local = {
    serverHost: '127.0.0.1',
    hostFromJob: '127.0.0.1',
    hostForNoNetwork: '127.0.0.1',
  };
  return [
    {
      name: 'podman',
      create: (options) => testPodman(options),
      skipAll: podmanSkipReason(),
      serverHost: '0.0.0.0',
      hostFromJob: 'host.containers.internal',
      hostForNoNetwork: hostAddress(),
    },
    {
      name: 'docker',
      create: (options) => testDocker(options),
      skipAll: dockerSkipReason(),
      serverHost: '0.0.0.0',
      // The engine's bridge gateway: the host as a job on the default bridge network dials it.
      hostFromJob: process.env['FETCHML_TEST_DOCKER_HOST_IP'] ?? '172.17.0.1',
      hostForNoNetwork: hostAddress(),
    },
    {
      name: 'sandbox',
      create: (options) => new SandboxRuntime(options),
      skipAll: process.env['FETCHML_TEST_NO_BWRAP'] === '1' ? 'FETCHML_TEST_NO_BWRAP=1' : undefined,
      ...local,
    },
    { name: 'process', create: (options) => new ProcessRuntime(options), ...local },
  ];
}
