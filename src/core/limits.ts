/**
 * @module core/limits
 * Every size, length and count the API accepts, in one table (issue 5, "limits everywhere"): the
 * request schemas (`core/schemas/*`) cap strings and lists with these, the server caps bodies per
 * route and JSON nesting (`server/limits`), and the WebSocket hub caps message size, subscriptions
 * per connection and connections per API key. A refusal names the field and the limit. They are
 * generous for real use (a 200,000-file project, a 1,000-argument command) and small enough that
 * one request cannot make the server spend much memory or CPU.
 */

const KIB = 1024;
const MIB = 1024 * KIB;

export const LIMITS = {
  /** A short identifier-like string: user names, image names, labels, dataset names. */
  shortString: 256,
  /** A command-line argument, a command string, an environment value. */
  longString: 32 * KIB,
  /** A relative path in a tree or an artifact list (core/paths enforces the same). */
  path: 4096,
  /** Arguments of a command (`command` list, `args`). */
  argv: 1000,
  /** Environment variables of a spec. */
  envEntries: 1000,
  /** Labels, datasets, tracking plugins of a spec. */
  specList: 100,
  /** Entries of one tree manifest (a commit). */
  treeEntries: 1_000_000,
  /** Hashes per `POST /v1/blobs/missing`. */
  missingHashes: 10_000,
  /** Status values in a `GET /v1/tasks` filter. */
  statusFilter: 10,
  /** An API key in a WebSocket `auth` message (a real one is 47 characters). */
  apiKey: 256,
  /** A task id in a WebSocket message (a real one is 31 characters). */
  taskId: 64,
  /** How deep objects and lists may nest in a JSON body or WebSocket message. */
  jsonDepth: 32,
  /** One WebSocket message from a client (the largest real one is ~100 bytes). */
  wsMessageBytes: 16 * KIB,
  /** Tasks one WebSocket connection follows at once. */
  wsSubscriptions: 100,
  /** Open WebSocket connections per API key. */
  wsConnectionsPerKey: 32,
  /** Body of a route that takes no body (GET, cancel). */
  noBodyBytes: 16 * KIB,
  /** Body of the small JSON routes (submit a task, which blobs are missing). */
  smallBodyBytes: 2 * MIB,
} as const;
