// Autoregressive generation: greedy or sampled, batched with left padding, KV-cached (each step
// feeds only the new tokens and computes logits at the last position only), with hooks applied at
// every step (steering vectors), streaming, and cancellation through an AbortSignal.
//
//   const { tokens } = await generate(model, tokenizer.encode('The cat'), { maxNewTokens: 20 });
//   for await (const t of generateStream(model, prompt, { temperature: 0.8, seed: 1 })) ...

import type { Hook } from '../hooks/hook-set.js';
import { Rng, globalRng } from '../tensor/index.js';
import { ArgumentError, IndexError } from '../util/errors.js';
import { KVCache } from './kv-cache.js';
import { chooseToken, logProbability, samplingPlan, type SamplingOptions } from './sampling.js';
import type { HookedTransformer } from './transformer.js';

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate per prompt at most. Default 20 (Hugging Face's default length). */
  maxNewTokens?: number;
  /**
   * A row stops after producing one of these ids (the id is kept in its output). Default: the
   * model's eosTokenId when its config has one. Pass [] to always run maxNewTokens steps.
   */
  stopTokenIds?: readonly number[];
  /** Seeds a fresh generator, so equal seeds give equal samples. */
  seed?: number;
  /** The generator to draw from (advanced by the call). Default: the global one (manualSeed). */
  rng?: Rng;
  /** Hooks applied at every step's forward pass (e.g. adding a steering vector to a residual stream). */
  hooks?: readonly Hook[];
  /**
   * Id fed in padding positions (left padding of shorter prompts, and rows that already stopped).
   * Masked out of attention, so its value only has to be a valid id. Default: the config's pad,
   * else eos, else 0.
   */
  padTokenId?: number;
  /**
   * Keep keys and values of past positions and feed only the new tokens (default). False re-runs
   * the whole sequence every step: slower, but hooks then see every position at every step.
   */
  useKvCache?: boolean;
  /** Called for each generated token, in order (row 0, 1, ... within a step). */
  onToken?: (token: GeneratedToken) => void;
  /** Aborting rejects the call with signal.reason, checked before each step. */
  signal?: AbortSignal;
}

export interface GeneratedToken {
  /** Which prompt this token continues. */
  readonly row: number;
  /** 0 for the first generated token of the row, 1 for the next... */
  readonly step: number;
  readonly token: number;
  /** Log-probability the model gave this token (log softmax of the raw logits, temperature 1). */
  readonly logprob: number;
}

/** 'stop': a stop id was produced; 'length': maxNewTokens reached; 'context': the model's context is full. */
export type FinishReason = 'stop' | 'length' | 'context';

export interface GenerateResult {
  /** Per prompt: the generated ids, a final stop id included. */
  readonly tokens: number[][];
  /** Per prompt: its prompt ids followed by its generated ids (no padding). */
  readonly sequences: number[][];
  readonly finishReasons: FinishReason[];
}

/** One prompt (ids) or several, of any lengths. */
export type PromptInput = readonly number[] | readonly (readonly number[])[];

/** Runs generation to the end; see GenerateOptions. The model is only read. */
export async function generate(model: HookedTransformer, prompts: PromptInput, options: GenerateOptions = {}): Promise<GenerateResult> {
  const stream = generateStream(model, prompts, options);
  let finished = false;
  try {
    for (;;) {
      const next = await stream.next();
      if (next.done) {
        finished = true;
        return next.value;
      }
      options.onToken?.(next.value);
    }
  } finally {
    // An onToken that throws leaves the stream suspended: close it so its KV cache is freed.
    if (!finished) await stream.return(undefined as never);
  }
}

/**
 * Generation as an async iterator of tokens (the iterator's return value is the GenerateResult).
 * Breaking out of a `for await` loop stops generation and frees the KV cache. `onToken` is not
 * called here: the caller sees every token directly.
 */
