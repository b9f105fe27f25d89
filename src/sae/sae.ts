// The sparse autoencoder: SAELens's parameters (W_enc [d_in, d_sae], b_enc [d_sae], W_dec
// [d_sae, d_out], b_dec [d_out], threshold [d_sae] for JumpReLU) and its encode/decode maths,
// for every architecture we train or load. A transcoder is the same object with d_out and an
// output hook: it reads one hook and predicts another, so b_dec is never subtracted from its input.
//
// Ownership: the SAE owns its parameter tensors (dispose() frees them); encode/decode/forward
// return new tensors owned by the caller.

import type { Backend } from '../backend/types.js';
import { ArgumentError, ShapeError, fmtShape } from '../util/errors.js';
import { kthLargest } from './kth-value.js';
import { Tensor, concat, full, keep, noGrad, randn, tensor, tidy, zeros, type DType } from '../tensor/index.js';

/** How the hidden pre-activations become feature activations. */
export type SAEArchitecture = 'standard' | 'topk' | 'batchtopk' | 'jumprelu';
export const SAE_ARCHITECTURES: readonly SAEArchitecture[] = ['standard', 'topk', 'batchtopk', 'jumprelu'];

/** SAELens's normalize_activations values. */
export type NormalizeActivations = 'none' | 'expected_average_only_in' | 'constant_norm_rescale' | 'layer_norm';
export const NORMALIZE_ACTIVATIONS: readonly NormalizeActivations[] = ['none', 'expected_average_only_in', 'constant_norm_rescale', 'layer_norm'];

/**
 * An SAE's configuration, with SAELens's cfg.json field names (SAELens 6 nests the hook fields
 * under `metadata`; we keep them flat in memory and write both layouts' readers can load).
 */
export interface SAEConfig {
  architecture: SAEArchitecture;
  d_in: number;
  d_sae: number;
  /** Transcoders only: the width of the output hook. An SAE reconstructs its input (d_out = d_in). */
  d_out?: number;
  /** TopK: active features per token; BatchTopK: the average per token over a batch. */
  k?: number;
  /** Subtract b_dec from the input before encoding (SAEs only; SAELens's default true). */
  apply_b_dec_to_input: boolean;
  /**
   * 'expected_average_only_in' is a training-time scale (mean ||x|| = sqrt(d_in)) that is folded
   * into the weights on save, so it is inert at inference (as in SAELens). The other two are
   * per-token and applied by forward().
   */
  normalize_activations: NormalizeActivations;
  /** TopK/BatchTopK: rank features by f_i·||W_dec_i|| and decode with unit-norm decoder rows. */
  rescale_acts_by_decoder_norm?: boolean;
  /** TransformerLens hook the SAE reads (a transcoder's input hook). */
  hook_name: string;
  hook_layer: number;
  hook_head_index?: number | null;
  /** Transcoders only: the hook whose activation the transcoder predicts. */
  hook_name_out?: string;
  hook_layer_out?: number;
  model_name?: string;
  context_size?: number;
  prepend_bos?: boolean;
  dtype: DType;
}

/** The parameter tensors, keyed by SAELens's state_dict names. */
export interface SAEParameters {
  W_enc: Tensor;
  b_enc: Tensor;
  W_dec: Tensor;
  b_dec: Tensor;
  /** JumpReLU (and BatchTopK after training): per-feature activation threshold. */
  threshold?: Tensor | null;
}

export interface SAEInitOptions {
  seed?: number;
  /** Initial norm of each decoder row (Anthropic April 2024 update: 0.1); W_enc starts as W_dec^T. */
  decoderInitNorm?: number;
  /** JumpReLU: initial threshold of every feature. */
  initialThreshold?: number;
  /** Where the parameters live (float32 only; float64 SAEs always use the ref backend). */
  backend?: Backend;
}

export function isTranscoder(cfg: SAEConfig): boolean {
  return cfg.hook_name_out !== undefined && cfg.hook_name_out !== '';
}

