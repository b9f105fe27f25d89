// dissect lens: the logit lens (or a tuned lens) over one prompt — for every layer's residual
// stream and every position, the token it would predict — as a layer × position table and heatmap
// (cell: the top token; colour: the probability of --target, or of the top token).

import {
  dispose, heatmapFigure, loadTunedLens, logitLensHeatmap, runLogitLens, sequentialScale, tensor, tidy, visibleToken,
  type HookedTransformer, type LensNorm, type Tensor, type TunedLens,
} from '../../index.js';
import {
  OUTPUT_FLAGS, PROMPT_FLAGS, formatNumber, modelLabel, positionLabels, promptIds, quoted, singleToken, tokenStrings,
} from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { figureFormat, writeFigure } from '../figure-file.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, openModel } from '../model-flags.js';
import { clip, formatTable } from '../table.js';

/** One prompt's lens as plain arrays: [row][pos][k] top tokens and probabilities, [row][pos] target values. */
export interface LensGrid {
  rows: string[];
  topTokens: number[][][];
  topProbs: number[][][];
  targetProbs: number[][] | null;
  targetRanks: number[][] | null;
}

function nest(data: ArrayLike<number>, shape: readonly number[]): number[][][] {
  const [rows, pos, k] = shape;
  return Array.from({ length: rows }, (_, r) => Array.from({ length: pos }, (_, p) => Array.from({ length: k }, (_, j) => data[(r * pos + p) * k + j])));
}

function logitLensGrid(model: HookedTransformer, ids: number[], target: number | undefined, k: number, norm: LensNorm): LensGrid {
  const result = runLogitLens(model, [ids], { topK: k, norm, targets: target });
  try {
    const [rows, , pos] = result.topTokens.shape;
    const flat = (t: Tensor | null) => (t === null ? null : nest(t.toArray(), [rows, pos, 1]).map((row) => row.map((cell) => cell[0])));
    return {
      rows: logitLensHeatmap(result).rows,
      topTokens: nest(result.topTokens.toArray(), [rows, pos, k]),
      topProbs: nest(result.topProbs.toArray(), [rows, pos, k]),
      targetProbs: flat(result.targetProbs),
      targetRanks: flat(result.targetRanks),
    };
  } finally {
    dispose(result);
  }
}

/** The tuned lens on every layer's resid_pre, and the model's own output as the last row (as runLogitLens's 'final_post'). */
function tunedLensGrid(model: HookedTransformer, lens: TunedLens, ids: number[], target: number | undefined, k: number): LensGrid {
  const n = model.config.nLayers;
  const names = Array.from({ length: n }, (_, l) => `blocks.${l}.hook_resid_pre`);
  const { logits, cache } = model.runWithCache([ids], { names });
  const grid: LensGrid = { rows: [], topTokens: [], topProbs: [], targetProbs: target === undefined ? null : [], targetRanks: target === undefined ? null : [] };
  try {
    for (let l = 0; l <= n; l++) {
      tidy(() => {
        const rowLogits = l === n ? logits : lens.logits(model, cache.get(names[l]), l); // [1, pos, d_vocab]
        const logProbs = rowLogits.logSoftmax(-1);
        const top = logProbs.topk(k, -1);
        const pos = ids.length;
        grid.rows.push(l === n ? 'final_post' : `${l}_pre`);
        grid.topTokens.push(nest(top.indices.toArray(), [1, pos, k])[0]);
        grid.topProbs.push(nest(top.values.exp().toArray(), [1, pos, k])[0]);
        if (target !== undefined) {
          const targetLogProb = logProbs.gather(-1, tensor(new Int32Array(pos).fill(target), [1, pos, 1], { dtype: 'int32', backend: model.backend }));
          grid.targetProbs?.push(Array.from(targetLogProb.exp().toArray()));
          grid.targetRanks?.push(Array.from(logProbs.gt(targetLogProb).sum(-1).toArray()));
        }
      });
    }
    return grid;
  } finally {
    logits.dispose();
    cache.dispose();
  }
}

