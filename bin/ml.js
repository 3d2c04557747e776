#!/usr/bin/env node
// `ml`: the researcher's CLI. Compiled code lives in dist/ (`npm run build`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
