// Command table for the CLI. Each command parses its own flags and calls the library.
import { availableBackends, VERSION } from '../index.js';

const HELP = `dissect ${VERSION} — mechanistic interpretability for transformer language models

Usage: dissect <command> [options]

Commands:
  backends        list compute backends, which of them run on this machine, and their threads
  help            show this help

Model commands (info, tokenize, generate, cache, lens, patch, ...) arrive with the model layer;
see README.md for the roadmap.`;

export async function runCli(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${HELP}\n`);
      return 0;
    case 'backends':
      return backendsCommand(rest);
    default:
      process.stderr.write(`dissect: unknown command '${command}'. Run 'dissect help' for the list.\n`);
      return 2;
  }
}

function backendsCommand(args: string[]): number {
  const json = args.includes('--json');
  const rows = availableBackends();
  if (json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  for (const row of rows) {
    const status = row.ok ? `ok, ${row.threads} thread${row.threads === 1 ? '' : 's'}` : `unavailable: ${row.error}`;
    process.stdout.write(`${row.default ? '*' : ' '} ${row.name.padEnd(7)} ${status}\n`);
  }
  return 0;
}
