// Activations for SAE training, harvested from a model over a token corpus: rows of tokens are run
// up to the hook's layer in chunks, the activation at the hook (and, for transcoders, at the output
// hook) is kept for every position except excluded tokens (BOS / end-of-text, whose activations are
// outliers), and batches are drawn from a shuffled mixing buffer as SAELens's: fill the buffer,
// shuffle it, hand out its first half, keep the second half and refill. Optionally each harvested
// chunk is cached on disk (activation-disk-cache.ts) so later runs skip the model.
//
// Normalisation 'expected_average_only_in' (SAELens, Anthropic April 2024): activations are scaled
// by sqrt(d)/E||x|| estimated over the first batches; the trainer folds the factor into the weights.

import type { HookedTransformer } from '../models/transformer.js';
import { Rng, noGrad, tensor, type Tensor } from '../tensor/index.js';
import { ArgumentError, ShapeError, fmtShape } from '../util/errors.js';
import type { ActivationDiskCache } from './activation-disk-cache.js';

/** Token rows of harvest chunk `index` (all rows one length); must be deterministic in `index`. */
export type TokenRowSource = (index: number) => number[][];

/** Where chunks of activations come from: a model over a corpus (modelChunkSource), or synthetic data. */
export interface ChunkSource {
  /** Width of the input activations. */
  readonly dIn: number;
  /** Width of the targets (d_in for SAEs). */
  readonly dOut: number;
  /** Whether chunks carry separate targets (transcoders). */
  readonly hasOutput: boolean;
  /** Chunk `index`; deterministic in index. */
  chunk(index: number): HarvestedChunk | Promise<HarvestedChunk>;
}

export interface ModelChunkSourceOptions {
  model: HookedTransformer;
  /** The hook the SAE reads. */
  hookName: string;
  /** Transcoders: the hook whose activation is the training target. */
  outputHookName?: string;
  rows: TokenRowSource;
  /** Positions holding these token ids are left out (default: the model's BOS and EOS ids). */
  excludeTokenIds?: readonly number[];
  /** Cache chunks on disk (read when present, written when harvested). */
  diskCache?: ActivationDiskCache;
}

export interface ActivationStoreOptions {
  source: ChunkSource;
  /** Tokens in a training batch (default 4096). */
  batchTokens?: number;
  /** Tokens the mixing buffer holds when full (default 32 × batchTokens). */
  bufferTokens?: number;
  /** Shuffling seed. */
  seed?: number;
  /** First harvest chunk to use (a resumed run continues where its data stopped). */
  startChunk?: number;
  /** Tensors are created on this backend (default: the default backend). */
  backend?: HookedTransformer['backend'];
  signal?: AbortSignal;
}

/** One harvested chunk: activations of the kept positions, row-major [tokens, d]. */
export interface HarvestedChunk {
  tokens: number;
  input: Float32Array;
  /** Transcoders: the output hook's activations [tokens, d_out]; null for SAEs. */
  output: Float32Array | null;
}

export interface ActivationBatch {
  /** [tokens, d_in], scaled by inputScale. */
  input: Tensor;
  /** [tokens, d_out], scaled by outputScale; the same tensor as input for SAEs. */
  target: Tensor;
}

/** The model's activation at `names` for token rows, positions holding excluded ids dropped. */
export function harvestActivations(model: HookedTransformer, rows: number[][], hookName: string, outputHookName: string | undefined,
  exclude: ReadonlySet<number>): HarvestedChunk {
  const names = outputHookName ? [hookName, outputHookName] : [hookName];
  const captured = new Map<string, Float32Array>();
  const widths = new Map<string, number>();
  const points = new Map(model.hookPoints.map((p) => [p.name, p]));
  let stopAt: number | undefined = 0;
  for (const name of names) {
    const point = points.get(name);
    if (point === undefined) throw new ArgumentError(`activation store: the model has no hook '${name}'`);
    if (point.layer === null) {
      if (!name.startsWith('hook_embed') && !name.startsWith('hook_pos_embed')) stopAt = undefined;
    } else if (stopAt !== undefined) {
      stopAt = Math.max(stopAt, point.layer + 1);
    }
  }
  noGrad(() => {
    const out = model.forward(rows, {
      stopAtLayer: stopAt,
      hooks: [{
        name: names,
        fn: (act, point) => {
          if (act.shape[0] !== rows.length || act.shape[1] !== rows[0].length) {
            throw new ShapeError(`activation store: hook '${point.name}' has shape ${fmtShape(act.shape)}; expected [batch, pos, ...] per token`);
          }
          widths.set(point.name, act.size / (act.shape[0] * act.shape[1]));
          captured.set(point.name, Float32Array.from(act.toArray()));
        },
      }],
    });
    out.dispose();
  });
  const keepPositions: number[] = [];
  rows.forEach((row, b) => row.forEach((id, p) => { if (!exclude.has(id)) keepPositions.push(b * row.length + p); }));
  const select = (name: string): Float32Array => {
    const all = captured.get(name)!;
    const d = widths.get(name)!;
    const kept = new Float32Array(keepPositions.length * d);
    keepPositions.forEach((flat, i) => kept.set(all.subarray(flat * d, (flat + 1) * d), i * d));
    return kept;
  };
  return { tokens: keepPositions.length, input: select(hookName), output: outputHookName ? select(outputHookName) : null };
}

