// dissect sae <subcommand>: sparse autoencoders — train, evaluate, inspect, and feature dashboards.
// A dispatcher: each subcommand is a Command of its own (with its own flags and help).

import { closestMatches } from '../../index.js';
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { saeDashboardCommand } from './sae-dashboard.js';
import { saeEvalCommand } from './sae-eval.js';
import { saeInfoCommand } from './sae-info.js';
import { saeTrainCommand } from './sae-train.js';

export const SAE_SUBCOMMANDS: readonly Command[] = [saeTrainCommand, saeEvalCommand, saeInfoCommand, saeDashboardCommand];

function subcommandName(command: Command): string {
  return command.name.replace(/^sae /, '');
}

function help(): string {
  const width = Math.max(...SAE_SUBCOMMANDS.map((c) => subcommandName(c).length));
  const rows = SAE_SUBCOMMANDS.map((c) => `  ${subcommandName(c).padEnd(width)}  ${c.summary}`);
  return `Sparse autoencoders: train, evaluate and inspect SAEs (SAELens format), and feature dashboards.

Usage: dissect sae <subcommand> [arguments] [options]

Subcommands:
${rows.join('\n')}

Run 'dissect sae <subcommand> --help' for its options.`;
}

export const saeCommand: Command = {
  name: 'sae',
  summary: 'Sparse autoencoders: train, eval, info, dashboard (SAELens format).',
  help,
  async execute(args, terminal, context) {
    const [name, ...rest] = args;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const sub = name === 'help' && rest[0] !== undefined ? SAE_SUBCOMMANDS.find((c) => subcommandName(c) === rest[0]) : undefined;
      terminal.out(`${sub ? sub.help() : help()}\n`);
      return 0;
    }
    const command = SAE_SUBCOMMANDS.find((c) => subcommandName(c) === name);
    if (command === undefined) {
      const close = closestMatches(name, SAE_SUBCOMMANDS.map(subcommandName));
      throw new UsageError(`unknown sae subcommand '${name}'${close.length ? `; did you mean ${close.map((c) => `'${c}'`).join(' or ')}?` : ''} (subcommands: ${SAE_SUBCOMMANDS.map(subcommandName).join(', ')})`);
    }
    return command.execute(rest, terminal, context);
  },
};
