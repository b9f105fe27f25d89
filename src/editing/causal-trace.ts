// Causal tracing (Meng et al. 2022, "Locating and Editing Factual Associations in GPT"): where in
// the network does a model recall a fact about a subject?
//
//   1. clean run: P(answer) at the last position — the high score;
//   2. corrupted run: Gaussian noise added to the subject tokens' embeddings, several samples —
//      P(answer) averaged over them is the low score;
//   3. for each (layer, position): the corrupted run again, with one hidden state restored to its
//      clean value — the residual stream after the block, or (ROME's windowed variant) the MLP or
//      attention outputs of a window of layers around it. score − low score is the state's
//      indirect effect: how much of the fact it carries.
//
// As in ROME, every restoration sees the same noise samples (drawn once per prompt from `seed`), so
// differences between cells are the restorations', not the noise's.
//
//   const prompt = { tokens, subject: findSubjectRange(tokenizer, tokens, 'Veloria'), answer };
//   const trace = await causalTrace(model, prompt, { kinds: ['mlp'], window: 1 });
//   trace.grids.mlp.scores[layer][pos]; trace.highScore; trace.lowScore;

import { SweepProgress, type SweepControl } from '../analysis/sweep-runtime.js';
import type { HookedTransformer } from '../models/transformer.js';
import { ArgumentError, IndexError } from '../util/errors.js';
import type { SubjectRange } from './subject.js';
import {
  TRACE_KINDS, cleanRun, corruptedScore, restoreBatched, restoreLoop, windowLayers,
  type Restoration, type TraceKind, type TraceRun,
} from './trace-engine.js';
import { embeddingStd, subjectNoise } from './trace-noise.js';

export interface TracePrompt {
  /** The prompt's token ids; the answer is predicted after its last token. */
  readonly tokens: readonly number[];
  /** Token positions [start, end) of the subject: the tokens the noise corrupts. */
  readonly subject: SubjectRange;
  /** The answer token whose probability is traced; default: the clean run's top prediction (as ROME). */
  readonly answer?: number;
}

export interface CausalTraceOptions extends SweepControl {
  /** What is restored (default all three): resid = the residual stream after a block, mlp / attn = their outputs. */
  kinds?: readonly TraceKind[];
  /** Noise samples per prompt (default 10, ROME's). */
  samples?: number;
  /** The noise's standard deviation; default noiseScale × embeddingStd over the prompts' subject tokens. */
  noiseStd?: number;
  /** Multiple of the subject embeddings' standard deviation (default 3, ROME's). Ignored with noiseStd. */
  noiseScale?: number;
  /** MLP and attention outputs are restored for this many layers around each layer (default 10, ROME's; 1: one layer). */
  window?: number;
  /** Seed of the noise (default 1, as ROME's RandomState(1)). */
  seed?: number;
  /** 'batched' (default): many restorations per forward pass; 'loop': one pass per restoration. */
  method?: 'batched' | 'loop';
}

export interface TraceGrid {
  /** Layers restored together around each layer (always 1 for resid). */
  readonly window: number;
  /** [layer][position]: P(answer) with that state restored. Positions before the subject hold the low score. */
  readonly scores: number[][];
}

export interface CausalTraceResult {
  readonly tokens: number[];
  readonly subject: SubjectRange;
  readonly answer: number;
  /** P(answer) in the clean run. */
  readonly highScore: number;
  /** P(answer) with the subject corrupted, averaged over the noise samples. */
  readonly lowScore: number;
  /** Whether the answer is the clean run's top prediction (ROME's averages keep only these). */
  readonly correct: boolean;
  readonly noiseStd: number;
  readonly samples: number;
  readonly grids: Partial<Record<TraceKind, TraceGrid>>;
}

interface Settings {
  kinds: readonly TraceKind[];
  samples: number;
  window: number;
  seed: number;
  method: 'batched' | 'loop';
}

function settings(options: CausalTraceOptions): Settings {
  const kinds = options.kinds ?? TRACE_KINDS;
  if (kinds.length === 0) throw new ArgumentError(`kinds is empty; expected some of ${TRACE_KINDS.join(', ')}`);
  for (const kind of kinds) {
    if (!TRACE_KINDS.includes(kind)) throw new ArgumentError(`unknown trace kind '${String(kind)}'; expected one of ${TRACE_KINDS.join(', ')}`);
  }
  const samples = options.samples ?? 10;
  if (!Number.isInteger(samples) || samples < 1) throw new ArgumentError(`samples must be a positive integer, got ${samples}`);
  const window = options.window ?? 10;
  if (!Number.isInteger(window) || window < 1) throw new ArgumentError(`window must be a positive integer, got ${window}`);
  const method = options.method ?? 'batched';
  if (method !== 'batched' && method !== 'loop') throw new ArgumentError(`method must be 'batched' or 'loop', got '${String(method)}'`);
  return { kinds: [...new Set(kinds)], samples, window, seed: options.seed ?? 1, method };
}

function checkPrompt(model: HookedTransformer, prompt: TracePrompt, index: number): void {
  const { tokens, subject, answer } = prompt;
  const what = `prompt ${index}`;
  const { dVocab, nCtx } = model.config;
  if (tokens.length === 0) throw new ArgumentError(`${what} has no tokens`);
  if (tokens.length > nCtx) throw new ArgumentError(`${what} has ${tokens.length} tokens, more than the model's context of ${nCtx}`);
  for (const id of [...tokens, ...(answer === undefined ? [] : [answer])]) {
    if (!Number.isInteger(id) || id < 0 || id >= dVocab) throw new IndexError(`${what}: token id ${id} is out of range 0..${dVocab - 1}`);
  }
  const [start, end] = subject;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > tokens.length) {
    throw new IndexError(`${what}: subject range [${start}, ${end}) is not a non-empty range of its ${tokens.length} positions`);
  }
}

