// A word-level tokenizer for our synthetic languages, written as a Hugging Face tokenizer.json
// that both @huggingface/tokenizers and transformers' PreTrainedTokenizerFast run. It is GPT-2's
// byte-level BPE with `ignore_merges` and no merges: every pre-tokenized word in the vocabulary
// (" Mary", ",", " capital") is one token, and any other text falls back to its 256 bytes, so
// every string still encodes and decodes exactly. (WordLevel would drop unknown text to [UNK],
// and @huggingface/tokenizers does not implement it.)

import { ArgumentError } from '../util/errors.js';

export const END_OF_TEXT = '<|endoftext|>';

/** GPT-2's split of text into words before the vocabulary lookup (the ByteLevel pre-tokenizer's regex). */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Splits text into the pieces the tokenizer looks up (" Mary", ",", " went"). */
export function splitWords(text: string): string[] {
  return text.match(GPT2_SPLIT) ?? [];
}

/** GPT-2's bytes_to_unicode: each byte as a printable character (printable ASCII and Latin-1 as themselves). */
function byteToUnicode(): string[] {
  const table = new Array<string>(256);
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    table[byte] = String.fromCharCode(printable ? byte : next++);
  }
  return table;
}

const utf8 = new TextEncoder();

export interface WordTokenizerFiles {
  /** tokenizer.json */
  tokenizer: object;
  /** tokenizer_config.json */
  tokenizerConfig: object;
  /** Vocabulary size including the end-of-text token (the model's d_vocab). */
  vocabSize: number;
  endOfTextId: number;
}

/**
 * Builds the tokenizer from the pieces (as splitWords returns them) the language uses. Ids: the
 * 256 byte tokens first, then the pieces in sorted order, then <|endoftext|>.
 */
export function buildWordTokenizer(pieces: Iterable<string>, modelMaxLength: number): WordTokenizerFiles {
  const bytes = byteToUnicode();
  const vocab = new Map<string, number>();
  for (const b of bytes) vocab.set(b, vocab.size);
  const words = [...new Set(pieces)].sort();
  for (const word of words) {
    if (splitWords(word).length !== 1 || splitWords(word)[0] !== word) {
      throw new ArgumentError(`buildWordTokenizer: ${JSON.stringify(word)} is not a single pre-tokenized piece (it splits as ${JSON.stringify(splitWords(word))})`);
    }
    const encoded = Array.from(utf8.encode(word), (b) => bytes[b]).join('');
    if (!vocab.has(encoded)) vocab.set(encoded, vocab.size);
  }
  const endOfTextId = vocab.size;
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: endOfTextId, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab: Object.fromEntries(vocab), merges: [],
    },
  };
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: END_OF_TEXT,
    eos_token: END_OF_TEXT,
    unk_token: END_OF_TEXT,
    model_max_length: modelMaxLength,
    clean_up_tokenization_spaces: false,
    add_prefix_space: false,
  };
  return { tokenizer, tokenizerConfig, vocabSize: endOfTextId + 1, endOfTextId };
}