/** Output width: d_out for transcoders, d_in for SAEs. */
export function outputWidth(cfg: SAEConfig): number {
  return isTranscoder(cfg) ? cfg.d_out ?? cfg.d_in : cfg.d_in;
}

/** Checks a config's fields (widths, k, architecture, normalisation); throws ArgumentError naming the bad field. */
export function checkSAEConfig(cfg: SAEConfig): void {
  for (const field of ['d_in', 'd_sae'] as const) {
    if (!Number.isInteger(cfg[field]) || cfg[field] < 1) throw new ArgumentError(`SAE config: ${field} = ${cfg[field]} must be a positive integer`);
  }
  if (!SAE_ARCHITECTURES.includes(cfg.architecture)) {
    throw new ArgumentError(`SAE config: architecture '${String(cfg.architecture)}' is not one of ${SAE_ARCHITECTURES.join(', ')}`);
  }
  if (!NORMALIZE_ACTIVATIONS.includes(cfg.normalize_activations)) {
    throw new ArgumentError(`SAE config: normalize_activations '${String(cfg.normalize_activations)}' is not one of ${NORMALIZE_ACTIVATIONS.join(', ')}`);
  }
  if (cfg.architecture === 'topk' || cfg.architecture === 'batchtopk') {
    const k = cfg.k;
    const integral = cfg.architecture === 'topk';
    if (k === undefined || !(k > 0) || k > cfg.d_sae || (integral && !Number.isInteger(k))) {
      throw new ArgumentError(`SAE config: ${cfg.architecture} needs k in (0, d_sae = ${cfg.d_sae}]${integral ? ' (an integer)' : ''}, got ${k}`);
    }
  }
  if (isTranscoder(cfg)) {
    if (cfg.d_out !== undefined && (!Number.isInteger(cfg.d_out) || cfg.d_out < 1)) throw new ArgumentError(`SAE config: d_out = ${cfg.d_out} must be a positive integer`);
    if (cfg.normalize_activations === 'constant_norm_rescale' || cfg.normalize_activations === 'layer_norm') {
      throw new ArgumentError(`SAE config: a transcoder cannot undo '${cfg.normalize_activations}' on an output of another hook; use 'none' or 'expected_average_only_in'`);
    }
  }
}

/** Per-token input normalisation that forward() undoes on the output (SAELens's run-time norms). */
interface RunTimeNorm {
  normalized: Tensor;
  undo: (out: Tensor) => Tensor;
}

export class SparseAutoencoder implements Disposable {
  readonly cfg: SAEConfig;
  readonly W_enc: Tensor; // [d_in, d_sae]
  readonly b_enc: Tensor; // [d_sae]
  readonly W_dec: Tensor; // [d_sae, d_out]
  readonly b_dec: Tensor; // [d_out]
  /** [d_sae]; JumpReLU, and BatchTopK's inference threshold (null until trained/loaded). */
  threshold: Tensor | null;

