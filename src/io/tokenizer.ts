// Hugging Face tokenizers (tokenizer.json + tokenizer_config.json) through @huggingface/tokenizers,
// a pure-JS implementation of the Rust library. Our tests hold it (with the fixes in
// tokenizer-fixes.ts) to the Rust library's ids on byte-level BPE (GPT-2, Llama 3 style) and
// SentencePiece-style BPE with byte fallback (Llama 2, Mistral style); its WordPiece and Unigram
// models are not covered by our references yet. We wrap it to give file-naming FormatErrors,
// range-checked ids, special token ids and per-token display strings. Browser-safe: only fromFile
// touches Node, through a dynamic import.

import { ArgumentError, DissectError, FormatError, IndexError, IOError } from '../util/errors.js';
import type { JsonObject } from './json-values.js';
import {
  checkTokenizerConfig, checkTokenizerJson, displayToken, specialTokenContent, tokenDisplayOf, type TokenDisplay,
} from './tokenizer-json.js';
import { fixLibraryDivergences } from './tokenizer-fixes.js';
import { LibraryTokenizerClass, type LibraryTokenizer } from './tokenizer-library.js';

export interface EncodeOptions {
  /** Add what the post-processor adds (Llama's <s>, BERT's [CLS]/[SEP]); GPT-2 adds nothing. Default true, as in HF. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

export class Tokenizer {
  /** Highest id the tokenizer can produce + 1 (vocabulary plus added tokens); the model's embedding may be larger. */
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  readonly unkTokenId: number | undefined;
  private readonly display: TokenDisplay;
  private readonly addedTokens: Map<number, string>;
  private readonly cleanUpSpaces: boolean;

  private constructor(private readonly inner: LibraryTokenizer, json: JsonObject, config: JsonObject, private readonly label: string) {
    let maxId = -1;
    for (const id of inner.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    this.addedTokens = new Map(((json.added_tokens ?? []) as { id: number; content: string }[]).map((t) => [t.id, t.content]));
    const idOf = (key: string, fallback?: unknown): number | undefined => {
      const content = specialTokenContent(config[key]) ?? specialTokenContent(fallback);
      return content === undefined ? undefined : inner.token_to_id(content);
    };
    const model = json.model as JsonObject;
    this.unkTokenId = idOf('unk_token', model.unk_token);
    this.bosTokenId = idOf('bos_token');
    this.eosTokenId = idOf('eos_token');
    this.padTokenId = idOf('pad_token');
    this.display = tokenDisplayOf(json);
    // Rust `tokenizers` never cleans up spaces; transformers does when the config asks.
    this.cleanUpSpaces = config.clean_up_tokenization_spaces === true;
  }

  /**
   * Build from parsed tokenizer.json and (optionally) tokenizer_config.json objects. Throws
   * FormatError naming `label` when either is malformed or uses a component we cannot run.
   */
  static fromJSON(tokenizerJson: unknown, tokenizerConfig: unknown = {}, label = 'tokenizer.json'): Tokenizer {
    checkTokenizerJson(tokenizerJson, label);
    checkTokenizerConfig(tokenizerConfig, `${label} (tokenizer_config)`);
    // The library defaults clean-up to on; we pass the config's value explicitly (off when absent).
    const config = { ...tokenizerConfig, clean_up_tokenization_spaces: tokenizerConfig.clean_up_tokenization_spaces === true };
    let inner: LibraryTokenizer;
    try {
      inner = new LibraryTokenizerClass(tokenizerJson, config);
    } catch (error) {
      throw new FormatError(`${label}: cannot build tokenizer: ${(error as Error).message}`);
    }
    fixLibraryDivergences(inner);
    const tokenizer = new Tokenizer(inner, tokenizerJson, config, label);
    tokenizer.selfCheck();
    return tokenizer;
  }

  /**
   * Load `tokenizer.json` (a file path, or a folder holding it), plus `tokenizer_config.json` from
   * the same folder when present. Node only.
   */
  static async fromFile(path: string): Promise<Tokenizer> {
    const { readFile, stat } = await import('node:fs/promises');
    const { dirname, join } = await import('node:path');
    const isFolder = await stat(path).then((s) => s.isDirectory(), () => false);
    const jsonPath = isFolder ? join(path, 'tokenizer.json') : path;
    const readJson = async (file: string, optional: boolean): Promise<unknown> => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new IOError(`cannot read '${file}': ${(error as Error).message}`);
      }
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new FormatError(`${file}: not valid JSON (${(error as Error).message})`);
      }
    };
    const json = await readJson(jsonPath, false);
    const configPath = join(dirname(jsonPath), 'tokenizer_config.json');
    const config = await readJson(configPath, true);
    return Tokenizer.fromJSON(json, config ?? {}, jsonPath);
  }

  /** Token ids for `text`, exactly as Hugging Face `tokenizers` gives them. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new ArgumentError(`encode expects a string, got ${typeof text}`);
    // Like Rust `tokenizers`, a character with no token, no unk and no byte fallback is dropped.
    return this.run('encode', () => this.inner.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids);
  }

  /** Text for `ids` (the inverse of encode up to normalization); throws IndexError for ids outside [0, vocabSize). */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    this.checkIds(ids);
    if (ids.length === 0) return '';
    return this.run('decode', () => this.inner.decode([...ids], {
      skip_special_tokens: options.skipSpecialTokens ?? false, clean_up_tokenization_spaces: this.cleanUpSpaces,
    }));
  }

  /** Each id as a person reads it: 'Ġthe' → ' the', '▁the' → ' the', '<0x0A>' → '\n', special tokens as written. */
  tokenStrings(ids: readonly number[]): string[] {
    this.checkIds(ids);
    return ids.map((id) => this.addedTokens.get(id) ?? displayToken(this.inner.id_to_token(id) ?? '', this.display));
  }

  /** The vocabulary string of one id ('Ġthe'), or undefined for an id with no token. */
  idToToken(id: number): string | undefined {
    return this.inner.id_to_token(id);
  }

  tokenToId(token: string): number | undefined {
    return this.inner.token_to_id(token);
  }

  private checkIds(ids: readonly number[]): void {
    if (!Array.isArray(ids)) throw new ArgumentError(`expected an array of token ids, got ${typeof ids}`);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize || this.inner.id_to_token(id) === undefined) {
        throw new IndexError(`token id ${id} at position ${i} is not in ${this.label} (ids are integers in [0, ${this.vocabSize}))`);
      }
    }
  }

  /** Library failures on valid-looking input mean the file uses something it cannot run: report as FormatError. */
  private run<T>(what: string, body: () => T): T {
    try {
      return body();
    } catch (error) {
      if (error instanceof DissectError) throw error;
      throw new FormatError(`${this.label}: ${what} failed inside the tokenizer: ${(error as Error).message}`);
    }
  }

  /** Fail at load, not at first use, when the components cannot handle plain text. */
  private selfCheck(): void {
    this.run('a test encode of "Hello world"', () => this.inner.encode('Hello world 123', { add_special_tokens: true }));
  }
}
