#!/usr/bin/env node
// The `dissect` command: a thin shell over the public API (src/index.ts). The only place that
// prints or exits.
import { runCli } from './commands.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as Error;
    process.stderr.write(`dissect: ${e.name ?? 'Error'}: ${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
