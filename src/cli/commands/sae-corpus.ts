// Token rows for SAE training and evaluation: world-4l's training mixture (the synthetic world's
// documents, re-encoded with the model's own tokenizer so a model whose vocabulary differs from the
// current world's still reads them), or a text file packed into rows. Each document follows the
// model's BOS/EOS id, as the organisms were trained. Deterministic in the chunk index.

import { readFile } from 'node:fs/promises';
import { IOError, Rng, WORLD_4L, world, type HookedTransformer, type Tokenizer, type TokenRowSource } from '../../index.js';
import { UsageError } from '../flags.js';

export interface CorpusChoice {
  /** What the rows are, for logs and the SAE's metadata. */
  name: string;
  /** Chunk index → rows of `context` tokens. */
  rows: TokenRowSource;
}

/** The id documents are separated by: BOS, else EOS of the model's config or tokenizer. */
function separatorId(model: HookedTransformer, tokenizer: Tokenizer): number {
  const id = model.config.bosTokenId ?? model.config.eosTokenId ?? tokenizer.bosTokenId ?? tokenizer.eosTokenId;
  if (id === undefined || id === null) throw new UsageError('the model has no BOS or EOS token to separate documents with');
  return id;
}

/** Packs documents (token lists) into rows of exactly `context` tokens, each document after the separator. */
function pack(documents: Iterable<number[]>, separator: number, count: number, context: number): number[][] {
  const rows: number[][] = [];
  let row: number[] = [];
  for (const doc of documents) {
    for (const id of [separator, ...doc]) {
      row.push(id);
      if (row.length === context) {
        rows.push(row);
        row = [];
        if (rows.length === count) return rows;
      }
    }
  }
  throw new UsageError(`the corpus ran out after ${rows.length} of ${count} rows`);
}

/**
 * world-4l's training mixture. The recipe's rows are decoded with the world's tokenizer, split into
 * documents at its end-of-text marker, and encoded with the model's tokenizer.
 */
export function worldCorpus(model: HookedTransformer, tokenizer: Tokenizer, context: number, rowsPerChunk: number, seed: number): CorpusChoice {
  const spec = WORLD_4L.spec();
  const worldTokenizer = world().tokenizer;
  const eot = worldTokenizer.eosTokenId;
  const separator = separatorId(model, tokenizer);
  const rows = (index: number) => {
    const rng = new Rng(seed * 1_000_003 + index);
    function* documents(): Generator<number[]> {
      for (;;) {
        for (const row of spec.rows(rng, 8, spec.seqLen)) {
          let start = 0;
          for (let i = 0; i <= row.length; i++) {
            if (i === row.length || row[i] === eot) {
              // The first and last pieces of a row may be cut documents; only whole ones are used.
              if (i < row.length && start > 0 && i > start) yield tokenizer.encode(worldTokenizer.decode(row.slice(start, i)), { addSpecialTokens: false });
              start = i + 1;
            }
          }
        }
      }
    }
    return pack(documents(), separator, rowsPerChunk, context);
  };
  return { name: `world-4l training mixture (seed ${seed})`, rows };
}

/**
 * A text file: documents are its paragraphs (blank-line separated), packed into rows. The last
 * tenth of the rows is held out: 'train' cycles through the rest, 'eval' reads the held-out part.
 */
export async function textFileCorpus(path: string, model: HookedTransformer, tokenizer: Tokenizer, context: number, rowsPerChunk: number,
  split: 'train' | 'eval'): Promise<CorpusChoice> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new IOError(`cannot read corpus '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const documents = text.split(/\r?\n\s*\r?\n/).map((p) => p.trim()).filter((p) => p !== '').map((p) => tokenizer.encode(p, { addSpecialTokens: false }));
  const separator = separatorId(model, tokenizer);
  const stream = documents.flatMap((d) => [separator, ...d]);
  const totalRows = Math.floor(stream.length / context);
  const heldOut = Math.floor(totalRows / 10);
  if (heldOut < 1) throw new UsageError(`--text '${path}' holds ${stream.length} tokens: too few for ${context}-token rows with a held-out tenth (need ${10 * context})`);
  const [first, count] = split === 'train' ? [0, totalRows - heldOut] : [totalRows - heldOut, heldOut];
  const rows = (index: number) => Array.from({ length: rowsPerChunk }, (_, r) => {
    const row = first + ((index * rowsPerChunk + r) % count);
    return stream.slice(row * context, (row + 1) * context);
  });
  return { name: `${path} (${stream.length} tokens, ${split === 'train' ? 'first nine tenths' : 'held-out last tenth'})`, rows };
}

/**
 * The corpus a command asked for: --text FILE, else the world mixture (models that have a
 * tokenizer). Evaluation reads held-out rows: the file's last tenth, or the world with another seed.
 */
export async function chooseCorpus(flags: { text?: string }, model: HookedTransformer, tokenizer: Tokenizer | null, context: number,
  rowsPerChunk: number, seed: number, split: 'train' | 'eval'): Promise<CorpusChoice> {
  if (tokenizer === null) throw new UsageError('the model has no tokenizer.json; pass --tokenizer <tokenizer.json>');
  if (flags.text !== undefined) return textFileCorpus(flags.text, model, tokenizer, context, rowsPerChunk, split);
  return worldCorpus(model, tokenizer, context, rowsPerChunk, split === 'train' ? seed : seed + 1_000_000);
}
