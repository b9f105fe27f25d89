// TransformerLens's ActivationCache analyses, as functions of (model, cache): the residual stream
// accumulated layer by layer, decomposed into what each component wrote, split further per
// attention head or per MLP neuron, and scaled by a norm's cached statistics.
//
// Stacks have shape [components, batch, pos, d_model]; with `pos` one position is selected and the
// pos axis dropped ([components, batch, d_model]). Every returned Tensor is new and owned by the
// caller (dispose it, or create it inside tidy()); the cache keeps owning its activations.

import type { ActivationCache } from '../hooks/activation-cache.js';
import type { HookedTransformer } from '../models/transformer.js';
import { concat, stack as stackTensors, tensor, tidy, zeros } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { IndexError } from '../util/errors.js';
import { atPosition, cached, checkStack } from './cache-access.js';
import { headOutputWeight, mlpOutputWeight } from './model-weights.js';

// Result shapes are types (not interfaces) so that dispose(result) from the tensor API accepts them.
export type ResidStack = {
  /** [components, batch, pos, d_model], or [components, batch, d_model] when a position was chosen. */
  stack: Tensor;
  /** One label per component, TransformerLens's spelling ('embed', '0_attn_out', 'L1H3', ...). */
  labels: string[];
};

export interface StackOptions {
  /** Components that feed the input of this layer (0..nLayers; nLayers, the default, means the final residual). */
  layer?: number;
  /** One position (negative counts from the end); the pos axis is dropped. */
  pos?: number;
  /** Scale the stack by the cached norm statistics of the layer it feeds (see applyLnToStack). */
  applyLn?: boolean;
}

function resolveLayer(model: HookedTransformer, layer: number | undefined, what: string): number {
  const n = model.config.nLayers;
  const l = layer === undefined || layer === -1 ? n : layer;
  if (!Number.isInteger(l) || l < 0 || l > n) throw new IndexError(`${what}: layer ${layer} is out of range 0..${n} (or -1 for the final residual)`);
  return l;
}

/** Stacks the parts and applies the cached norm scale when asked. */
function finish(model: HookedTransformer, cache: ActivationCache, parts: Tensor[], labels: string[],
  options: StackOptions & { mlpInput?: boolean }, layer: number, what: string): ResidStack {
  if (parts.length === 0) throw new IndexError(`${what}: layer ${layer} selects no components`);
  return tidy(() => {
    const stacked = parts.length === 1 ? parts[0].unsqueeze(0) : stackTensors(parts, 0);
    const result = options.applyLn
      ? applyLnToStack(model, cache, stacked, { layer, pos: options.pos, mlpInput: options.mlpInput })
      : stacked;
    return { stack: result, labels };
  });
}

/**
 * The residual stream at the input of each layer 0..layer (resid_pre), plus the final residual
 * (resid_post of the last block, labelled 'final_post') when layer = nLayers. With applyLn the
 * stack is scaled by the cached statistics of the norm reading `layer` (ln_final by default):
 * TransformerLens's apply_ln_to_stack, not a fresh normalisation of each entry (the logit lens
 * offers that).
 */
export function accumulatedResid(model: HookedTransformer, cache: ActivationCache, options: StackOptions = {}): ResidStack {
  const what = 'accumulatedResid';
  const layer = resolveLayer(model, options.layer, what);
  const n = model.config.nLayers;
  return tidy(() => {
    const parts: Tensor[] = [];
    const labels: string[] = [];
    for (let l = 0; l <= layer; l++) {
      const name = l === n ? `blocks.${n - 1}.hook_resid_post` : `blocks.${l}.hook_resid_pre`;
      parts.push(atPosition(cached(cache, name, what), 1, options.pos, what));
      labels.push(l === n ? 'final_post' : `${l}_pre`);
    }
    return finish(model, cache, parts, labels, options, layer, what);
  });
}

export interface DecomposeOptions extends StackOptions {
  /** Which layer outputs to include: 'all' (default), only 'attn' or only 'mlp'. */
  mode?: 'all' | 'attn' | 'mlp';
  /** Decompose the MLP input of `layer` instead: adds that layer's attn_out (sequential blocks only; with a parallel residual the MLP reads resid_pre) and scales by ln2. */
  mlpInput?: boolean;
  /** Include hook_embed (and hook_pos_embed for learned positions); default true. */
  includeEmbeds?: boolean;
}

