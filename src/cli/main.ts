#!/usr/bin/env node
// The `dissect` executable: the only place that touches the process — exit codes, Ctrl-C, and how
// errors print. Expected failures (bad input, missing files, unsupported models) print one line;
// a stack trace only for a bug, or with DISSECT_DEBUG=1.
//   exit 0 ok · 1 error · 2 usage error · 130 interrupted

import { DissectError, setNoticeHandler } from '../index.js';
import { UsageError } from './flags.js';
import { runCli } from './run.js';
import { processTerminal } from './terminal.js';

const debug = ['1', 'true', 'yes'].includes((process.env.DISSECT_DEBUG ?? '').toLowerCase());

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

// `dissect ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

async function main(): Promise<number> {
  setNoticeHandler((message) => processTerminal.err(`dissect: ${oneLine(message)}\n`));
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C does not wait
    controller.abort(new DOMException('interrupted', 'AbortError'));
  };
  process.on('SIGINT', onInterrupt);
  try {
    return await runCli(process.argv.slice(2), processTerminal, { signal: controller.signal });
  } catch (error) {
    const err = error as Error;
    if (controller.signal.aborted) {
      processTerminal.err('dissect: interrupted\n');
      return 130;
    }
    if (error instanceof UsageError) {
      processTerminal.err(`dissect: ${oneLine(err.message)} (see 'dissect help')\n`);
      return 2;
    }
    if (debug) {
      processTerminal.err(`${err?.stack ?? String(error)}\n`);
    } else if (error instanceof DissectError) {
      processTerminal.err(`dissect: ${err.name}: ${oneLine(err.message)}\n`);
    } else {
      processTerminal.err(`dissect: internal error: ${oneLine(err?.message ?? String(error))} (run with DISSECT_DEBUG=1 for the stack trace)\n`);
    }
    return 1;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

main().then((code) => {
  process.exitCode = code;
});
