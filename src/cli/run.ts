// The command table and dispatch: `dissect <command> [args]`. Returns the exit code; main.ts owns
// the process (exit codes, signals, printing errors).

import { VERSION } from '../index.js';
import type { Command, CommandContext } from './command.js';
import { attributeCommand } from './commands/attribute.js';
import { backendsCommand } from './commands/backends.js';
import { buildWebCommand } from './commands/build-web.js';
import { cacheCommand } from './commands/cache.js';
import { circuitCommand } from './commands/circuit.js';
import { editCommand } from './commands/edit.js';
import { generateCommand } from './commands/generate.js';
import { headsCommand } from './commands/heads.js';
import { infoCommand } from './commands/info.js';
import { lensCommand } from './commands/lens.js';
import { neuronCommand } from './commands/neuron.js';
import { patchCommand } from './commands/patch.js';
import { reportCommand } from './commands/report.js';
import { saeCommand } from './commands/sae.js';
import { serveCommand } from './commands/serve.js';
import { steerCommand } from './commands/steer.js';
import { tokenizeCommand } from './commands/tokenize.js';
import { traceCommand } from './commands/trace.js';
import { trainCommand } from './commands/train.js';
import { validateCommand } from './commands/validate.js';
import { UsageError } from './flags.js';
import type { Terminal } from './terminal.js';
import { closestMatches } from '../index.js';

export const COMMANDS: readonly Command[] = [infoCommand, tokenizeCommand, generateCommand, trainCommand, cacheCommand,
  lensCommand, headsCommand, patchCommand, attributeCommand, circuitCommand, traceCommand, editCommand, steerCommand,
  neuronCommand, saeCommand, reportCommand, backendsCommand, validateCommand, serveCommand, buildWebCommand];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 'help'.length);
  const rows = [...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), `  ${'help'.padEnd(width)}  Show this help, or a command's: dissect help <command>.`];
  return `dissect ${VERSION} — mechanistic interpretability for transformer language models

Usage: dissect <command> [arguments] [options]

Commands:
${rows.join('\n')}

<model> is a local Hugging Face model folder or a hub id. Run 'dissect <command> --help' for its options.`;
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command) return command;
  const close = closestMatches(name, [...COMMANDS.map((c) => c.name), 'help']);
  throw new UsageError(`unknown command '${name}'${close.length ? `; did you mean ${close.map((c) => `'${c}'`).join(' or ')}?` : ''}`);
}

export async function runCli(args: readonly string[], terminal: Terminal, context: CommandContext): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    terminal.out(`${rest[0] !== undefined && name === 'help' ? findCommand(rest[0]).help() : mainHelp()}\n`);
    return 0;
  }
  if (name === '--version' || name === 'version') {
    terminal.out(`${VERSION}\n`);
    return 0;
  }
  return findCommand(name).execute(rest, terminal, context);
}
