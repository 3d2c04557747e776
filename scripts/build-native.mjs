#!/usr/bin/env node
// Builds the optional native stat helper (native/fetchml_native.c → build/fetchml_native.node)
// with the system C compiler against the Node-API headers that ship with Node (<prefix>/include/
// node). No node-gyp and no download. It is an optimisation for warm snapshots only: when there is
// no compiler or no headers this prints why and exits 0, and fetchml uses its JavaScript path.
//
//   node scripts/build-native.mjs         (run by `npm run build`; skips an up-to-date build)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'fetchml_native.c');
const out = join(root, 'build', 'fetchml_native.node');
const headers = [
  process.env.FETCHML_NODE_HEADERS,
  resolve(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].find((dir) => dir && existsSync(join(dir, 'node_api.h')));

function skip(why) {
  console.warn(`fetchml: native stat helper not built (${why}); snapshots use the JavaScript path`);
  process.exit(0);
}

if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) process.exit(0);
if (!headers) skip('no Node-API headers (node_api.h) found next to this Node');
const cc = process.env.CC || 'cc';
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.tmp-${process.pid}`;
const args = [
  '-O2',
  '-ffp-contract=off',
  '-shared',
  '-fPIC',
  '-pthread',
  '-Wall',
  '-DNODE_GYP_MODULE_NAME=fetchml_native',
  `-I${headers}`,
  source,
  '-o',
  tmp,
];
const res = spawnSync(cc, args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
if (res.error) skip(`${cc}: ${res.error.message}`);
if (res.status !== 0) {
  rmSync(tmp, { force: true });
  skip(`${cc} failed: ${(res.stderr ?? '').trim().split('\n').slice(0, 5).join(' | ')}`);
}
renameSync(tmp, out);
