// Figures of causal traces, drawn like the ROME paper's: tokens down the side (subject tokens
// marked *), layers along the bottom, colour = P(answer) with the state restored, starting from the
// corrupted run's value; and the averaged summary (Figure 2) as token groups × layers.

import { divergingScale, sequentialScale } from '../analysis/plots/color-scales.js';
import { heatmapFigure } from '../analysis/plots/heatmap.js';
import { arrangeFigures, type Figure } from '../analysis/plots/svg.js';
import { visibleToken } from '../analysis/plots/text-metrics.js';
import { ArgumentError, ShapeError } from '../util/errors.js';
import type { CausalTraceResult } from './causal-trace.js';
import { TRACE_KINDS, type TraceKind } from './trace-engine.js';
import type { TraceSummary, TraceTokenGroup } from './trace-summary.js';

const KIND_NAMES: Record<TraceKind, string> = { resid: 'state', mlp: 'MLP', attn: 'Attn' };

/** Short row labels for the summary (the full group names do not fit a row label). */
const GROUP_LABELS: Record<TraceTokenGroup, string> = {
  'first subject token': 'first subject', 'middle subject tokens': 'middle subject', 'last subject token': 'last subject',
  'first subsequent token': 'first after subject', 'further tokens': 'further', 'last token': 'last token',
};

/** Row labels of a trace: each token with visible whitespace, subject tokens marked with *. */
export function traceTokenLabels(tokenStrings: readonly string[], subject: readonly [number, number]): string[] {
  return tokenStrings.map((t, i) => `${visibleToken(t)}${i >= subject[0] && i < subject[1] ? '*' : ''}`);
}

export interface TraceFigureOptions {
  /** The prompt's tokens as text, one per position (tokenizer.tokenStrings). */
  tokenStrings: readonly string[];
  /** The answer as text, for the legend (e.g. ' Tarsk'). */
  answer?: string;
  /** Panels to draw (default: every kind the trace has). */
  kinds?: readonly TraceKind[];
  title?: string;
  subtitle?: string;
}

/** One heatmap per kind, side by side: rows = tokens, columns = layers. */
export function traceFigure(trace: CausalTraceResult, options: TraceFigureOptions): Figure {
  const kinds = options.kinds ?? TRACE_KINDS.filter((k) => trace.grids[k] !== undefined);
  if (options.tokenStrings.length !== trace.tokens.length) {
    throw new ShapeError(`${options.tokenStrings.length} token strings for a trace of ${trace.tokens.length} tokens`);
  }
  const rowLabels = traceTokenLabels(options.tokenStrings, trace.subject);
  const legend = `p(${visibleToken(options.answer ?? `#${trace.answer}`)})`;
  const panels = kinds.map((kind) => {
    const grid = trace.grids[kind];
    if (grid === undefined) throw new ArgumentError(`the trace has no '${kind}' grid`);
    const layers = grid.scores.length;
    const values = trace.tokens.map((_, p) => grid.scores.map((row) => row[p])); // [pos][layer]
    const name = KIND_NAMES[kind];
    return heatmapFigure({
      title: `Impact of restoring ${name} after corrupted input`,
      values,
      rowLabels,
      columnLabels: Array.from({ length: layers }, (_, l) => String(l)),
      rowAxisLabel: 'token',
      columnAxisLabel: kind === 'resid' || grid.window === 1 ? 'single restored layer' : `center of interval of ${grid.window} restored ${name} layers`,
      scale: sequentialScale(values, { min: Math.min(trace.lowScore, ...values.flat()), max: Math.max(trace.highScore, ...values.flat()) }),
      legendLabel: legend,
    });
  });
  return arrangeFigures(panels, {
    direction: 'row',
    title: options.title ?? 'Causal tracing',
    subtitle: options.subtitle ?? `clean run ${legend} = ${fmt(trace.highScore)}, corrupted subject ${fmt(trace.lowScore)} (${trace.samples} noise samples, σ = ${fmt(trace.noiseStd)})`,
  });
}

/** The averaged indirect effects (ROME's Figure 2) of several kinds, side by side: rows = token groups, columns = layers. */
export function traceSummaryFigure(summaries: readonly TraceSummary[], options: { title?: string; subtitle?: string } = {}): Figure {
  if (summaries.length === 0) throw new ArgumentError('no summaries to draw');
  const panels = summaries.map((s) => {
    const name = KIND_NAMES[s.kind];
    const layers = s.effects[0]?.length ?? 0;
    return heatmapFigure({
      title: `Average indirect effect of ${name}`,
      subtitle: `${s.prompts} prompts · total effect ${fmt(s.totalEffect)}`,
      values: s.effects,
      rowLabels: s.groups.map((g, i) => `${GROUP_LABELS[g]} (${s.counts[i]})`),
      columnLabels: Array.from({ length: layers }, (_, l) => String(l)),
      rowAxisLabel: 'token group',
      columnAxisLabel: s.kind === 'resid' || s.window === 1 ? 'single restored layer' : `center of ${s.window} restored layers`,
      scale: divergingScale(s.effects, { center: 0 }),
      legendLabel: 'mean indirect effect\n(restored − corrupted)',
    });
  });
  return arrangeFigures(panels, { direction: 'row', title: options.title ?? 'Causal tracing, averaged over prompts', subtitle: options.subtitle });
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(3))) : 'n/a';
}
