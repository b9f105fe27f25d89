// A typed view of the parts of @huggingface/tokenizers we use. Its .d.ts files re-export through
// extensionless relative paths, which NodeNext resolution cannot follow, so TypeScript would see
// the classes as `any`; we declare what we rely on instead.

import * as library from '@huggingface/tokenizers';

export interface LibraryTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[]; tokens: string[] };
  decode(ids: number[], options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens: boolean): Map<string, number>;
  pre_tokenizer: object | null;
  decoder: object | null;
}

export interface LibraryByteLevelPreTokenizer { pattern: RegExp }
export interface LibrarySequencePreTokenizer { tokenizers: (object | null)[] }
export interface LibraryByteFallbackDecoder { text_decoder: { decode(bytes: Uint8Array): string } }
export interface LibrarySequenceDecoder { decoders: object[] }

type Class<T> = abstract new (...args: never[]) => T;
const exported = library as unknown as Record<string, unknown>;

export const LibraryTokenizerClass = exported.Tokenizer as new (json: object, config: object) => LibraryTokenizer;
export const ByteLevelPreTokenizer = exported.ByteLevelPreTokenizer as Class<LibraryByteLevelPreTokenizer>;
export const SequencePreTokenizer = exported.SequencePreTokenizer as Class<LibrarySequencePreTokenizer>;
export const ByteFallbackDecoder = exported.ByteFallbackDecoder as Class<LibraryByteFallbackDecoder>;
export const SequenceDecoder = exported.SequenceDecoder as Class<LibrarySequenceDecoder>;
