// Structural checks on tokenizer.json / tokenizer_config.json before handing them to
// @huggingface/tokenizers (whose own errors are plain Errors without the file name), plus the
// pieces of the format we read ourselves: special tokens and how to display single tokens. Pure.

import { FormatError } from '../util/errors.js';
import { describe, isJsonObject as isObject, type JsonObject as Json } from './json-values.js';

const MODEL_TYPES = ['BPE', 'WordPiece', 'Unigram'];
const MAX_ID = 2 ** 31 - 1;

function isId(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_ID;
}

/** Throw FormatError (naming `label` and the bad field) unless `json` has the shape the tokenizer needs. */
export function checkTokenizerJson(json: unknown, label: string): asserts json is Json {
  if (!isObject(json)) throw new FormatError(`${label}: tokenizer.json must be an object, got ${describe(json)}`);
  const { model, added_tokens: addedTokens } = json;
  if (!isObject(model)) throw new FormatError(`${label}: "model" must be an object, got ${describe(model)}`);
  if (!MODEL_TYPES.includes(model.type as string)) {
    throw new FormatError(`${label}: model.type ${describe(model.type)} is not supported; expected one of ${MODEL_TYPES.join(', ')}`);
  }
  if (model.type === 'Unigram') {
    const vocab = model.vocab;
    if (!Array.isArray(vocab) || !vocab.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number')) {
      throw new FormatError(`${label}: Unigram model.vocab must be [piece, score] pairs`);
    }
  } else {
    if (!isObject(model.vocab)) throw new FormatError(`${label}: model.vocab must be an object of token → id, got ${describe(model.vocab)}`);
    for (const [token, id] of Object.entries(model.vocab)) {
      if (!isId(id)) throw new FormatError(`${label}: model.vocab['${token}'] = ${describe(id)} is not a token id (integer 0..2^31-1)`);
    }
  }
  if (model.type === 'BPE') checkMerges(model.merges, label);
  if (addedTokens !== undefined && addedTokens !== null) {
    if (!Array.isArray(addedTokens)) throw new FormatError(`${label}: added_tokens must be an array, got ${describe(addedTokens)}`);
    addedTokens.forEach((token, i) => {
      if (!isObject(token) || !isId(token.id) || typeof token.content !== 'string' || token.content === '') {
        throw new FormatError(`${label}: added_tokens[${i}] must have an integer id and non-empty string content, got ${describe(token)}`);
      }
    });
  }
  for (const part of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) {
    const value = json[part];
    if (value !== undefined && value !== null && !isObject(value)) {
      throw new FormatError(`${label}: "${part}" must be an object or null, got ${describe(value)}`);
    }
  }
}

function checkMerges(merges: unknown, label: string): void {
  if (!Array.isArray(merges)) throw new FormatError(`${label}: BPE model.merges must be an array, got ${describe(merges)}`);
  merges.forEach((merge, i) => {
    const ok = typeof merge === 'string' ? merge.includes(' ')
      : Array.isArray(merge) && merge.length === 2 && merge.every((part) => typeof part === 'string');
    if (!ok) throw new FormatError(`${label}: model.merges[${i}] must be "a b" or ["a", "b"], got ${describe(merge)}`);
  });
}

/** tokenizer_config.json names special tokens as a string, an AddedToken object ({content}), or null. */
export function specialTokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.content === 'string') return value.content;
  return undefined;
}

export function checkTokenizerConfig(config: unknown, label: string): asserts config is Json {
  if (!isObject(config)) throw new FormatError(`${label}: tokenizer_config.json must be an object, got ${describe(config)}`);
  for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
    const value = config[key];
    if (value !== undefined && value !== null && specialTokenContent(value) === undefined) {
      throw new FormatError(`${label}: ${key} must be a string or {"content": string}, got ${describe(value)}`);
    }
  }
}

/** How single tokens are shown to people (see Tokenizer.tokenStrings). */
export type TokenDisplay =
  | { kind: 'byte-level' }
  | { kind: 'pieces'; replacements: [string, string][]; byteFallback: boolean };

/** Decoder types found anywhere in the decoder tree (Sequence decoders nest). */
function decoderParts(decoder: unknown): Json[] {
  if (!isObject(decoder)) return [];
  if (decoder.type === 'Sequence' && Array.isArray(decoder.decoders)) return decoder.decoders.flatMap(decoderParts);
  return [decoder];
}

export function tokenDisplayOf(json: Json): TokenDisplay {
  const parts = decoderParts(json.decoder);
  if (parts.some((p) => p.type === 'ByteLevel')) return { kind: 'byte-level' };
  const replacements: [string, string][] = [];
  for (const part of parts) {
    if (part.type === 'Metaspace') replacements.push([typeof part.replacement === 'string' ? part.replacement : '▁', ' ']);
    if (part.type === 'Replace' && isObject(part.pattern) && typeof part.pattern.String === 'string' && typeof part.content === 'string') {
      replacements.push([part.pattern.String, part.content]);
    }
  }
  const model = json.model as Json;
  return { kind: 'pieces', replacements, byteFallback: model.byte_fallback === true || parts.some((p) => p.type === 'ByteFallback') };
}

let unicodeToByte: Map<string, number> | undefined;

/** Inverse of GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
function byteLevelTable(): Map<string, number> {
  if (unicodeToByte) return unicodeToByte;
  const table = new Map<string, number>();
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    table.set(String.fromCharCode(printable ? byte : next++), byte);
  }
  unicodeToByte = table;
  return table;
}

const lenientUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** One token as a person reads it: 'Ġthe' → ' the', '▁the' → ' the', '<0x0A>' → '\n'; partial UTF-8 → '�'. */
export function displayToken(token: string, display: TokenDisplay): string {
  if (display.kind === 'byte-level') {
    const table = byteLevelTable();
    const chars = [...token];
    if (!chars.every((c) => table.has(c))) return token; // not a byte-level piece (e.g. an added token)
    return lenientUtf8.decode(Uint8Array.from(chars, (c) => table.get(c) as number));
  }
  const byte = display.byteFallback ? /^<0x([0-9A-Fa-f]{2})>$/.exec(token) : null;
  if (byte) return lenientUtf8.decode(Uint8Array.of(parseInt(byte[1], 16)));
  let text = token;
  for (const [from, to] of display.replacements) text = text.split(from).join(to);
  return text;
}