/**
 * What each component wrote into the residual stream read by `layer`: the token embedding, the
 * learned positional embedding (rotary models have none), then each block's attn_out and
 * mlp_out. With mode 'all' and embeds included the stack sums to that residual exactly (to float
 * rounding).
 */
export function decomposeResid(model: HookedTransformer, cache: ActivationCache, options: DecomposeOptions = {}): ResidStack {
  const what = 'decomposeResid';
  const layer = resolveLayer(model, options.layer, what);
  const mode = options.mode ?? 'all';
  const c = model.config;
  if (options.mlpInput && layer === c.nLayers) throw new IndexError(`${what}: mlpInput needs a block layer 0..${c.nLayers - 1}, got ${layer}`);
  return tidy(() => {
    const parts: Tensor[] = [];
    const labels: string[] = [];
    const add = (name: string, label: string) => {
      parts.push(atPosition(cached(cache, name, what), 1, options.pos, what));
      labels.push(label);
    };
    if (options.includeEmbeds ?? true) {
      add('hook_embed', 'embed');
      if (c.positional === 'learned') add('hook_pos_embed', 'pos_embed');
    }
    for (let l = 0; l < layer; l++) {
      if (mode !== 'mlp') add(`blocks.${l}.hook_attn_out`, `${l}_attn_out`);
      if (mode !== 'attn') add(`blocks.${l}.hook_mlp_out`, `${l}_mlp_out`);
    }
    if (options.mlpInput && mode !== 'mlp' && !c.parallelResidual) add(`blocks.${layer}.hook_attn_out`, `${layer}_attn_out`);
    return finish(model, cache, parts, labels, options, layer, what);
  });
}

export type HeadResults = ResidStack & {
  /**
   * b_O of each included layer, [layers, 1, 1, d_model] ([layers, 1, d_model] with a position
   * chosen) so it broadcasts against the stack: Σ_h stack[L{l}H{h}] + outBias[l] = attn_out of
   * layer l. Zeros when the model has no output bias. Not scaled by applyLn.
   */
  outBias: Tensor;
};

/**
 * Each attention head's write into the residual stream, z[..., h, :] @ W_O[h], for every head of
 * layers 0..layer-1 (labels 'L{l}H{h}'). The output bias is shared by a layer's heads, so it is
 * reported apart (outBias).
 */
export function stackHeadResults(model: HookedTransformer, cache: ActivationCache, options: StackOptions = {}): HeadResults {
  const what = 'stackHeadResults';
  const layer = resolveLayer(model, options.layer, what);
  const c = model.config;
  return tidy(() => {
    const parts: Tensor[] = [];
    const labels: string[] = [];
    const biases: Tensor[] = [];
    for (let l = 0; l < layer; l++) {
      const z = atPosition(cached(cache, `blocks.${l}.attn.hook_z`, what), 1, options.pos, what); // [batch, (pos,) head, d_head]
      const headAxis = z.ndim - 2;
      for (let h = 0; h < c.nHeads; h++) {
        parts.push(z.select(headAxis, h).matmul(headOutputWeight(model, l, h)));
        labels.push(`L${l}H${h}`);
      }
      biases.push(outputBias(model, model.params.blocks[l].attn.out.bias, options.pos));
    }
    if (parts.length === 0) throw new IndexError(`${what}: layer 0 selects no heads (heads of layers before 'layer' are stacked)`);
    const result = finish(model, cache, parts, labels, options, layer, what);
    return { ...result, outBias: stackTensors(biases, 0) };
  });
}

/** A per-layer output bias shaped to broadcast against [batch, pos, d_model] (or [batch, d_model]). */
function outputBias(model: HookedTransformer, bias: Tensor | null, pos: number | undefined): Tensor {
  const shape = pos === undefined ? [1, 1, model.config.dModel] : [1, model.config.dModel];
  return bias === null ? zeros(shape, { backend: model.backend }) : bias.reshape(shape);
}

export interface NeuronOptions {
  /** Which neurons (default all d_mlp). */
  neurons?: readonly number[];
  pos?: number;
}

/**
 * One MLP layer's neurons' writes into the residual stream, post[..., n] * W_out[n, :]
 * ([neurons, batch, pos, d_model], labels 'L{l}N{n}'). For gated MLPs post is act(gate) * up.
 * Σ_n + outBias = mlp_out of that layer.
 */
