// What the analysis commands share on the command line: a prompt given as --text or --ids, single
// tokens given as text (" Mary") or as an id, the --json / --out flags, and how tokens are shown
// (quoted in tables, whitespace made visible in figures).

import { basename, resolve } from 'node:path';
import { valueFormatter, visibleToken, type HookedTransformer, type ModelLocation, type Tokenizer } from '../index.js';
import { UsageError, type FlagSpec } from './flags.js';

export const PROMPT_FLAGS = {
  text: { type: 'string', placeholder: 'TEXT', description: "the prompt, tokenized with the model's tokenizer" },
  ids: { type: 'string', placeholder: 'IDS', description: 'the prompt as token ids, e.g. "464,3290,318" (instead of --text)' },
  bos: { type: 'boolean', description: "start text with the model's BOS token (as TransformerLens's to_tokens does) unless the tokenizer adds it" },
} as const satisfies Record<string, FlagSpec>;

export const OUTPUT_FLAGS = {
  json: { type: 'boolean', description: 'print the results as JSON instead of a table' },
  out: { type: 'string', placeholder: 'FILE', description: 'also write the figure to FILE.svg or FILE.png' },
} as const satisfies Record<string, FlagSpec>;

/** "1, 2,3" → [1, 2, 3]; `flag` names the option in errors. */
export function parseIdList(flag: string, text: string): number[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.length === 1 && items[0] === '') throw new UsageError(`--${flag} is empty; expected token ids like "464,3290,318"`);
  return items.map((item) => {
    if (!/^\d+$/.test(item)) throw new UsageError(`--${flag}: '${item}' is not a token id (a non-negative integer); expected e.g. "464,3290,318"`);
    return Number(item);
  });
}

export interface PromptSource {
  /** Flag names, for messages: e.g. 'text' and 'ids', or 'clean' and 'clean-ids'. */
  textFlag: string;
  idsFlag: string;
  text?: string;
  ids?: string;
  /** Prepend the model's BOS token to text (not to ids, which are taken as given). */
  bos?: boolean;
}

/** The prompt's token ids, from text (needs a tokenizer) or ids (checked against the vocabulary). */
export function promptIds(source: PromptSource, model: HookedTransformer, tokenizer: Tokenizer | null, modelName: string): number[] {
  const { textFlag, idsFlag } = source;
  if ((source.text === undefined) === (source.ids === undefined)) throw new UsageError(`give exactly one of --${textFlag} and --${idsFlag}`);
  let ids: number[];
  if (source.ids !== undefined) {
    ids = parseIdList(idsFlag, source.ids);
  } else {
    if (tokenizer === null) throw new UsageError(`'${modelName}' has no tokenizer.json; pass --tokenizer <tokenizer.json> or give --${idsFlag}`);
    ids = tokenizer.encode(source.text as string);
    if (source.bos) {
      const bos = model.config.bosTokenId;
      if (bos === null || bos === undefined) throw new UsageError("--bos: this model's config names no BOS token");
      if (ids[0] !== bos) ids.unshift(bos);
    }
    if (ids.length === 0) throw new UsageError(`--${textFlag} '${source.text}' has no tokens`);
  }
  checkIds(idsFlag, ids, model);
  return ids;
}

function checkIds(flag: string, ids: readonly number[], model: HookedTransformer): void {
  const vocab = model.config.dVocab;
  const bad = ids.find((id) => id >= vocab);
  if (bad !== undefined) throw new UsageError(`--${flag}: token id ${bad} is not in the model's vocabulary (0..${vocab - 1})`);
  if (ids.length > model.config.nCtx) throw new UsageError(`--${flag}: ${ids.length} tokens exceed the model's context of ${model.config.nCtx}`);
}

/**
 * One token named by text (--answer " Mary") or by id (--answer-id 5335); undefined when neither
 * was given. Text must be exactly one token.
 */
