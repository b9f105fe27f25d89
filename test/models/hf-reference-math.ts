// Float64 building blocks of the reference forward (hf-reference.ts): the layers Hugging Face
// models are made of, as nested loops over plain arrays. Nothing here imports from src/.

export type Vec = Float64Array;
/** HF tensor name → values (float64 copies of what the checkpoint holds). */
export type Weights = ReadonlyMap<string, Float64Array>;

export interface NormResult {
  out: Vec;
  /** The divisor: sqrt(var + eps) (LayerNorm) or sqrt(mean(x²) + eps) (RMSNorm). */
  scale: number;
}

export interface RefLayer {
  ln1(x: Vec): NormResult;
  /** Per-head q ([H] of [dh]) and per-kv-head k, v ([KV] of [dh]), before rotary. */
  qkv(x: Vec): { q: Vec[]; k: Vec[]; v: Vec[] };
  /** z (heads concatenated) → d_model. */
  out(z: Vec): Vec;
  ln2(x: Vec): NormResult;
  /** post: the MLP hidden activation (act(gate)·up for gated MLPs); out: d_model. */
  mlp(x: Vec): { post: Vec; out: Vec };
  attnScale: number;
  /** Keys visible to query i: i - window < j ≤ i; null for full causal attention. */
  window: number | null;
}

export interface RefModel {
  d: number;
  H: number;
  KV: number;
  dh: number;
  V: number;
  layers: RefLayer[];
  embed(id: number, position: number): Vec;
  rope: { dim: number; invFreq: Float64Array } | null;
  parallel: boolean;
  lnFinal(x: Vec): NormResult;
  unembed(x: Vec): Vec;
}

export function pick(w: Weights, name: string): Vec {
  const t = w.get(name);
  if (t === undefined) throw new Error(`reference: checkpoint has no tensor '${name}'`);
  return t;
}

/** nn.Linear: weight [out, in]. */
export function linear(weight: Vec, bias: Vec | null, x: Vec, inF: number, outF: number): Vec {
  const y = new Float64Array(outF);
  for (let o = 0; o < outF; o++) {
    let s = bias ? bias[o] : 0;
    for (let i = 0; i < inF; i++) s += weight[o * inF + i] * x[i];
    y[o] = s;
  }
  return y;
}

/** GPT-2's Conv1D: weight [in, out]. */
export function conv1d(weight: Vec, bias: Vec, x: Vec, inF: number, outF: number): Vec {
  const y = Float64Array.from(bias);
  for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) y[o] += x[i] * weight[i * outF + o];
  return y;
}

export function layerNorm(x: Vec, weight: Vec, bias: Vec, eps: number): NormResult {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i] - mean) ** 2;
  variance /= n;
  const scale = Math.sqrt(variance + eps);
  return { out: x.map((v, i) => ((v - mean) / scale) * weight[i] + bias[i]), scale };
}

/** Llama's RMSNorm (x · rsqrt(mean x² + eps) · w), or Gemma's with (1 + w) when weightOffset is 1. */
export function rmsNorm(x: Vec, weight: Vec, eps: number, weightOffset: number): NormResult {
  let meanSquare = 0;
  for (let i = 0; i < x.length; i++) meanSquare += x[i] * x[i];
  meanSquare /= x.length;
  const scale = Math.sqrt(meanSquare + eps);
  return { out: x.map((v, i) => (v / scale) * (weightOffset + weight[i])), scale };
}

/** erf to ~1e-15: Maclaurin series below 3, asymptotic erfc above (erfc(3) ≈ 2e-5 there). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  const x2 = ax * ax;
  const erfc = (Math.exp(-x2) / (ax * Math.sqrt(Math.PI))) * (1 - 1 / (2 * x2) + 3 / (4 * x2 * x2) - 15 / (8 * x2 * x2 * x2));
  return Math.sign(x) * (1 - erfc);
}

/** HF's ACT2FN for the names configs use. */
export function activationFn(name: string): (x: number) => number {
  switch (name) {
    case 'gelu': return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_new': case 'gelu_fast': case 'gelu_pytorch_tanh':
      return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'relu': return (x) => Math.max(0, x);
    case 'silu': return (x) => x / (1 + Math.exp(-x));
    default: throw new Error(`reference: activation ${name}`);
  }
}

export interface RopeScalingSpec {
  rope_type?: string;
  type?: string;
  factor?: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

/**
 * modeling_rope_utils: default inv_freq = 1 / base^(arange(0, dim, 2) / dim); 'linear' divides by
 * factor; 'llama3' divides low frequencies by factor, keeps high ones, and interpolates between.
 */
export function ropeInvFreq(dim: number, base: number, scaling: RopeScalingSpec | null): Float64Array {
  const inv = new Float64Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) inv[i] = 1 / base ** ((2 * i) / dim);
  const type = scaling?.rope_type ?? scaling?.type ?? 'default';
  if (type === 'default') return inv;
  const factor = scaling?.factor as number;
  if (type === 'linear') return inv.map((f) => f / factor);
  if (type === 'llama3') {
    const low = scaling?.low_freq_factor as number;
    const high = scaling?.high_freq_factor as number;
    const oldLen = scaling?.original_max_position_embeddings as number;
    const lowFreqWavelen = oldLen / low;
    const highFreqWavelen = oldLen / high;
    return inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highFreqWavelen) return f;
      if (wavelen > lowFreqWavelen) return f / factor;
      const smooth = (oldLen / wavelen - low) / (high - low);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
  }
  throw new Error(`reference: rope type ${type}`);
}