  /** Takes ownership of the parameter tensors (checks their shapes against cfg). */
  constructor(cfg: SAEConfig, params: SAEParameters) {
    checkSAEConfig(cfg);
    this.cfg = { ...cfg };
    const dOut = outputWidth(cfg);
    const expect: [string, Tensor | null | undefined, number[]][] = [
      ['W_enc', params.W_enc, [cfg.d_in, cfg.d_sae]],
      ['b_enc', params.b_enc, [cfg.d_sae]],
      ['W_dec', params.W_dec, [cfg.d_sae, dOut]],
      ['b_dec', params.b_dec, [dOut]],
      ['threshold', params.threshold, [cfg.d_sae]],
    ];
    for (const [name, t, shape] of expect) {
      if (t === undefined || t === null) continue;
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new ShapeError(`SAE: ${name} has shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)} for d_in ${cfg.d_in}, d_sae ${cfg.d_sae}, d_out ${dOut}`);
      }
    }
    if (cfg.architecture === 'jumprelu' && (params.threshold === undefined || params.threshold === null)) {
      throw new ArgumentError('SAE: a jumprelu SAE needs a threshold tensor of shape [d_sae]');
    }
    this.W_enc = keep(params.W_enc);
    this.b_enc = keep(params.b_enc);
    this.W_dec = keep(params.W_dec);
    this.b_dec = keep(params.b_dec);
    this.threshold = params.threshold ? keep(params.threshold) : null;
  }

  /**
   * Fresh weights as SAELens's TrainingSAE: W_dec rows uniform-random directions scaled to
   * decoderInitNorm (default 0.1), W_enc = W_dec^T, biases zero, threshold initialThreshold.
   */
  static init(cfg: SAEConfig, options: SAEInitOptions = {}): SparseAutoencoder {
    checkSAEConfig(cfg);
    const dOut = outputWidth(cfg);
    const norm = options.decoderInitNorm ?? 0.1;
    const dtype = cfg.dtype;
    const backend = dtype === 'float64' ? 'ref' : options.backend;
    const params = tidy(() => {
      const raw = randn([cfg.d_sae, dOut], { seed: options.seed ?? 0, dtype, backend });
      const W_dec = raw.div(raw.square().sum(-1, { keepdim: true }).sqrt()).mul(norm);
      // A transcoder's encoder cannot be the decoder's transpose (d_in != d_out); it gets its own directions.
      const W_enc = isTranscoder(cfg)
        ? scaledRandom([cfg.d_in, cfg.d_sae], norm, (options.seed ?? 0) + 1, dtype, backend)
        : W_dec.T.contiguous();
      const threshold = cfg.architecture === 'jumprelu'
        ? tensor(new Array<number>(cfg.d_sae).fill(options.initialThreshold ?? 0.001), [cfg.d_sae], { dtype, backend })
        : null;
      return {
        W_enc, W_dec, threshold,
        b_enc: zeros([cfg.d_sae], { dtype, backend }),
        b_dec: zeros([dOut], { dtype, backend }),
      };
    });
    return new SparseAutoencoder(cfg, params);
  }

  get dSae(): number { return this.cfg.d_sae; }
  get dIn(): number { return this.cfg.d_in; }
  get dOut(): number { return outputWidth(this.cfg); }
  get hookName(): string { return this.cfg.hook_name; }
  /** The hook the output belongs to: hook_name_out for transcoders, hook_name for SAEs. */
  get outputHookName(): string { return isTranscoder(this.cfg) ? this.cfg.hook_name_out! : this.cfg.hook_name; }

  /** The trainable tensors, in a fixed order (threshold included when present). */
  parameters(): Tensor[] {
    return [this.W_enc, this.b_enc, this.W_dec, this.b_dec, ...(this.threshold ? [this.threshold] : [])];
  }

  /** The state dict as SAELens names it. */
  stateDict(): Record<string, Tensor> {
    const dict: Record<string, Tensor> = { W_enc: this.W_enc, b_enc: this.b_enc, W_dec: this.W_dec, b_dec: this.b_dec };
    if (this.threshold) dict.threshold = this.threshold;
    return dict;
  }

  /** [d_sae] norms of the decoder rows. */
  decoderNorms(): Tensor {
    return this.W_dec.square().sum(-1).sqrt();
  }

  /** The encoder input: x minus b_dec when apply_b_dec_to_input (never for transcoders). */
  processInput(x: Tensor): Tensor {
    this.checkInput(x);
    return this.cfg.apply_b_dec_to_input && !isTranscoder(this.cfg) ? x.sub(this.b_dec) : x.add(0);
  }

  /**
   * Pre-activations x W_enc + b_enc, [..., d_sae], scaled by decoder norms when
   * rescale_acts_by_decoder_norm. No run-time normalisation (training uses 'none' or the folded
   * 'expected_average_only_in'); encode() adds it.
   */
  hiddenPre(x: Tensor): Tensor {
    return tidy(() => {
      // [x, 1] @ [W_enc; b_enc]: the bias rides in the matmul, which saves a pass over the (large)
      // [tokens, d_sae] output forward and the column sums backward (b_enc's gradient comes from the matmul's).
      const input = this.processInput(x);
      const ones = full([...input.shape.slice(0, -1), 1], 1, { dtype: input.dtype, backend: input.backend });
      const pre = concat([input, ones], -1).matmul(concat([this.W_enc, this.b_enc.unsqueeze(0)], 0));
      return this.cfg.rescale_acts_by_decoder_norm ? pre.mul(this.decoderNorms()) : pre;
    });
  }

  /**
   * Feature activations [..., d_sae] for inputs [..., d_in] (inference mode: BatchTopK uses its
   * threshold, as SAELens's saved BatchTopK SAEs are JumpReLU). Like SAELens's encode, it applies
   * the run-time input normalisation ('constant_norm_rescale', 'layer_norm') first.
   */
  encode(x: Tensor): Tensor {
    return tidy(() => activate(this, this.hiddenPre(runTimeNorm(this.cfg, x).normalized)));
  }

  /**
   * Reconstruction [..., d_out] of feature activations [..., d_sae]: f W_dec + b_dec — in the
   * normalised space for 'constant_norm_rescale' / 'layer_norm' SAEs (forward() and run() map it back).
   */
  decode(features: Tensor): Tensor {
    if (features.shape[features.ndim - 1] !== this.cfg.d_sae) {
      throw new ShapeError(`SAE.decode: features of shape ${fmtShape(features.shape)} must end in d_sae = ${this.cfg.d_sae}`);
    }
    return tidy(() => {
      const f = this.cfg.rescale_acts_by_decoder_norm ? features.div(this.decoderNorms()) : features;
      return f.matmul(this.W_dec).add(this.b_dec);
    });
  }

  /** encode then decode, with run-time normalisation (constant_norm_rescale, layer_norm) applied and undone. */
  forward(x: Tensor): Tensor {
    return tidy(() => this.run(x).reconstruction);
  }

  /** Feature activations and reconstruction from one encode, with run-time normalisation. */
  run(x: Tensor): { features: Tensor; reconstruction: Tensor } {
    return tidy(() => {
      const { normalized, undo } = runTimeNorm(this.cfg, x);
      const features = activate(this, this.hiddenPre(normalized));
      return { features, reconstruction: undo(this.decode(features)) };
    });
  }

  /**
   * Folds a training-time input scale s_in (and output scale s_out, = s_in for SAEs) into the
   * weights, so the SAE then reads and writes unscaled activations (SAELens's
   * fold_activation_norm_scaling_factor): W_enc·s_in, W_dec/s_out, b_dec/s_out. Thresholds stay
   * (pre-activations are unchanged). Sets normalize_activations to 'none'.
   */
  foldActivationScaling(inputScale: number, outputScale = inputScale): void {
    noGrad(() => tidy(() => {
      this.W_enc.copy_(this.W_enc.mul(inputScale));
      this.W_dec.copy_(this.W_dec.div(outputScale));
      this.b_dec.copy_(this.b_dec.div(outputScale));
    }));
    this.cfg.normalize_activations = 'none';
  }

  /** A deep copy (parameters cloned, no gradient history). */
  clone(): SparseAutoencoder {
    const params = noGrad(() => tidy(() => ({
      W_enc: this.W_enc.clone(), b_enc: this.b_enc.clone(), W_dec: this.W_dec.clone(), b_dec: this.b_dec.clone(),
      threshold: this.threshold ? this.threshold.clone() : null,
    })));
    return new SparseAutoencoder(this.cfg, params);
  }

  dispose(): void {
    for (const t of this.parameters()) t.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private checkInput(x: Tensor): void {
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.cfg.d_in) {
      throw new ShapeError(`SAE: input of shape ${fmtShape(x.shape)} must end in d_in = ${this.cfg.d_in} (hook ${this.cfg.hook_name})`);
    }
  }
}