export function singleToken(flag: string, text: string | undefined, id: number | undefined, model: HookedTransformer,
  tokenizer: Tokenizer | null, modelName: string): number | undefined {
  if (text !== undefined && id !== undefined) throw new UsageError(`give --${flag} or --${flag}-id, not both`);
  if (id !== undefined) {
    if (!Number.isInteger(id) || id < 0 || id >= model.config.dVocab) {
      throw new UsageError(`--${flag}-id ${id} is not a token id of this model (0..${model.config.dVocab - 1})`);
    }
    return id;
  }
  if (text === undefined) return undefined;
  if (tokenizer === null) throw new UsageError(`'${modelName}' has no tokenizer.json; pass --tokenizer <tokenizer.json> or give --${flag}-id`);
  const ids = tokenizer.encode(text, { addSpecialTokens: false });
  if (ids.length !== 1) {
    const pieces = ids.length ? ` (${tokenizer.tokenStrings(ids).map((t) => JSON.stringify(t)).join(' + ')})` : '';
    throw new UsageError(`--${flag} ${JSON.stringify(text)} is ${ids.length} tokens${pieces}; give text that is one token (mind the leading space) or --${flag}-id`);
  }
  return ids[0];
}

/** Whether the tokenizer has a token for `id` (a model's vocabulary can be larger than its tokenizer's). */
function knows(tokenizer: Tokenizer, id: number): boolean {
  return id < tokenizer.vocabSize && tokenizer.idToToken(id) !== undefined;
}

/** GPT-2's bytes_to_unicode, inverted: the byte each byte-level vocabulary character stands for. */
const BYTE_OF_CHAR: ReadonlyMap<string, number> = (() => {
  const table = new Map<string, number>();
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    table.set(String.fromCharCode(printable ? byte : next++), byte);
  }
  return table;
})();

/**
 * How a token reads in a table or figure. A piece of a multi-byte character decodes to U+FFFD,
 * and every such token would look the same; those show their bytes instead ('<0xE2><0x80>').
 */
function displayString(tokenizer: Tokenizer, id: number): string {
  const text = tokenizer.tokenStrings([id])[0];
  if (!text.includes('\uFFFD')) return text;
  const raw = tokenizer.idToToken(id) ?? '';
  if (/^(<0x[0-9A-Fa-f]{2}>)+$/.test(raw)) return raw;
  const chars = [...raw];
  if (chars.length === 0 || !chars.every((c) => BYTE_OF_CHAR.has(c))) return text;
  return chars.map((c) => `<0x${(BYTE_OF_CHAR.get(c) as number).toString(16).toUpperCase().padStart(2, '0')}>`).join('');
}

/** Display strings of token ids: the tokenizer's, or '#id' without one (or for ids it lacks). */
export function tokenStrings(ids: readonly number[], tokenizer: Tokenizer | null): string[] {
  if (tokenizer === null) return ids.map((id) => `#${id}`);
  return ids.map((id) => (knows(tokenizer, id) ? displayString(tokenizer, id) : `#${id}`));
}

/** Text of generated ids; ids the tokenizer lacks (padding rows of the embedding) show as '#id'. */
export function decodeText(ids: readonly number[], tokenizer: Tokenizer): string {
  let text = '';
  let run: number[] = [];
  const flush = () => {
    if (run.length) text += tokenizer.decode(run, { skipSpecialTokens: true });
    run = [];
  };
  for (const id of ids) {
    if (knows(tokenizer, id)) {
      run.push(id);
    } else {
      flush();
      text += `#${id}`;
    }
  }
  flush();
  return text;
}

/** A token as a table shows it: quoted, so leading spaces and newlines are visible. */
export function quoted(token: string): string {
  return JSON.stringify(token);
}

/** Position-axis labels for figures: the token with visible whitespace, then its index. */
export function positionLabels(tokens: readonly string[]): string[] {
  return tokens.map((t, i) => `${visibleToken(t)} ${i}`);
}

/** How figures name a model: a local folder's name, or the hub id. */
export function modelLabel(name: string, location: ModelLocation): string {
  return location.source === 'local' ? basename(resolve(location.folder)) : name;
}

/** Numbers in tables: 4 significant digits, exponent notation when tiny or huge. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 1e5 || magnitude < 1e-3 ? value.toExponential(2) : String(Number(value.toPrecision(4)));
}

/** A formatter for numbers compared in one table: enough decimals to tell them apart (see valueFormatter). */
export function tableFormatter(values: readonly number[]): (value: number) => string {
  const format = valueFormatter(values);
  return (value) => format(value).replace('−', '-');
}