export const lensCommand = defineCommand({
  name: 'lens',
  summary: 'Logit lens (or tuned lens): the token each layer predicts at each position.',
  positionals: ['model'],
  flags: {
    ...PROMPT_FLAGS,
    target: { type: 'string', placeholder: 'TOKEN', description: 'colour cells by the probability of this token (one token, e.g. " Paris")' },
    'target-id': { type: 'integer', placeholder: 'ID', description: 'the target as a token id' },
    'top-k': { type: 'integer', placeholder: 'K', description: 'top tokens per cell in --json and the table (default 5)' },
    norm: { type: 'string', placeholder: 'MODE', description: "fresh (default: ln_final with each layer's own statistics) or cached (the final layer's scale)" },
    tuned: { type: 'string', placeholder: 'FILE', description: 'a tuned lens (.safetensors saved by saveTunedLens) instead of the logit lens' },
    ...OUTPUT_FLAGS,
    ...MODEL_FLAGS,
  },
  details: `Rows are the residual stream entering each block ('L_pre') and the model's output ('final_post').\n${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    const k = flags['top-k'] ?? 5;
    if (!Number.isInteger(k) || k < 1) throw new UsageError(`--top-k must be a positive integer, got ${k}`);
    const norm = (flags.norm ?? 'fresh') as LensNorm;
    if (norm !== 'fresh' && norm !== 'cached') throw new UsageError(`--norm must be fresh or cached, got '${flags.norm}'`);
    if (flags.tuned !== undefined && flags.norm !== undefined) throw new UsageError('--norm applies to the logit lens only; a tuned lens uses ln_final as trained');
    if (flags.out !== undefined) figureFormat(flags.out);
    const { model, tokenizer, location } = await openModel(name, flags, terminal, context);
    try {
      if (k > model.config.dVocab) throw new UsageError(`--top-k ${k} exceeds the vocabulary of ${model.config.dVocab}`);
      const ids = promptIds({ textFlag: 'text', idsFlag: 'ids', text: flags.text, ids: flags.ids, bos: flags.bos }, model, tokenizer, name);
      const target = singleToken('target', flags.target, flags['target-id'], model, tokenizer, name);
      let grid: LensGrid;
      if (flags.tuned !== undefined) {
        const lens = await loadTunedLens(flags.tuned, model.backend);
        try {
          grid = tunedLensGrid(model, lens, ids, target, k);
        } finally {
          lens.dispose();
        }
      } else {
        grid = logitLensGrid(model, ids, target, k, norm);
      }
      const lensName = flags.tuned !== undefined ? 'tuned lens' : `logit lens (${norm} ln_final)`;
      const tokens = tokenStrings(ids, tokenizer);
      const targetString = target === undefined ? null : tokenStrings([target], tokenizer)[0];
      const decode = (id: number) => tokenStrings([id], tokenizer)[0];
      // The colour (and table) value of each cell: P(target), or P(top token).
      const values = grid.targetProbs ?? grid.topProbs.map((row) => row.map((cell) => cell[0]));

      if (flags.json) {
        terminal.out(`${JSON.stringify({
          lens: flags.tuned !== undefined ? 'tuned' : 'logit', norm: flags.tuned !== undefined ? null : norm,
          input_ids: ids, tokens, rows: grid.rows,
          target: target === undefined ? null : { id: target, token: targetString },
          top_tokens: grid.topTokens, top_token_strings: grid.topTokens.map((row) => row.map((cell) => cell.map(decode))),
          top_probs: grid.topProbs, target_probs: grid.targetProbs, target_ranks: grid.targetRanks,
        })}\n`);
      } else {
        const what = target === undefined ? 'P(top token)' : `P(${quoted(targetString as string)})`;
        const header = ['layer', ...tokens.map((t, p) => `${p} ${clip(quoted(t), 12)}`)];
        const rows = grid.rows.map((label, r) => [label, ...grid.topTokens[r].map((cell, p) => `${clip(quoted(decode(cell[0])), 12)} ${formatNumber(values[r][p])}`)]);
        terminal.out(`${lensName} on ${ids.length} tokens; each cell: top token, ${what}\n${formatTable(header, rows)}\n`);
      }

      if (flags.out !== undefined) {
        const legend = target === undefined ? 'P(top token)' : `P(${quoted(targetString as string)})`;
        const figure = heatmapFigure({
          title: flags.tuned !== undefined ? 'Tuned lens' : 'Logit lens',
          subtitle: `${modelLabel(name, location)} · cell: most likely next token · colour: ${legend}`,
          values,
          rowLabels: grid.rows,
          columnLabels: positionLabels(tokens),
          rowAxisLabel: 'residual stream (before block L)',
          columnAxisLabel: 'position (input token)',
          cellText: grid.topTokens.map((row) => row.map((cell) => visibleToken(decode(cell[0])))),
          scale: sequentialScale(values, { min: 0, max: 1 }),
          legendLabel: legend,
        });
        await writeFigure(flags.out, figure);
        if (!flags.json) terminal.out(`wrote ${flags.out}\n`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});
