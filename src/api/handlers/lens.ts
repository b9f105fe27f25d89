// lens: the logit lens (or the model's tuned lens) over a prompt — for the residual stream
// entering every block and the model's output, at every position: the top tokens, and the
// probability and rank of a chosen target token.

import {
  dispose, runLogitLens, tensor, tidy, type HookedTransformer, type Tensor, type TunedLens,
} from '../../index.js';
import { ApiError } from '../errors.js';
import { objectOf, optionalChoice, optionalInteger, type Fields } from '../fields.js';
import type { LensRequest, LensResponse, TokenProb } from '../protocol.js';
import type { ApiSession, HandlerContext, ModelHandle } from '../session.js';
import { PROMPT_KEYS, modelSummary, promptIds, singleToken, tokenInfos, withModel } from '../tokens.js';

const KEYS = ['model', ...PROMPT_KEYS, 'target', 'topK', 'lens', 'norm'];

/** One lens as plain arrays: [row][pos][k] top ids and probabilities, [row][pos] target values. */
interface LensGrid {
  rows: string[];
  topIds: number[][][];
  topProbs: number[][][];
  targetProbs: number[][] | null;
  targetRanks: number[][] | null;
}

/** data laid out [rows, pos, k] → nested arrays. */
function nest(data: ArrayLike<number>, rows: number, pos: number, k: number): number[][][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: pos }, (_, p) => Array.from({ length: k }, (_, j) => data[(r * pos + p) * k + j])));
}

function logitLensGrid(model: HookedTransformer, ids: number[], target: number | undefined, k: number, norm: 'fresh' | 'cached'): LensGrid {
  const result = runLogitLens(model, [ids], { topK: k, norm, targets: target });
  try {
    const rows = result.labels.length;
    const pos = ids.length;
    const flat = (t: Tensor | null) => (t === null ? null : nest(t.toArray(), rows, pos, 1).map((row) => row.map((cell) => cell[0])));
    return {
      rows: result.labels,
      topIds: nest(result.topTokens.toArray(), rows, pos, k),
      topProbs: nest(result.topProbs.toArray(), rows, pos, k),
      targetProbs: flat(result.targetProbs),
      targetRanks: flat(result.targetRanks),
    };
  } finally {
    dispose(result);
  }
}

/** The tuned lens on every layer's resid_pre, and the model's own output as the last row ('final_post', as the logit lens). */
function tunedLensGrid(model: HookedTransformer, lens: TunedLens, ids: number[], target: number | undefined, k: number): LensGrid {
  const n = model.config.nLayers;
  const names = Array.from({ length: n }, (_, l) => `blocks.${l}.hook_resid_pre`);
  const { logits, cache } = model.runWithCache([ids], { names });
  const pos = ids.length;
  const grid: LensGrid = { rows: [], topIds: [], topProbs: [], targetProbs: target === undefined ? null : [], targetRanks: target === undefined ? null : [] };
  try {
    for (let l = 0; l <= n; l++) {
      tidy(() => {
        const rowLogits = l === n ? logits : lens.logits(model, cache.get(names[l]), l); // [1, pos, d_vocab]
        const logProbs = rowLogits.logSoftmax(-1);
        const top = logProbs.topk(k, -1);
        grid.rows.push(l === n ? 'final_post' : `${l}_pre`);
        grid.topIds.push(nest(top.indices.toArray(), 1, pos, k)[0]);
        grid.topProbs.push(nest(top.values.exp().toArray(), 1, pos, k)[0]);
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

async function lensOn(handle: ModelHandle, fields: Fields, session: ApiSession): Promise<LensResponse> {
  const { model, tokenizer } = handle;
  const ids = promptIds(fields, '', handle, session.limits);
  const target = singleToken(fields, 'target', handle);
  const k = optionalInteger(fields, 'topK', 5, { min: 1, max: Math.min(session.limits.maxTopK, model.config.dVocab) });
  const kind = optionalChoice(fields, 'lens', ['logit', 'tuned'] as const, 'logit');
  if (kind === 'tuned' && fields.norm !== undefined) throw new ApiError('bad_request', 'norm applies to the logit lens only; a tuned lens uses ln_final as trained', 'norm');
  const norm = optionalChoice(fields, 'norm', ['fresh', 'cached'] as const, 'fresh');
  let grid: LensGrid;
  if (kind === 'tuned') {
    const lens = await handle.tunedLens();
    if (lens === null) throw new ApiError('not_found', `model '${handle.id}' has no tuned lens (a tuned-lens.safetensors beside its weights)`, 'lens');
    grid = tunedLensGrid(model, lens, ids, target, k);
  } else {
    grid = logitLensGrid(model, ids, target, k, norm);
  }
  const top: TokenProb[][][] = grid.topIds.map((row, r) => row.map((cell, p) => tokenInfos(cell, tokenizer).map((t, j) => ({ ...t, prob: grid.topProbs[r][p][j] }))));
  return {
    model: modelSummary(handle),
    tokens: tokenInfos(ids, tokenizer),
    lens: kind,
    norm: kind === 'logit' ? norm : null,
    rows: grid.rows,
    target: target === undefined ? null : tokenInfos([target], tokenizer)[0],
    top,
    targetProbs: grid.targetProbs,
    targetRanks: grid.targetRanks,
  };
}

export async function lens(session: ApiSession, request: LensRequest, context: HandlerContext = {}): Promise<LensResponse> {
  const fields = objectOf(request, '', KEYS);
  return withModel(session, fields, context, (handle) => lensOn(handle, fields, session));
}