export async function* generateStream(model: HookedTransformer, prompts: PromptInput, options: GenerateOptions = {}):
  AsyncGenerator<GeneratedToken, GenerateResult, undefined> {
  const rows = promptRows(prompts);
  const config = model.config;
  const plan = samplingPlan(options);
  const maxNewTokens = options.maxNewTokens ?? 20;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new ArgumentError(`maxNewTokens must be an integer >= 0, got ${maxNewTokens}`);
  }
  const stopIds = new Set(options.stopTokenIds ?? (config.eosTokenId === null ? [] : [config.eosTokenId]));
  const padId = options.padTokenId ?? config.padTokenId ?? config.eosTokenId ?? 0;
  if (!Number.isInteger(padId) || padId < 0 || padId >= config.dVocab) {
    throw new IndexError(`padTokenId ${padId} is not a token id of this model (0..${config.dVocab - 1})`);
  }
  const rng = options.rng ?? (options.seed !== undefined ? new Rng(options.seed) : globalRng());
  const useKvCache = options.useKvCache ?? true;

  const width = Math.max(...rows.map((r) => r.length));
  if (width > config.nCtx) {
    throw new IndexError(`a prompt of ${width} tokens is longer than the model's context of ${config.nCtx}`);
  }
  // Left padding lines up every row's last token at the same position, so one step appends one column.
  const sequences = rows.map((r) => [...new Array<number>(width - r.length).fill(padId), ...r]);
  const mask = rows.map((r) => [...new Array<number>(width - r.length).fill(0), ...new Array<number>(r.length).fill(1)]);
  const generated: number[][] = rows.map(() => []);
  const finishReasons: (FinishReason | null)[] = rows.map(() => null);
  // n new tokens need width + n - 1 positions: the last token produced is never fed back.
  const steps = Math.min(maxNewTokens, config.nCtx - width + 1);
  const cache = useKvCache ? new KVCache(config.nLayers) : null;
  try {
    for (let step = 0; step < steps && finishReasons.includes(null); step++) {
      await yieldToEventLoop();
      options.signal?.throwIfAborted();
      const whole = cache === null || step === 0;
      const fed = whole ? sequences : sequences.map((s) => [s[s.length - 1]]);
      // After the first step the cache remembers which positions were padding.
      const needsMask = whole && mask.some((m) => m.includes(0));
      const logits = model.forward(fed, {
        hooks: options.hooks,
        attentionMask: needsMask ? mask : undefined,
        logitPositions: 'last',
        kvCache: cache ?? undefined,
      });
      let data: Float32Array;
      try {
        data = logits.toArray() as Float32Array; // [batch, 1, d_vocab]
      } finally {
        logits.dispose();
      }
      const vocab = config.dVocab;
      for (let row = 0; row < rows.length; row++) {
        if (finishReasons[row] !== null) {
          sequences[row].push(padId);
          mask[row].push(0);
          continue;
        }
        const rowLogits = data.subarray(row * vocab, (row + 1) * vocab);
        const token = chooseToken(rowLogits, plan, rng);
        sequences[row].push(token);
        mask[row].push(1);
        generated[row].push(token);
        if (stopIds.has(token)) finishReasons[row] = 'stop';
        else if (generated[row].length === maxNewTokens) finishReasons[row] = 'length';
        yield { row, step, token, logprob: logProbability(rowLogits, token) };
      }
    }
  } finally {
    cache?.dispose();
  }
  return {
    tokens: generated,
    sequences: rows.map((r, i) => [...r, ...generated[i]]),
    finishReasons: finishReasons.map((reason) => reason ?? (maxNewTokens === 0 ? 'length' : 'context')),
  };
}

function promptRows(prompts: PromptInput): number[][] {
  if (!Array.isArray(prompts) || prompts.length === 0) {
    throw new ArgumentError('prompts must be a non-empty array of token ids, or an array of such arrays');
  }
  const rows = Array.isArray(prompts[0]) ? (prompts as readonly (readonly number[])[]) : [prompts as readonly number[]];
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length === 0) {
      throw new ArgumentError(`prompt ${i} must be a non-empty array of token ids, got ${Array.isArray(row) ? 'an empty array' : typeof row}`);
    }
  });
  return rows.map((row) => [...row]);
}

/**
 * A macrotask boundary between steps, so timers, I/O and abort events can run while a long
 * generation proceeds (a resolved promise would not let them).
 */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}
