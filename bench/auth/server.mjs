#!/usr/bin/env node
// One fetchml API server for bench/auth/run.mjs, built from the compiled code (dist/) exactly as
// `fetchml server` builds it — config from the base dir, the embedded backends, app.log and
// access.log, the audit log — with one difference when the mode is `off`: the auth chain is
// skipped through the in-process benchmark switch (server/auth/bench-switch), which no config can
// reach. Prints one JSON line {url, fingerprint, admin_key} when listening; stops on SIGINT/SIGTERM.
//
//   node bench/auth/server.mjs on|off <home> <port>
import { join } from 'node:path';

import { loadConfig } from '../../dist/config/index.js';
import { openBackends } from '../../dist/ops/backends.js';
import { createServer } from '../../dist/server/app.js';
import { UNAUTHENTICATED_FOR_BENCHMARK } from '../../dist/server/auth/bench-switch.js';
import { openServerLogs } from '../../dist/server/logging.js';

const [mode, home, port] = process.argv.slice(2);
if (!['on', 'off'].includes(mode) || !home || !port) {
  process.stderr.write('usage: server.mjs on|off <home> <port>\n');
  process.exit(2);
}
const { config } = loadConfig({ env: { FETCHML_HOME: home }, cwd: home });
const backends = await openBackends(config);
// Each server its own log dir (the two run side by side on one base dir).
const logs = openServerLogs({
  dir: join(home, `logs-${mode}`),
  level: config.logging.level,
  maxBytes: (config.logging.max_size_mb ?? 64) * 1024 * 1024,
  keep: config.logging.keep ?? 5,
});
const server = await createServer(
  {
    home: config.home,
    host: '127.0.0.1',
    port: Number(port),
    tls: config.server.tls,
    bodyLimitMb: config.server.body_limit_mb,
    version: 'bench',
    logs,
    security: {
      rolesFile: config.security.roles_file,
      ipAllowlist: config.security.ip_allowlist,
      rateLimitPerMin: config.security.rate_limit_per_min,
      banAfterFailures: config.security.ban_after_failures,
      banMinutes: config.security.ban_minutes,
    },
    ...(mode === 'off' ? { [UNAUTHENTICATED_FOR_BENCHMARK]: true } : {}),
  },
  backends,
);
const { url } = await server.listen();
process.stdout.write(
  `${JSON.stringify({ url, fingerprint: server.fingerprint, admin_key: server.adminKey })}\n`,
);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    await server.close();
    await backends.close();
    await logs.close();
    process.exit(0);
  });
}
