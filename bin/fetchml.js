#!/usr/bin/env node
// `fetchml`: the operator's CLI. Compiled code lives in dist/ (`npm run build`).
import { main } from '../dist/ops/main.js';

process.exitCode = await main(process.argv.slice(2));
