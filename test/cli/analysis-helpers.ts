// Shared by the analysis command tests: running a command that must succeed, checking that an SVG
// is well-formed XML (with saxes, a strict non-validating parser) and reading a PNG's size from
// its IHDR chunk, and a byte-level tokenizer for the Llama fixture, whose checkpoint has none.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { dissect } from './run-cli.js';

/** Runs `dissect args`, asserts exit 0 and an empty stderr (no notices, no stray progress), returns stdout. */
export async function runOk(args: readonly string[]): Promise<string> {
  const result = await dissect(args);
  assert.equal(result.code, 0, `dissect ${args.join(' ')} failed:\n${result.stderr}`);
  assert.equal(result.stderr, '', `dissect ${args.join(' ')} wrote to stderr`);
  return result.stdout;
}

export interface ParsedSvg {
  width: number;
  height: number;
  /** Every text node's content, decoded. */
  texts: string[];
  /** Every element name, in document order. */
  elements: string[];
  /** Attributes of each element, in document order. */
  attributes: Record<string, string>[];
}

/** Parses an SVG document strictly (throws on any well-formedness error) and reads its size. */
export function parseSvg(svg: string): ParsedSvg {
  const parser = new SaxesParser();
  const parsed: ParsedSvg = { width: NaN, height: NaN, texts: [], elements: [], attributes: [] };
  let failure: Error | null = null;
  parser.on('error', (err) => {
    failure ??= err;
  });
  parser.on('opentag', (tag) => {
    const attrs = { ...tag.attributes } as Record<string, string>;
    if (parsed.elements.length === 0) {
      assert.equal(tag.name, 'svg', 'the root element is <svg>');
      assert.equal(attrs.xmlns, 'http://www.w3.org/2000/svg');
      parsed.width = Number(attrs.width);
      parsed.height = Number(attrs.height);
    }
    parsed.elements.push(tag.name);
    parsed.attributes.push(attrs);
  });
  parser.on('text', (text) => {
    if (text.trim() !== '') parsed.texts.push(text);
  });
  parser.write(svg).close();
  if (failure) throw failure;
  assert.ok(parsed.width > 0 && parsed.height > 0, `svg size ${parsed.width} × ${parsed.height}`);
  return parsed;
}

export function readSvg(path: string): ParsedSvg {
  return parseSvg(readFileSync(path, 'utf8'));
}

/** Width and height from a PNG's IHDR, after checking the signature and chunk order. */
export function pngSize(path: string): { width: number; height: number } {
  const bytes = readFileSync(path);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(bytes.readUInt32BE(8), 13, 'IHDR length');
  assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR', 'first chunk is IHDR');
  assert.equal(bytes.subarray(bytes.length - 8, bytes.length - 4).toString('latin1'), 'IEND', 'last chunk is IEND');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** The PNG at `png` is the SVG at `svg` rasterised at `scale` (its size, rounded as resvg does). */
export function assertPngOfSvg(png: string, svg: string, scale: number): void {
  const { width, height } = readSvg(svg);
  assert.deepEqual(pngSize(png), { width: Math.round(width * scale), height: Math.round(height * scale) });
}

/**
 * A byte-level BPE tokenizer.json without merges: ids 0..2 are <unk>, <s>, </s>; every byte b is
 * token 3 + b. Fits the Llama fixture's 512-token vocabulary; "Love" is 4 tokens.
 */
export function writeByteTokenizer(dir: string): string {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    vocab[String.fromCharCode(printable ? byte : next++)] = 3 + byte;
  }
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tokenizer = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
  };
  const path = join(dir, 'tokenizer.json');
  writeFileSync(path, JSON.stringify(tokenizer));
  return path;
}