/** Chunks harvested from a model over token rows (checked hooks; disk cache when given). */
export function modelChunkSource(options: ModelChunkSourceOptions): ChunkSource {
  const { model, hookName, outputHookName, diskCache } = options;
  const c = model.config;
  const exclude = new Set(options.excludeTokenIds ?? [c.bosTokenId, c.eosTokenId].filter((t): t is number => t !== null));
  const dIn = hookWidth(model, hookName);
  const dOut = outputHookName ? hookWidth(model, outputHookName) : dIn;
  return {
    dIn, dOut, hasOutput: outputHookName !== undefined,
    async chunk(index) {
      const cached = diskCache ? await diskCache.read(index) : null;
      if (cached) return cached;
      const chunk = harvestActivations(model, options.rows(index), hookName, outputHookName, exclude);
      if (diskCache) await diskCache.write(index, chunk);
      return chunk;
    },
  };
}

export class ActivationStore {
  readonly dIn: number;
  readonly dOut: number;
  readonly batchTokens: number;
  readonly bufferTokens: number;
  /** Multiplies inputs (1 until setNormScaling). */
  inputScale = 1;
  /** Multiplies targets (transcoders; SAEs use inputScale). */
  outputScale = 1;
  /** The next harvest chunk index (what a checkpoint records to resume on fresh data). */
  nextChunk: number;
  private readonly rng: Rng;
  private pool: HarvestedChunk[] = [];
  private poolTokens = 0;
  private ready: { input: Float32Array; output: Float32Array | null; tokens: number; offset: number } | null = null;

  constructor(private readonly options: ActivationStoreOptions) {
    this.dIn = options.source.dIn;
    this.dOut = options.source.dOut;
    this.batchTokens = options.batchTokens ?? 4096;
    this.bufferTokens = options.bufferTokens ?? 32 * this.batchTokens;
    if (!Number.isInteger(this.batchTokens) || this.batchTokens < 1) throw new ArgumentError(`activation store: batchTokens ${this.batchTokens} must be a positive integer`);
    if (this.bufferTokens < 2 * this.batchTokens) throw new ArgumentError(`activation store: bufferTokens ${this.bufferTokens} must be at least 2 × batchTokens (${2 * this.batchTokens})`);
    this.rng = new Rng(options.seed ?? 0);
    this.nextChunk = options.startChunk ?? 0;
  }

  get isTranscoder(): boolean {
    return this.options.source.hasOutput;
  }

  /** One harvested chunk (from the disk cache when it has it). Advances nextChunk. */
  async harvestNext(): Promise<HarvestedChunk> {
    this.options.signal?.throwIfAborted();
    const chunk = await this.options.source.chunk(this.nextChunk++);
    if (chunk.input.length !== chunk.tokens * this.dIn || (this.isTranscoder && chunk.output?.length !== chunk.tokens * this.dOut)) {
      throw new ShapeError(`activation store: a chunk of ${chunk.tokens} tokens holds ${chunk.input.length} input values; expected ${chunk.tokens} × ${this.dIn}`);
    }
    // Yield so an abort (Ctrl-C) and progress output get a turn between chunks.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    return chunk;
  }

  /**
   * SAELens's estimate for 'expected_average_only_in': sqrt(d)/mean ||x|| over `tokens` harvested
   * tokens (for the input, and the output hook of a transcoder). Sets inputScale/outputScale.
   */
  async estimateNormScaling(tokens: number): Promise<{ inputScale: number; outputScale: number }> {
    let count = 0;
    let inSum = 0;
    let outSum = 0;
    while (count < tokens) {
      const chunk = await this.harvestNext();
      inSum += sumOfRowNorms(chunk.input, this.dIn);
      if (chunk.output) outSum += sumOfRowNorms(chunk.output, this.dOut);
      count += chunk.tokens;
      this.addToPool(chunk);
    }
    if (count === 0) throw new ArgumentError('activation store: no tokens left after excluding special tokens; check the corpus');
    this.inputScale = Math.sqrt(this.dIn) / (inSum / count);
    this.outputScale = this.isTranscoder ? Math.sqrt(this.dOut) / (outSum / count) : this.inputScale;
    return { inputScale: this.inputScale, outputScale: this.outputScale };
  }