function scaledRandom(shape: number[], norm: number, seed: number, dtype: DType, backend: Backend | 'ref' | undefined): Tensor {
  const raw = randn(shape, { seed, dtype, backend });
  return raw.div(raw.square().sum(0, { keepdim: true }).sqrt()).mul(norm);
}

/**
 * Inference activation of pre-activations [..., d_sae]: ReLU (standard), ReLU of the k largest
 * (topk), ReLU gated by hidden_pre > threshold (jumprelu; batchtopk once it has a threshold).
 */
export function activate(sae: SparseAutoencoder, hiddenPre: Tensor): Tensor {
  const arch = sae.cfg.architecture;
  switch (arch) {
    case 'standard':
      return hiddenPre.relu();
    case 'topk':
      return topkActivation(hiddenPre, sae.cfg.k!);
    case 'jumprelu':
      return jumpReluInference(hiddenPre, sae.threshold!);
    case 'batchtopk':
      // Before training has produced a threshold, fall back to the batch rule over the rows given.
      return sae.threshold ? jumpReluInference(hiddenPre, sae.threshold) : batchTopkActivation(hiddenPre, sae.cfg.k!);
    default:
      return arch satisfies never;
  }
}

/** relu(h)·[h > θ]: the gate is a constant for autograd (training uses the straight-through estimator instead). */
export function jumpReluInference(hiddenPre: Tensor, threshold: Tensor): Tensor {
  return tidy(() => hiddenPre.relu().mul(hiddenPre.gt(threshold.detach())));
}

