// Averaging causal traces over prompts (ROME's Figure 2 and its average_causal_effects notebook):
// prompts differ in length and in where their subject sits, so positions are grouped by their role
// — first / middle / last subject token, first token after the subject, further tokens, last token —
// and each group's indirect effect (restored score − low score) is averaged per layer.

import { ArgumentError } from '../util/errors.js';
import type { CausalTraceResult } from './causal-trace.js';
import type { TraceKind } from './trace-engine.js';

/** The position groups, in ROME's order. */
export const TRACE_TOKEN_GROUPS = [
  'first subject token', 'middle subject tokens', 'last subject token', 'first subsequent token', 'further tokens', 'last token',
] as const;

export type TraceTokenGroup = (typeof TRACE_TOKEN_GROUPS)[number];

export interface TraceSummary {
  readonly kind: TraceKind;
  readonly window: number;
  readonly groups: readonly TraceTokenGroup[];
  /** [group][layer]: mean indirect effect over the group's positions in all prompts; NaN for a group no prompt has. */
  readonly effects: number[][];
  /** Positions averaged into each group. */
  readonly counts: number[];
  /** Prompts averaged (see onlyCorrect). */
  readonly prompts: number;
  /** Mean P(answer) in the clean and in the corrupted runs; their difference is ROME's average total effect. */
  readonly highScore: number;
  readonly lowScore: number;
  readonly totalEffect: number;
}

export interface TraceSummaryOptions {
  /** Average only prompts whose answer is the clean run's top prediction (default true, as ROME). */
  onlyCorrect?: boolean;
}

/**
 * Positions of each group for a prompt of `length` tokens with subject [start, end). Groups may
 * share a position (a one-token subject is both first and last; as in ROME, it counts in both).
 */
export function tokenGroups(length: number, subject: readonly [number, number]): Record<TraceTokenGroup, number[]> {
  const [start, end] = subject;
  const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  return {
    'first subject token': [start],
    'middle subject tokens': range(start + 1, end - 1),
    'last subject token': [end - 1],
    'first subsequent token': end < length ? [end] : [],
    'further tokens': range(end + 1, length - 1),
    'last token': [length - 1],
  };
}

/** The Figure-2 summary of one kind over several traces. */
export function traceSummary(traces: readonly CausalTraceResult[], kind: TraceKind, options: TraceSummaryOptions = {}): TraceSummary {
  const used = (options.onlyCorrect ?? true) ? traces.filter((t) => t.correct) : [...traces];
  const withKind = used.filter((t) => t.grids[kind] !== undefined);
  if (withKind.length < used.length) throw new ArgumentError(`every trace must include the '${kind}' grid`);
  const layers = withKind[0]?.grids[kind]?.scores.length ?? 0;
  const window = withKind[0]?.grids[kind]?.window ?? 1;
  const sums = TRACE_TOKEN_GROUPS.map(() => new Float64Array(layers));
  const counts = TRACE_TOKEN_GROUPS.map(() => 0);
  let high = 0;
  let low = 0;
  for (const trace of withKind) {
    const grid = trace.grids[kind] as NonNullable<CausalTraceResult['grids'][TraceKind]>;
    if (grid.scores.length !== layers || grid.window !== window) {
      throw new ArgumentError(`traces to summarise must come from one model with one window; got ${grid.scores.length} layers / window ${grid.window} and ${layers} / ${window}`);
    }
    const groups = tokenGroups(trace.tokens.length, trace.subject);
    TRACE_TOKEN_GROUPS.forEach((group, g) => {
      for (const position of groups[group]) {
        counts[g]++;
        for (let l = 0; l < layers; l++) sums[g][l] += grid.scores[l][position] - trace.lowScore;
      }
    });
    high += trace.highScore;
    low += trace.lowScore;
  }
  const n = withKind.length;
  return {
    kind, window, groups: TRACE_TOKEN_GROUPS,
    effects: sums.map((row, g) => Array.from(row, (v) => (counts[g] === 0 ? Number.NaN : v / counts[g]))),
    counts, prompts: n,
    highScore: n ? high / n : Number.NaN,
    lowScore: n ? low / n : Number.NaN,
    totalEffect: n ? (high - low) / n : Number.NaN,
  };
}

/** Where the largest mean indirect effect of a summary is: its group, layer and value. */
export function strongestEffect(summary: TraceSummary): { group: TraceTokenGroup; layer: number; effect: number } | null {
  let best: { group: TraceTokenGroup; layer: number; effect: number } | null = null;
  summary.effects.forEach((row, g) => row.forEach((effect, layer) => {
    if (!Number.isNaN(effect) && (best === null || effect > best.effect)) best = { group: summary.groups[g], layer, effect };
  }));
  return best;
}
