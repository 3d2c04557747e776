#!/usr/bin/env node
// `ml`: the researcher's CLI. Compiled code lives in dist/ (`npm run build`).
import { main } from '../dist/cli/main.js';

// A closed pipe (`ml status | head`) ends the program quietly, like any Unix filter.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await main(process.argv.slice(2));
