// Where @huggingface/tokenizers 0.2.0 differs from the Rust `tokenizers` library that produced
// every tokenizer.json, we correct the built objects (the fields touched are public in its types).
// Each fix is pinned by a reference test (test/io/tokenizer.test.ts): if a new version changes
// these internals, those tests fail rather than ids silently drifting.

import {
  ByteFallbackDecoder, ByteLevelPreTokenizer, SequenceDecoder, SequencePreTokenizer, type LibraryTokenizer,
} from './tokenizer-library.js';

/**
 * GPT-2's split regex as Rust runs it. The library hard-codes it with JS `\s`, which includes
 * U+FEFF and misses U+0085; Oniguruma's `\s` is Unicode White_Space (so " \uFEFF9" splits differently).
 */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

export function fixLibraryDivergences(tokenizer: LibraryTokenizer): void {
  for (const pre of preTokenizers(tokenizer.pre_tokenizer)) {
    if (pre instanceof ByteLevelPreTokenizer) pre.pattern = new RegExp(GPT2_SPLIT);
  }
  for (const decoder of decoders(tokenizer.decoder)) {
    // Byte-fallback bytes EF BB BF are a real U+FEFF in the text; TextDecoder drops a leading BOM unless told not to.
    if (decoder instanceof ByteFallbackDecoder) decoder.text_decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  }
}

function preTokenizers(root: object | null): object[] {
  if (root === null) return [];
  if (root instanceof SequencePreTokenizer) return root.tokenizers.flatMap(preTokenizers);
  return [root];
}

function decoders(root: object | null): object[] {
  if (root === null) return [];
  if (root instanceof SequenceDecoder) return root.decoders.flatMap(decoders);
  return [root];
}
