#!/usr/bin/env node
// The baseline of bench/api: a bare Fastify HTTPS hello-world (no auth, no validation, no
// store) on the same certificate and key as the fetchml server under test.
//   node bench/api/hello.mjs <cert.pem> <key.pem>   → prints {"url": ...} once listening
import { readFileSync } from 'node:fs';

import Fastify from 'fastify';

const [cert, key] = process.argv.slice(2);
const app = Fastify({
  logger: false,
  https: { cert: readFileSync(cert), key: readFileSync(key) },
});
app.get('/hello', async () => ({ hello: 'world' }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url })}\n`);
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => void app.close());