export function neuronResults(model: HookedTransformer, cache: ActivationCache, layer: number,
  options: NeuronOptions = {}): ResidStack & { outBias: Tensor } {
  const what = 'neuronResults';
  const c = model.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= c.nLayers) throw new IndexError(`${what}: layer ${layer} is out of range 0..${c.nLayers - 1}`);
  const neurons = options.neurons ?? Array.from({ length: c.dMlp }, (_, i) => i);
  for (const n of neurons) {
    if (!Number.isInteger(n) || n < 0 || n >= c.dMlp) throw new IndexError(`${what}: neuron ${n} is out of range 0..${c.dMlp - 1}`);
  }
  return tidy(() => {
    const ids = tensor(Int32Array.from(neurons), [neurons.length], { dtype: 'int32', backend: model.backend });
    const post = atPosition(cached(cache, `blocks.${layer}.mlp.hook_post`, what), 1, options.pos, what); // [batch, (pos,) d_mlp]
    const acts = post.indexSelect(post.ndim - 1, ids); // [batch, (pos,) n]
    const lead = acts.shape.slice(0, -1);
    const moved = acts.permute([acts.ndim - 1, ...lead.map((_, i) => i)]).unsqueeze(-1); // [n, batch, (pos,) 1]
    const rows = mlpOutputWeight(model, layer).indexSelect(0, ids); // [n, d_model]
    const perNeuron = moved.mul(rows.reshape([neurons.length, ...lead.map(() => 1), c.dModel]));
    return {
      stack: perNeuron,
      labels: neurons.map((n) => `L${layer}N${n}`),
      outBias: outputBias(model, model.params.blocks[layer].mlp.out.bias, options.pos),
    };
  });
}

/**
 * Every neuron of layers 0..layer-1 (TransformerLens's stack_neuron_results): the neuron stacks of
 * those layers concatenated, labels 'L{l}N{n}'. Memory grows as layers × d_mlp × batch × pos ×
 * d_model: pick neurons or a position for real models.
 */
export function stackNeuronResults(model: HookedTransformer, cache: ActivationCache, layer?: number,
  options: NeuronOptions & { applyLn?: boolean } = {}): ResidStack {
  const what = 'stackNeuronResults';
  const upTo = resolveLayer(model, layer, what);
  if (upTo === 0) throw new IndexError(`${what}: layer 0 selects no neurons (neurons of layers before 'layer' are stacked)`);
  return tidy(() => {
    const perLayer = Array.from({ length: upTo }, (_, l) => neuronResults(model, cache, l, options));
    const stacked = perLayer.length === 1 ? perLayer[0].stack : concat(perLayer.map((r) => r.stack), 0);
    const labels = perLayer.flatMap((r) => r.labels);
    const result = options.applyLn ? applyLnToStack(model, cache, stacked, { layer: upTo, pos: options.pos }) : stacked;
    return { stack: result, labels };
  });
}

export interface ApplyLnOptions {
  /** The layer whose input norm to use: 0..nLayers-1 (ln1, or ln2 with mlpInput), nLayers or undefined for ln_final. */
  layer?: number;
  mlpInput?: boolean;
  /** Set when the stack has one position selected (the same index used to build it). */
  pos?: number;
}

/**
 * Treats each stack entry as a summand of the residual a norm reads and applies that norm's
 * linear part with the statistics cached from the real run: centre (LayerNorm only) and divide
 * by the cached hook_scale. Weight and bias are not applied (as in TransformerLens, whose models
 * usually fold them into the next matrices; ours keep them — direct logit attribution applies the
 * final weight). Because the scale is the whole residual's, the entries still sum to the
 * normalised residual.
 */
export function applyLnToStack(model: HookedTransformer, cache: ActivationCache, stack: Tensor, options: ApplyLnOptions = {}): Tensor {
  const what = 'applyLnToStack';
  const c = model.config;
  const layer = resolveLayer(model, options.layer, what);
  if (options.mlpInput && layer === c.nLayers) throw new IndexError(`${what}: mlpInput needs a block layer 0..${c.nLayers - 1}, got ${layer}`);
  checkStack(model, stack, options.pos !== undefined, what);
  const name = layer === c.nLayers ? 'ln_final.hook_scale' : `blocks.${layer}.ln${options.mlpInput ? 2 : 1}.hook_scale`;
  return tidy(() => {
    const scale = atPosition(cached(cache, name, what), 1, options.pos, what); // [batch, (pos,) 1]
    const centered = c.norm === 'layernorm' ? stack.sub(stack.mean(-1, { keepdim: true })) : stack;
    return centered.div(scale);
  });
}
