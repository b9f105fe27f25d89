// What a command is: a name, its positionals and flags (which also make its help), and a run
// function that receives them parsed. The table of commands lives in run.ts.

import { flagHelp, parseArgs, type FlagSpecs, type FlagValues } from './flags.js';
import type { Terminal } from './terminal.js';

export interface CommandContext {
  /** Aborted on Ctrl-C: long work (downloads, generation) stops and the CLI exits 130. */
  readonly signal: AbortSignal;
}

export interface CommandSpec<S extends FlagSpecs> {
  readonly name: string;
  readonly summary: string;
  readonly positionals: readonly string[];
  readonly flags: S;
  /** Extra help text after the flags (examples, formats). */
  readonly details?: string;
  run(input: { positionals: string[]; flags: FlagValues<S> }, terminal: Terminal, context: CommandContext): Promise<number>;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  help(): string;
  /** Parses `args` and runs; resolves to the exit code. */
  execute(args: readonly string[], terminal: Terminal, context: CommandContext): Promise<number>;
}

export function defineCommand<S extends FlagSpecs>(spec: CommandSpec<S>): Command {
  const help = () => {
    const usage = `Usage: dissect ${[spec.name, ...spec.positionals.map((p) => `<${p}>`)].join(' ')}${Object.keys(spec.flags).length ? ' [options]' : ''}`;
    const flags = Object.keys(spec.flags).length ? `\n\nOptions:\n${flagHelp(spec.flags)}` : '';
    return `${spec.summary}\n\n${usage}${flags}${spec.details ? `\n\n${spec.details}` : ''}`;
  };
  return {
    name: spec.name,
    summary: spec.summary,
    help,
    async execute(args, terminal, context) {
      const parsed = parseArgs(args, spec.flags, spec.positionals);
      if (parsed.help) {
        terminal.out(`${help()}\n`);
        return 0;
      }
      return spec.run(parsed, terminal, context);
    },
  };
}
