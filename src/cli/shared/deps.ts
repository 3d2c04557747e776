/**
 * @module cli/shared/deps
 * What every `ml` command gets injected (STYLE.md (b) 8): its IO, working directory, a factory for
 * API clients and a clock. Commands never reach for `process`, a global client or `Date.now`, so
 * unit tests drive them with recording IO and a fake client, and integration tests with a real
 * server.
 */
import type { CaTrust, FetchmlClient } from '../../client/index.ts';
import type { ProgramIo } from './output.ts';

/** The API client as `ml` uses it (tests pass fakes shaped like it). */
export type CliClient = FetchmlClient;

/** What the read-only commands need; a {@link CliClient} is one too. */
export type LightClient = Pick<
  CliClient,
  'url' | 'fingerprint' | 'health' | 'whoami' | 'status' | 'listTasks' | 'close'
>;

/** Where and as whom to connect. */
export interface ClientTarget {
  url: string;
  apiKey: string;
  /** The pinned certificate fingerprint; null trusts the first one seen (TOFU). */
  fingerprint: string | null;
  /** Verify against this CA instead of the pin (client config `ca_file`). */
  ca?: CaTrust | null;
}

/** Creates a client for `target` (nothing connects until the first call). */
export type ClientFactory = (target: ClientTarget) => Promise<CliClient>;

/** Injected into every command. */
export interface CommandDeps {
  io: ProgramIo;
  cwd: string;
  clientFactory: ClientFactory;
  /** A fast client for read-only commands; unset: {@link clientFactory} serves them too. */
  lightClientFactory?: (target: ClientTarget) => Promise<LightClient>;
  /** ms since the epoch. */
  now: () => number;
}

/** Options every `ml` command understands (global flags). */
export interface MlGlobalOptions {
  json?: boolean;
  debug?: boolean;
  /** Server URL from `--server` (else the client config's default). */
  server?: string;
  /** `--quiet`: only errors and warnings on stderr. */
  quiet?: boolean;
}
