// Feature statistics of an SAE over token rows: each batch runs the model only as far as the SAE's
// hook (stopAtLayer), encodes the activation there and streams the feature activations into a
// FeatureStatsAccumulator. Also: a feature's direct effect on the logits, read off its decoder row.

import { extremes, type TokenScore } from '../analysis/circuits.js';
import { headOutputWeight, mlpOutputWeight, normWeight, unembedMatrix } from '../analysis/model-weights.js';
import { SweepProgress } from '../analysis/sweep-runtime.js';
import { batchesByLength } from '../analysis/token-batches.js';
import { matchHookNames, type HookPointInfo } from '../hooks/hook-set.js';
import type { HookedTransformer } from '../models/transformer.js';
import { noGrad, tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, IndexError, ShapeError, fmtShape } from '../util/errors.js';
import { FeatureStatsAccumulator, type FeatureStatistics, type FeatureStatsOptions } from './dashboard-stats.js';
import { runTimeNorm, type SparseAutoencoder } from './sae.js';

export interface FeatureScanOptions extends FeatureStatsOptions {
  /** Features to collect statistics for (default: all d_sae of them). */
  features?: readonly number[];
  /** Rows per forward pass (default 8); rows of different lengths run in separate batches. */
  batchSize?: number;
  /** Token ids left out of every statistic (e.g. BOS, whose activations are outliers in most models). */
  excludeTokens?: readonly number[];
  /** Called after each batch with (tokens done, tokens in total). */
  onProgress?: (done: number, total: number) => void;
  /** Checked between batches: an aborted scan rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** How far the forward pass must run to reach the SAE's hook: through its block, or the whole model. */
function stopAtLayerFor(model: HookedTransformer, name: string): number | undefined {
  matchHookNames(name, model.hookPoints); // throws UnknownHookError with the closest names
  const index = model.hookPoints.findIndex((p) => p.name === name);
  const point = model.hookPoints[index];
  if (point.layer !== null) return point.layer + 1;
  // Outside the blocks: hook points listed before the first block's (the embeddings) run before
  // block 0; the others (ln_final) need the whole model.
  const firstBlock = model.hookPoints.findIndex((p) => p.layer !== null);
  return firstBlock >= 0 && index < firstBlock ? 0 : undefined;
}

/**
 * The SAE's input from a hook's activation [batch, pos, ...rest]: one head when the SAE names
 * hook_head_index, else the trailing axes flattened (hook_z SAEs read [head · d_head]); [batch · pos, d_in].
 */
function saeInput(activation: Tensor, point: HookPointInfo, sae: SparseAutoencoder): Tensor {
  if (point.axes[0] !== 'batch' || point.axes[1] !== 'pos') {
    throw new ArgumentError(`SAE input: hook '${point.name}' has axes [${point.axes.join(', ')}]; feature statistics need one activation per token, [batch, pos, ...]`);
  }
  const [batch, pos] = activation.shape;
  const head = sae.cfg.hook_head_index;
  const x = head === undefined || head === null ? activation : activation.select(2, head);
  const width = x.shape.slice(2).reduce((a, b) => a * b, 1);
  if (width !== sae.cfg.d_in) {
    throw new ShapeError(`SAE input: hook '${sae.cfg.hook_name}' gives ${fmtShape(activation.shape)}${head !== undefined && head !== null ? ` (head ${head})` : ''}, which is ${width} features per token; the SAE's d_in is ${sae.cfg.d_in}`);
  }
  return x.reshape(batch * pos, width);
}

function checkFeatures(features: readonly number[], dSae: number, what: string): void {
  if (features.length === 0) throw new ArgumentError(`${what}: no features given`);
  for (const f of features) {
    if (!Number.isInteger(f) || f < 0 || f >= dSae) throw new IndexError(`${what}: feature ${f} is out of range 0..${dSae - 1} (d_sae ${dSae})`);
  }
}

/**
 * Statistics of SAE features over `rows` of token ids (see FeatureStatistics): density, mean and
 * max activation, histogram, top-activating examples and examples sampled across activation
 * intervals. Activations are the SAE's encode of its hook's activation, after SAELens's run-time
 * normalisation (as in sae.run). Resolves to one entry per feature, in the order given.
 */
export async function scanFeatures(model: HookedTransformer, sae: SparseAutoencoder, rows: readonly (readonly number[])[],
  options: FeatureScanOptions = {}): Promise<FeatureStatistics[]> {
  const what = 'scanFeatures';
  const dSae = sae.cfg.d_sae;
  const features = options.features ?? Array.from({ length: dSae }, (_, i) => i);
  checkFeatures(features, dSae, what);
  const stopAtLayer = stopAtLayerFor(model, sae.cfg.hook_name);
  const batches = batchesByLength(rows, options.batchSize ?? 8, what);
  const excluded = new Set(options.excludeTokens ?? []);
  const accumulator = new FeatureStatsAccumulator(features, options);
  const subset = options.features === undefined ? null : Int32Array.from(features);
  const total = rows.reduce((sum, row) => sum + row.length, 0);
  const progress = new SweepProgress(total, options);

  for (const batch of batches) {
    const length = rows[batch[0]].length;
    const tokens = batch.map((r) => rows[r]);
    let captured: Float32Array | null = null;
    noGrad(() => {
      const output = model.forward(tokens, {
        // A hook after the blocks (ln_final) needs every position normalised, so every position is unembedded too.
        stopAtLayer,
        hooks: [{
          name: sae.cfg.hook_name,
          // Read inside the hook: the forward pass frees its activations when it returns.
          fn: (activation, point) => {
            captured = tidy(() => {
              const { normalized } = runTimeNorm(sae.cfg, saeInput(activation, point, sae).toType(sae.W_enc.dtype));
              let acts = sae.encode(normalized); // [batch · pos, d_sae]
              if (subset !== null) acts = acts.indexSelect(1, tensor(subset, [subset.length], { dtype: 'int32', backend: acts.backend }));
              return Float32Array.from(acts.toArray());
            });
          },
        }],
      });
      output.dispose();
    });
    if (captured === null) throw new ArgumentError(`${what}: the forward pass never reached ${sae.cfg.hook_name}`);
    const counted = excluded.size === 0 ? undefined : Uint8Array.from(tokens.flat(), (id) => (excluded.has(id) ? 0 : 1));
    accumulator.addBatch(batch, length, captured, counted);
    await progress.advance(batch.length * length);
  }
  return accumulator.finish();
}

/** How a feature's decoder row reaches the logits; written into dashboards beside the numbers. */
export const LOGIT_EFFECT_METHOD = 'Direct effect on the logits per unit of feature activation: the decoder row, mapped into the '
  + 'residual stream (through W_out for mlp.hook_post, W_O for attn.hook_z), then through ln_final as a linear map (its '
  + 'centring for LayerNorm and its weight; the per-token scale is left out, which rescales every token alike and so keeps '
  + 'their order) and the unembedding W_U (its bias, the same for every feature, left out).';

export interface LogitEffects {
  readonly feature: number;
  /** Tokens whose logits the feature raises most, largest first. */
  readonly positive: TokenScore[];
  /** Tokens it lowers most, most negative first. */
  readonly negative: TokenScore[];
}

/**
 * Decoder rows [n, d_out] as residual-stream directions [n, d_model], or null when the SAE's output
 * hook does not write to the residual stream in a way a direct path describes.
 */
function residualDirections(model: HookedTransformer, hookName: string, rows: Tensor): Tensor | null {
  const c = model.config;
  const resid = /^(hook_embed|hook_pos_embed|blocks\.\d+\.(hook_resid_pre|hook_resid_mid|hook_resid_post|hook_attn_out|hook_mlp_out))$/;
  if (resid.test(hookName)) return rows;
  const layer = Number(/^blocks\.(\d+)\./.exec(hookName)?.[1]);
  if (hookName === `blocks.${layer}.mlp.hook_post`) return rows.matmul(mlpOutputWeight(model, layer));
  if (hookName === `blocks.${layer}.attn.hook_z`) {
    // [n, head · d_head] → Σ_h z_h W_O^h.
    const perHead = Array.from({ length: c.nHeads }, (_, h) => rows.narrow(1, h * c.dHead, c.dHead).matmul(headOutputWeight(model, layer, h)));
    return perHead.reduce((sum, x) => sum.add(x));
  }
  return null;
}

/**
 * The tokens each feature promotes and suppresses through the direct path (LOGIT_EFFECT_METHOD),
 * or null when the SAE's output hook is not one the direct path covers (e.g. attention scores, a
 * norm's output, a single head of hook_z).
 */
export function featureLogitEffects(model: HookedTransformer, sae: SparseAutoencoder, features: readonly number[], k = 10): LogitEffects[] | null {
  checkFeatures(features, sae.cfg.d_sae, 'featureLogitEffects');
  const hookName = sae.cfg.hook_name_out !== undefined && sae.cfg.hook_name_out !== '' ? sae.cfg.hook_name_out : sae.cfg.hook_name;
  if (sae.cfg.hook_head_index !== undefined && sae.cfg.hook_head_index !== null) return null;
  return noGrad(() => tidy(() => {
    const ids = tensor(Int32Array.from(features), [features.length], { dtype: 'int32', backend: sae.W_dec.backend });
    const rows = sae.W_dec.indexSelect(0, ids).toType(model.params.embed.dtype);
    const directions = residualDirections(model, hookName, rows);
    if (directions === null) return null;
    if (directions.shape[1] !== model.config.dModel) {
      throw new ShapeError(`featureLogitEffects: decoder rows map to ${fmtShape(directions.shape)}, not d_model ${model.config.dModel}`);
    }
    const centred = model.config.norm === 'layernorm' ? directions.sub(directions.mean(-1, { keepdim: true })) : directions;
    const weight = normWeight(model, model.params.lnFinal);
    const logits = (weight === null ? centred : centred.mul(weight)).matmul(unembedMatrix(model)); // [n, d_vocab]
    return features.map((feature, i) => {
      const { top, bottom } = extremes(logits.select(0, i), k);
      return { feature, positive: top, negative: bottom };
    });
  }));
}