/**
 * Keeps the k largest entries of each row (then ReLU), zeroing the rest. Selecting by comparison
 * with the k-th largest value keeps the op differentiable through the kept entries (as torch's
 * topk + scatter); exact ties at the k-th value keep all tied entries.
 */
export function topkActivation(hiddenPre: Tensor, k: number): Tensor {
  return tidy(() => {
    const kth = kthLargest(hiddenPre, k);
    // h ≥ max(kth, smallest normal float) is "among the top k and positive": the ReLU comes free.
    return hiddenPre.mul(hiddenPre.ge(kth.clamp(MIN_POSITIVE, null)));
  });
}

/** Smallest positive normal float32: `h ≥ MIN_POSITIVE` is `h > 0` up to denormals. */
const MIN_POSITIVE = 1.1754943508222875e-38;

/**
 * BatchTopK (Bussmann et al. 2024, SAELens): over all tokens of the batch (every axis but the
 * last), keep the round(k·tokens) largest ReLU'd activations.
 */
export function batchTopkActivation(hiddenPre: Tensor, k: number): Tensor {
  return tidy(() => {
    const acts = hiddenPre.relu();
    const tokens = acts.size / acts.shape[acts.ndim - 1];
    const keepCount = Math.min(acts.size, Math.max(1, Math.floor(k * tokens)));
    const kth = kthLargest(acts.reshape(1, -1), keepCount).reshape(1);
    return acts.mul(acts.ge(kth)).mul(acts.gt(0));
  });
}

/** SAELens's run-time input normalisation and its inverse on the output. */
export function runTimeNorm(cfg: SAEConfig, x: Tensor): RunTimeNorm {
  switch (cfg.normalize_activations) {
    case 'none':
    case 'expected_average_only_in':
      return { normalized: x, undo: (out) => out };
    case 'constant_norm_rescale': {
      const coeff = x.square().sum(-1, { keepdim: true }).sqrt().reciprocal().mul(Math.sqrt(cfg.d_in));
      return { normalized: x.mul(coeff), undo: (out) => out.div(coeff) };
    }
    case 'layer_norm': {
      // torch's x.std is unbiased, and SAELens adds eps to the std, not the variance.
      const mu = x.mean(-1, { keepdim: true });
      const centred = x.sub(mu);
      const std = centred.std(-1, { keepdim: true });
      return { normalized: centred.div(std.add(1e-5)), undo: (out) => out.mul(std).add(mu) };
    }
    default:
      return cfg.normalize_activations satisfies never;
  }
}
