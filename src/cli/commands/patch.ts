// dissect patch: activation patching. Run the corrupted prompt, patch in one activation from the
// clean run — every layer × position (residual, attention or MLP output) or layer × head — and
// record how far the metric moves back towards the clean answer.

import {
  PATCH_TARGETS, activationPatching, answerProbability, arrangeFigures, divergingScale, heatmapFigure, klDivergence,
  logitDiff, metricBaselines, normalisedMetric, patchBlockEvery, patchHeadsEvery, sequentialScale, valueFormatter,
  type ColorScale, type HookedTransformer, type Metric, type PatchingResult,
} from '../../index.js';
import {
  OUTPUT_FLAGS, PROMPT_FLAGS, formatNumber, modelLabel, positionLabels, promptIds, quoted, singleToken, tableFormatter, tokenStrings,
} from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { figureFormat, writeFigure } from '../figure-file.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, openModel } from '../model-flags.js';
import { sweepProgress } from '../progress.js';
import { formatTable } from '../table.js';

/** Targets with a 2-D result (layer × pos or layer × head), and the two stacked sweeps. */
const GRID_TARGETS = PATCH_TARGETS.filter((t) => !t.endsWith('_by_pos'));
const TARGETS = [...GRID_TARGETS, 'every', 'heads-every'] as const;
type CliTarget = (typeof TARGETS)[number];
const METRICS = ['logit-diff', 'prob', 'kl'] as const;
type MetricName = (typeof METRICS)[number];

const METRIC_LABELS: Record<MetricName, string> = { 'logit-diff': 'logit difference', prob: 'answer probability', kl: 'KL(clean ‖ patched)' };

function buildMetric(kind: MetricName, model: HookedTransformer, clean: number[], answer: number | undefined, wrong: number | undefined): Metric {
  switch (kind) {
    case 'logit-diff':
      if (answer === undefined || wrong === undefined) throw new UsageError('--metric logit-diff needs --answer and --wrong (or --answer-id and --wrong-id)');
      return logitDiff(answer, wrong);
    case 'prob':
      if (answer === undefined) throw new UsageError('--metric prob needs --answer (or --answer-id)');
      return answerProbability(answer);
    case 'kl': {
      const cleanLogits = model.forward([clean], { logitPositions: 'last' });
      try {
        return klDivergence(cleanLogits);
      } finally {
        cleanLogits.dispose();
      }
    }
    default:
      return kind satisfies never;
  }
}

function sweep(model: HookedTransformer, target: CliTarget, options: Parameters<typeof activationPatching>[2]): Promise<PatchingResult> {
  if (target === 'every') return patchBlockEvery(model, options);
  if (target === 'heads-every') return patchHeadsEvery(model, options);
  return activationPatching(model, target, options);
}

/** The result as [component][layer][column] with each component's name. */
function grids(result: PatchingResult, target: CliTarget): { name: string; values: number[][] }[] {
  const data = result.values.toArray();
  const shape = result.values.shape;
  const [components, layers, cols] = shape.length === 3 ? shape : [1, ...shape];
  const names = result.labels?.component ?? [target];
  return Array.from({ length: components }, (_, c) => ({
    name: names[c],
    values: Array.from({ length: layers }, (_, l) => Array.from(data.subarray((c * layers + l) * cols, (c * layers + l + 1) * cols))),
  }));
}

/** White is the corrupted run's value (no effect); KL, which is 0 for the clean run, runs from 0 up. */
function colorScale(kind: MetricName, normalise: boolean, corrupted: number, values: number[][][]): ColorScale {
  if (kind === 'kl' && !normalise) return sequentialScale(values.flat(), { min: 0 });
  return divergingScale(values.flat(), { center: normalise ? 0 : corrupted });
}

/** Short enough for the colour bar: what the colour means, and where "no effect" sits. */
function legendLabel(kind: MetricName, normalise: boolean): string {
  if (normalise) return '0 = corrupted run,\n1 = clean run';
  if (kind === 'kl') return 'KL(clean ‖ patched)';
  return `${kind === 'prob' ? 'P(answer)' : 'logit difference'}\n(white = corrupted run)`;
}