  /** The next training batch (scaled); the caller owns the tensors. */
  async nextBatch(): Promise<ActivationBatch> {
    const n = this.batchTokens;
    if (this.ready === null || this.ready.tokens - this.ready.offset < n) await this.refill();
    const ready = this.ready!;
    const start = ready.offset;
    ready.offset += n;
    const options = { backend: this.options.backend };
    const input = tensor(scaled(ready.input.subarray(start * this.dIn, (start + n) * this.dIn), this.inputScale), [n, this.dIn], options);
    if (!ready.output) return { input, target: input };
    const target = tensor(scaled(ready.output.subarray(start * this.dOut, (start + n) * this.dOut), this.outputScale), [n, this.dOut], options);
    return { input, target };
  }

  private addToPool(chunk: HarvestedChunk): void {
    if (chunk.tokens === 0) return;
    this.pool.push(chunk);
    this.poolTokens += chunk.tokens;
  }

  /** Fills the pool to bufferTokens, shuffles it, and makes its first half the ready batches. */
  private async refill(): Promise<void> {
    // Tokens left in the ready half go back to the pool, so none are skipped.
    if (this.ready !== null && this.ready.offset < this.ready.tokens) {
      const { input, output, offset, tokens } = this.ready;
      this.addToPool({
        tokens: tokens - offset,
        input: input.subarray(offset * this.dIn), output: output ? output.subarray(offset * this.dOut) : null,
      });
    }
    let empty = 0;
    while (this.poolTokens < this.bufferTokens) {
      const chunk = await this.harvestNext();
      if (chunk.tokens === 0 && ++empty > 100) throw new ArgumentError('activation store: 100 chunks in a row had no tokens after excluding special tokens');
      this.addToPool(chunk);
    }
    const total = this.poolTokens;
    const order = new Int32Array(total);
    for (let i = 0; i < total; i++) order[i] = i;
    for (let i = total - 1; i > 0; i--) {
      const j = this.rng.int(0, i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    const input = gatherRows(this.pool, order, this.dIn, (c) => c.input);
    const output = this.isTranscoder ? gatherRows(this.pool, order, this.dOut, (c) => c.output!) : null;
    const half = Math.max(this.batchTokens, Math.floor(total / 2));
    this.ready = { input: input.subarray(0, half * this.dIn), output: output ? output.subarray(0, half * this.dOut) : null, tokens: half, offset: 0 };
    this.pool = [{ tokens: total - half, input: input.subarray(half * this.dIn), output: output ? output.subarray(half * this.dOut) : null }];
    this.poolTokens = total - half;
  }
}

/** Width of one token's activation at a hook (the product of its axes after batch and pos). */
export function hookWidth(model: HookedTransformer, hookName: string): number {
  const c = model.config;
  const point = model.hookPoints.find((p) => p.name === hookName);
  if (point === undefined) throw new ArgumentError(`the model has no hook '${hookName}' (hooks look like blocks.0.hook_resid_pre)`);
  const sizes: Record<string, number> = {
    d_model: c.dModel, d_mlp: c.dMlp, d_head: c.dHead, head: c.nHeads, kv_head: c.nKvHeads, '1': 1,
  };
  let width = 1;
  for (const axis of point.axes.slice(2)) {
    const size = sizes[axis];
    if (size === undefined) throw new ArgumentError(`hook '${hookName}' has axes ${point.axes.join(', ')}; SAEs read per-token activations [batch, pos, ...]`);
    width *= size;
  }
  return width;
}

function sumOfRowNorms(data: Float32Array, d: number): number {
  let total = 0;
  for (let r = 0; r < data.length / d; r++) {
    let sq = 0;
    for (let i = r * d; i < (r + 1) * d; i++) sq += data[i] * data[i];
    total += Math.sqrt(sq);
  }
  return total;
}

function scaled(data: Float32Array, scale: number): Float32Array {
  if (scale === 1) return Float32Array.from(data);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] * scale;
  return out;
}

/** Rows of the concatenated chunks, in `order`. */
function gatherRows(chunks: readonly HarvestedChunk[], order: Int32Array, d: number, pick: (c: HarvestedChunk) => Float32Array): Float32Array {
  const starts: number[] = [];
  let total = 0;
  for (const c of chunks) {
    starts.push(total);
    total += c.tokens;
  }
  const out = new Float32Array(order.length * d);
  let chunk = 0;
  for (let i = 0; i < order.length; i++) {
    const row = order[i];
    // Binary search for the chunk holding `row`.
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    chunk = lo;
    const local = row - starts[chunk];
    out.set(pick(chunks[chunk]).subarray(local * d, (local + 1) * d), i * d);
  }
  return out;
}