/** A grid cell and the restoration that fills it (clamped windows of neighbouring layers can coincide: they share one). */
interface Cell {
  kind: TraceKind;
  layer: number;
  position: number;
  restoration: number;
}

/** The restorations of one prompt — every kind, layer and position from the subject's first token on — and the cells they fill. */
function planFor(model: HookedTransformer, pos: number, subjectStart: number, s: Settings, everyPosition: boolean):
  { restorations: Restoration[]; cells: Cell[] } {
  const restorations: Restoration[] = [];
  const cells: Cell[] = [];
  const seen = new Map<string, number>();
  for (const kind of s.kinds) {
    const window = kind === 'resid' ? 1 : s.window;
    for (let layer = 0; layer < model.config.nLayers; layer++) {
      const layers = windowLayers(layer, window, model.config.nLayers);
      for (let position = everyPosition ? 0 : subjectStart; position < pos; position++) {
        const key = `${kind}:${layers.join(',')}:${position}`;
        let index = seen.get(key);
        if (index === undefined) {
          index = restorations.push({ kind, layers, position }) - 1;
          seen.set(key, index);
        }
        cells.push({ kind, layer, position, restoration: index });
      }
    }
  }
  return { restorations, cells };
}

/** Traces one prompt (see causalTraceMany for several, which share the noise scale). */
export async function causalTrace(model: HookedTransformer, prompt: TracePrompt, options: CausalTraceOptions = {}): Promise<CausalTraceResult> {
  const [trace] = await causalTraceMany(model, [prompt], options);
  return trace;
}

/**
 * Traces each prompt; progress counts restorations over all prompts. Unless noiseStd is given,
 * the noise is noiseScale × the standard deviation of the embeddings of all prompts' subject
 * tokens (ROME's collect_embedding_std over its dataset's subjects).
 */
export async function causalTraceMany(model: HookedTransformer, prompts: readonly TracePrompt[],
  options: CausalTraceOptions = {}): Promise<CausalTraceResult[]> {
  const s = settings(options);
  if (prompts.length === 0) throw new ArgumentError('causal tracing needs at least one prompt');
  prompts.forEach((p, i) => checkPrompt(model, p, i));
  const noiseStd = options.noiseStd ?? (options.noiseScale ?? 3)
    * embeddingStd(model, prompts.flatMap((p) => p.tokens.slice(p.subject[0], p.subject[1])));
  if (!(noiseStd >= 0) || !Number.isFinite(noiseStd)) throw new ArgumentError(`the noise standard deviation must be finite and >= 0, got ${noiseStd}`);
  const everyPosition = s.method === 'loop';
  const total = prompts.reduce((sum, p) => sum + planFor(model, p.tokens.length, p.subject[0], s, everyPosition).restorations.length, 0);
  const progress = new SweepProgress(total, options);
  const traces: CausalTraceResult[] = [];
  for (const prompt of prompts) traces.push(await traceOne(model, prompt, s, noiseStd, options, progress));
  return traces;
}

async function traceOne(model: HookedTransformer, prompt: TracePrompt, s: Settings, noiseStd: number,
  control: SweepControl, progress: SweepProgress): Promise<CausalTraceResult> {
  const tokens = [...prompt.tokens];
  const pos = tokens.length;
  const clean = cleanRun(model, tokens, s.kinds, prompt.answer ?? null);
  try {
    const answer = prompt.answer ?? clean.top;
    const run: TraceRun = {
      model, tokens, subject: prompt.subject, answer, samples: s.samples, clean: clean.cache,
      noise: subjectNoise(model, s.samples, prompt.subject, noiseStd, s.seed),
    };
    const lowScore = corruptedScore(run);
    const { restorations, cells } = planFor(model, pos, prompt.subject[0], s, s.method === 'loop');
    const values = s.method === 'loop'
      ? await restoreLoop(run, restorations, progress)
      : await restoreBatched(run, restorations, control, progress);
    const grids: Partial<Record<TraceKind, TraceGrid>> = {};
    for (const kind of s.kinds) {
      // Restoring a state before the subject changes nothing (it was never corrupted): the low score.
      grids[kind] = { window: kind === 'resid' ? 1 : s.window, scores: Array.from({ length: model.config.nLayers }, () => new Array<number>(pos).fill(lowScore)) };
    }
    for (const cell of cells) (grids[cell.kind] as TraceGrid).scores[cell.layer][cell.position] = values[cell.restoration];
    return {
      tokens, subject: prompt.subject, answer, highScore: clean.answerScore ?? clean.topScore, lowScore,
      correct: clean.top === answer, noiseStd, samples: s.samples, grids,
    };
  } finally {
    clean.cache.dispose();
  }
}

/** [layer][position]: score − low score, the indirect effect of each restored state. */
export function indirectEffects(trace: CausalTraceResult, kind: TraceKind): number[][] {
  const grid = trace.grids[kind];
  if (grid === undefined) throw new ArgumentError(`this trace has no '${kind}' grid; it traced ${Object.keys(trace.grids).join(', ')}`);
  return grid.scores.map((row) => row.map((v) => v - trace.lowScore));
}