export const patchCommand = defineCommand({
  name: 'patch',
  summary: 'Activation patching: patch clean activations into a corrupted run, per layer × position or head.',
  positionals: ['model'],
  flags: {
    clean: { type: 'string', placeholder: 'TEXT', description: 'the clean prompt' },
    corrupt: { type: 'string', placeholder: 'TEXT', description: 'the corrupted prompt (the same number of tokens)' },
    'clean-ids': { type: 'string', placeholder: 'IDS', description: 'the clean prompt as token ids (instead of --clean)' },
    'corrupt-ids': { type: 'string', placeholder: 'IDS', description: 'the corrupted prompt as token ids' },
    answer: { type: 'string', placeholder: 'TOKEN', description: 'the clean answer, one token (e.g. " Mary")' },
    wrong: { type: 'string', placeholder: 'TOKEN', description: 'the corrupted answer, for --metric logit-diff' },
    'answer-id': { type: 'integer', placeholder: 'ID', description: 'the answer as a token id' },
    'wrong-id': { type: 'integer', placeholder: 'ID', description: 'the wrong answer as a token id' },
    bos: PROMPT_FLAGS.bos,
    target: { type: 'string', placeholder: 'WHAT', description: `what to patch: ${TARGETS.join(', ')} (default resid_pre)` },
    metric: { type: 'string', placeholder: 'NAME', description: 'logit-diff (default), prob (of --answer) or kl (from the clean run), at the last position' },
    normalise: { type: 'boolean', description: 'report (metric − corrupted) / (clean − corrupted): 0 = corrupted run, 1 = clean run' },
    ...OUTPUT_FLAGS,
    ...MODEL_FLAGS,
  },
  details: 'every = resid_pre, attn_out and mlp_out (layer × position); heads-every = z, q, k, v and pattern (layer × head).\n'
    + `${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    const target = (flags.target ?? 'resid_pre') as CliTarget;
    if (!TARGETS.includes(target)) throw new UsageError(`--target must be one of ${TARGETS.join(', ')}; got '${flags.target}'`);
    const metricName = (flags.metric ?? 'logit-diff') as MetricName;
    if (!METRICS.includes(metricName)) throw new UsageError(`--metric must be one of ${METRICS.join(', ')}; got '${flags.metric}'`);
    if (flags.out !== undefined) figureFormat(flags.out);
    const { model, tokenizer, location } = await openModel(name, flags, terminal, context);
    try {
      const clean = promptIds({ textFlag: 'clean', idsFlag: 'clean-ids', text: flags.clean, ids: flags['clean-ids'], bos: flags.bos }, model, tokenizer, name);
      const corrupted = promptIds({ textFlag: 'corrupt', idsFlag: 'corrupt-ids', text: flags.corrupt, ids: flags['corrupt-ids'], bos: flags.bos }, model, tokenizer, name);
      if (clean.length !== corrupted.length) {
        throw new UsageError(`the clean prompt has ${clean.length} tokens and the corrupted one ${corrupted.length}; patching needs equal lengths`);
      }
      const answer = singleToken('answer', flags.answer, flags['answer-id'], model, tokenizer, name);
      const wrong = singleToken('wrong', flags.wrong, flags['wrong-id'], model, tokenizer, name);
      const raw = buildMetric(metricName, model, clean, answer, wrong);
      const baselines = metricBaselines(model, raw, { cleanTokens: [clean], corruptedTokens: [corrupted] });
      const metric = flags.normalise ? normalisedMetric(raw, baselines) : raw;
      const progress = sweepProgress(terminal, `patching ${target}`);
      let result: PatchingResult;
      try {
        result = await sweep(model, target, { cleanTokens: [clean], corruptedTokens: [corrupted], metric, onProgress: progress.onProgress, signal: context.signal });
      } finally {
        progress.finish();
      }
      const components = grids(result, target);
      const axes = result.axes;
      result.values.dispose();
      const columnAxis = axes[axes.length - 1]; // 'pos' or 'head'
      const tokens = tokenStrings(corrupted, tokenizer);
      const columns = columnAxis === 'pos' ? tokens.map((t, p) => `${p} ${quoted(t)}`) : components[0].values[0].map((_, h) => `H${h}`);
      const metricLabel = `${flags.normalise ? 'normalised ' : ''}${METRIC_LABELS[metricName]}`;

      if (flags.json) {
        terminal.out(`${JSON.stringify({
          target, metric: metricName, normalised: flags.normalise ?? false, axes,
          baselines, clean_ids: clean, corrupted_ids: corrupted, tokens,
          answer: answer ?? null, wrong: wrong ?? null,
          values: components.length === 1 && !result.labels ? components[0].values : components.map((c) => c.values),
          ...(result.labels ? { labels: result.labels } : {}),
        })}\n`);
      } else {
        const lines = [`${metricLabel} at the last position: clean run ${formatNumber(baselines.clean)}, corrupted run ${formatNumber(baselines.corrupted)}`];
        const format = tableFormatter(components.flatMap((c) => c.values.flat()));
        for (const component of components) {
          lines.push('', `patching ${component.name} (rows: layer, columns: ${columnAxis === 'pos' ? 'position' : 'head'})`);
          lines.push(formatTable(['layer', ...columns], component.values.map((row, l) => [String(l), ...row.map(format)])));
        }
        terminal.out(`${lines.join('\n')}\n`);
      }

      if (flags.out !== undefined) {
        const scale = colorScale(metricName, flags.normalise ?? false, baselines.corrupted, components.map((c) => c.values));
        const columnLabels = columnAxis === 'pos' ? positionLabels(tokens) : columns;
        // Under grouped-query attention k and v have fewer (kv) heads; their columns name those.
        const kvLabels = columns.map((_, h) => (h < model.config.nKvHeads ? `KV${h}` : '–'));
        const cellFormat = valueFormatter(components.flatMap((c) => c.values.flat()));
        const panels = components.map((component) => heatmapFigure({
          formatValue: cellFormat,
          title: `patching ${component.name}`,
          values: component.values,
          rowLabels: component.values.map((_, l) => String(l)),
          columnLabels: columnAxis === 'head' && model.config.nKvHeads < model.config.nHeads && (component.name === 'k' || component.name === 'v') ? kvLabels : columnLabels,
          rowAxisLabel: 'layer',
          columnAxisLabel: columnAxis === 'pos' ? 'position (corrupted prompt)' : 'head',
          scale,
          legendLabel: legendLabel(metricName, flags.normalise ?? false),
        }));
        const answers = answer === undefined ? '' : ` · answer ${quoted(tokenStrings([answer], tokenizer)[0])}${wrong === undefined ? '' : ` vs ${quoted(tokenStrings([wrong], tokenizer)[0])}`}`;
        await writeFigure(flags.out, arrangeFigures(panels, {
          direction: columnAxis === 'pos' ? 'column' : 'row',
          columns: 3,
          title: `Activation patching · ${modelLabel(name, location)}`,
          subtitle: `${metricLabel} at the last position${answers} · clean run ${formatNumber(baselines.clean)}, corrupted run ${formatNumber(baselines.corrupted)}`,
        }));
        if (!flags.json) terminal.out(`wrote ${flags.out}\n`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});
