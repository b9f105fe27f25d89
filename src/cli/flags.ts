// A small flag parser: `--name value`, `--name=value`, boolean `--name`, `--` ends flags. Each
// command declares its flags and positionals; anything else is a UsageError that names the bad
// argument (with the closest known flag) so the user can fix the command line.

import { fileURLToPath } from 'node:url';
import { closestMatches, DissectError } from '../index.js';

/** Bad command-line usage: printed with a hint to the command's help, exit code 2. */
export class UsageError extends DissectError {
  override name = 'UsageError';
}

export type FlagType = 'string' | 'number' | 'integer' | 'boolean';

export interface FlagSpec {
  readonly type: FlagType;
  readonly description: string;
  /** Shown in help after the flag, e.g. 'N' in `--max-new-tokens N`. */
  readonly placeholder?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type ValueOf<T extends FlagType> = T extends 'boolean' ? boolean : T extends 'string' ? string : number;

export type FlagValues<S extends FlagSpecs> = { -readonly [K in keyof S]?: ValueOf<S[K]['type']> };

export interface ParsedArgs<S extends FlagSpecs> {
  readonly positionals: string[];
  readonly flags: FlagValues<S>;
  readonly help: boolean;
}

/**
 * Splits `args` into the declared flags and exactly `positionalNames.length` positionals (the
 * help flag excepted: with `--help`/`-h` nothing else is checked).
 */
/**
 * The embedded default model: the world-4l organism shipped in the package (models/world-4l), so
 * every model command runs offline with no model given.
 */
export const DEFAULT_MODEL = fileURLToPath(new URL('../../../models/world-4l', import.meta.url));

export function parseArgs<S extends FlagSpecs>(args: readonly string[], specs: S, positionalNames: readonly string[]): ParsedArgs<S> {
  if (args.includes('--help') || args.includes('-h')) return { positionals: [], flags: {}, help: true };
  const flags: Record<string, string | number | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) throw new UsageError(`unknown option '${arg}' (options are spelt --name)`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const spec = specs[name];
    if (spec === undefined) throw new UsageError(unknownFlag(name, Object.keys(specs)));
    if (name in flags) throw new UsageError(`--${name} was given twice`);
    if (spec.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} is a switch and takes no value (got '${arg}')`);
      flags[name] = true;
      continue;
    }
    let text: string;
    if (eq >= 0) {
      text = arg.slice(eq + 1);
    } else {
      if (i + 1 >= args.length) throw new UsageError(`--${name} needs a value (${spec.placeholder ?? spec.type})`);
      text = args[++i];
    }
    flags[name] = convert(name, spec, text);
  }
  // <model> may be left out (the first positional of every model command): the embedded default.
  if (positionalNames[0] === 'model' && positionals.length === positionalNames.length - 1) {
    positionals.unshift(DEFAULT_MODEL);
  }
  if (positionals.length < positionalNames.length) {
    throw new UsageError(`missing <${positionalNames[positionals.length]}>`);
  }
  if (positionals.length > positionalNames.length) {
    const extra = positionals[positionalNames.length];
    throw new UsageError(`unexpected argument '${extra}'${positionalNames.length ? ` after <${positionalNames.at(-1)}>` : ''} (quote text that has spaces)`);
  }
  return { positionals, flags: flags as FlagValues<S>, help: false };
}

function convert(name: string, spec: FlagSpec, text: string): string | number {
  if (spec.type === 'string') return text;
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) throw new UsageError(`--${name} expects a number, got '${text}'`);
  if (spec.type === 'integer' && !Number.isInteger(value)) throw new UsageError(`--${name} expects an integer, got '${text}'`);
  return value;
}

function unknownFlag(name: string, known: readonly string[]): string {
  const close = closestMatches(name, known, 2).map((k) => `--${k}`);
  const hint = close.length ? `; did you mean ${close.join(' or ')}?` : '';
  return `unknown option '--${name}'${hint}`;
}

/** Help lines for flags: `  --max-new-tokens N   description`. */
export function flagHelp(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => [`--${name}${spec.type === 'boolean' ? '' : ` ${spec.placeholder ?? spec.type.toUpperCase()}`}`, spec.description]);
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
}
