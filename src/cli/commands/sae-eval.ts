// dissect sae eval: evaluate a SAELens-format SAE (folder or hub repo) on held-out rows of a corpus:
// L0, explained variance, MSE, cosine similarity, CE loss recovered (reconstruction spliced in vs
// clean vs zero-ablated), KL, dead and dense features, and the feature-density histogram.

import { evaluateSAE, loadSAE, type HookedTransformer, type SAEEvalResult, type Tokenizer } from '../../index.js';
import { formatNumber } from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, openModel } from '../model-flags.js';
import { sweepProgress } from '../progress.js';
import { formatTable } from '../table.js';
import type { Terminal } from '../terminal.js';
import { chooseCorpus } from './sae-corpus.js';

/** Flags shared by `sae eval` and the evaluation after `sae train`. */
export const EVAL_FLAGS = {
  'eval-rows': { type: 'integer', placeholder: 'N', description: 'held-out rows to evaluate on (default 64)' },
  json: { type: 'boolean', description: 'print the metrics as JSON' },
} as const;

/** Held-out rows: the world mixture with another seed, or the text file's held-out last tenth. */
export async function evalRows(flags: { text?: string; 'eval-rows'?: number }, model: HookedTransformer, tokenizer: Tokenizer | null,
  context: number, seed: number): Promise<number[][]> {
  const count = flags['eval-rows'] ?? 64;
  if (count < 1) throw new UsageError(`--eval-rows must be at least 1, got ${count}`);
  const corpus = await chooseCorpus(flags, model, tokenizer, context, count, seed, 'eval');
  return corpus.rows(0);
}

/** Metrics as a table (or JSON), with the density histogram as text bars. */
export function printEval(terminal: Terminal, e: SAEEvalResult, json: boolean, extra: Record<string, unknown> = {}): void {
  const { featureDensity: _density, densityHistogram: histogram, ...metrics } = e;
  if (json) {
    terminal.out(`${JSON.stringify({ ...extra, ...metrics, density_histogram: histogram })}\n`);
    return;
  }
  const rows: [string, number | undefined][] = [
    ['tokens evaluated', e.tokens], ['L0 (active features / token)', e.l0], ['L1', e.l1], ['MSE (per element)', e.mse],
    ['explained variance', e.explainedVariance], ['cosine similarity', e.cosineSimilarity], ['||x̂|| / ||x||', e.l2Ratio],
    ['CE clean', e.ceClean], ['CE with SAE', e.ceWithSAE], ['CE zero-ablated', e.ceZeroAblation], ['CE loss recovered', e.ceLossRecovered],
    ['KL with SAE', e.klWithSAE], ['KL zero-ablated', e.klZeroAblation], ['KL score', e.klScore],
    ['dead features (never fired)', e.deadFraction], [`dense features`, e.denseFraction],
  ];
  const lines = [
    ...Object.entries(extra).map(([k, v]) => `${k}: ${typeof v === 'number' ? formatNumber(v) : String(v)}`),
    formatTable(['metric', 'value'], rows.filter(([, v]) => v !== undefined).map(([k, v]) => [k, formatNumber(v as number)]), { align: ['left', 'right'] }),
    '',
    'feature density (log10 of the fraction of tokens a feature fires on)',
  ];
  const widest = Math.max(1, ...histogram.counts, histogram.neverFired);
  const bar = (n: number) => '#'.repeat(Math.round((30 * n) / widest));
  lines.push(`  never   ${String(histogram.neverFired).padStart(6)} ${bar(histogram.neverFired)}`);
  histogram.counts.forEach((n, i) => {
    if (n > 0 || (i > 0 && histogram.counts[i - 1] > 0)) lines.push(`  ${histogram.edges[i].toFixed(1).padStart(5)}   ${String(n).padStart(6)} ${bar(n)}`);
  });
  terminal.out(`${lines.join('\n')}\n`);
}

export const saeEvalCommand = defineCommand({
  name: 'sae eval',
  summary: 'Evaluate an SAE: L0, explained variance, CE loss recovered, KL, dead/dense features, feature density.',
  positionals: ['model'],
  flags: {
    sae: { type: 'string', placeholder: 'PATH', description: 'SAELens-format folder (cfg.json + sae_weights.safetensors) or hub repo id (required)' },
    'sae-folder': { type: 'string', placeholder: 'DIR', description: 'hub repos: the folder inside the repo holding cfg.json' },
    context: { type: 'integer', placeholder: 'L', description: 'tokens per row (default: the SAE\'s context_size, else 128)' },
    text: { type: 'string', placeholder: 'FILE', description: "evaluate on this text file (paragraphs) instead of world-4l's mixture" },
    seed: { type: 'integer', placeholder: 'S', description: 'seed of the held-out rows (default 0: the rows `sae train` evaluates on)' },
    'no-downstream': { type: 'boolean', description: 'skip CE loss recovered and KL (one forward pass per batch instead of three)' },
    ...EVAL_FLAGS,
    ...MODEL_FLAGS,
  },
  details: `CE loss recovered = (CE_zero − CE_sae) / (CE_zero − CE_clean), with the SAE's reconstruction replacing its hook.\n${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    if (flags.sae === undefined) throw new UsageError('sae eval needs --sae <SAELens folder or hub repo>');
    const { model, tokenizer } = await openModel(name, flags, terminal, context);
    try {
      const { sae } = await loadSAE(flags.sae, { folder: flags['sae-folder'], backend: model.backend, signal: context.signal });
      try {
        const ctx = Math.min(flags.context ?? sae.cfg.context_size ?? 128, model.config.nCtx);
        const rows = await evalRows(flags, model, tokenizer, ctx, flags.seed ?? 0);
        const progress = sweepProgress(terminal, 'evaluating');
        let result: SAEEvalResult;
        try {
          result = await evaluateSAE(model, sae, { rows, downstream: !flags['no-downstream'], onProgress: progress.onProgress, signal: context.signal });
        } finally {
          progress.finish();
        }
        printEval(terminal, result, flags.json === true, { sae: flags.sae, hook: sae.cfg.hook_name, architecture: sae.cfg.architecture, d_sae: sae.dSae });
      } finally {
        sae.dispose();
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});
