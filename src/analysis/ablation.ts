// Ablations: knock out attention heads (their hook_z slice), MLP neurons (hook_post) or whole
// attention / MLP layers (hook_attn_out / hook_mlp_out), and see what the model does without them.
//
//   zero: replace with 0.  mean: with the mean over a dataset.  resample: with the value the same
//   component had on another, randomly chosen (seeded) dataset row.
//
// Each factory returns an Ablation whose `hooks` work with forward / runWithHooks / generate. It
// owns the dataset statistics it computed: dispose it when done (or `using ablation = ...`).

import type { Hook } from '../hooks/hook-set.js';
import type { MaskInput, TokenInput } from '../models/inputs.js';
import type { HookedTransformer } from '../models/transformer.js';
import { Rng, full, noGrad, tensor, tidy, where } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, IndexError, ShapeError, fmtShape } from '../util/errors.js';
import { datasetActivations, datasetMeans, type DatasetOptions } from './ablation-stats.js';
import { metricValue, type Metric } from './metrics.js';

export type AblationTarget =
  | { readonly kind: 'head'; readonly layer: number; readonly heads: number | readonly number[] }
  | { readonly kind: 'neuron'; readonly layer: number; readonly neurons: number | readonly number[] }
  | { readonly kind: 'attn'; readonly layer: number }
  | { readonly kind: 'mlp'; readonly layer: number };

export interface Ablation {
  readonly hooks: readonly Hook[];
  dispose(): void;
  [Symbol.dispose](): void;
}

/** Where a target lives: the hook, the activation axis indexed, and the indices (null: the whole activation). */
interface Site {
  name: string;
  axis: number;
  indices: Set<number> | null;
}

function siteOf(model: HookedTransformer, target: AblationTarget): Site {
  const c = model.config;
  if (!Number.isInteger(target.layer) || target.layer < 0 || target.layer >= c.nLayers) {
    throw new IndexError(`ablation ${target.kind}: layer ${target.layer} is out of range 0..${c.nLayers - 1}`);
  }
  const listed = (value: number | readonly number[], size: number, what: string) => {
    const list = typeof value === 'number' ? [value] : [...value];
    for (const i of list) if (!Number.isInteger(i) || i < 0 || i >= size) throw new IndexError(`ablation: ${what} ${i} is out of range 0..${size - 1}`);
    return new Set(list);
  };
  const l = target.layer;
  switch (target.kind) {
    case 'head': return { name: `blocks.${l}.attn.hook_z`, axis: 2, indices: listed(target.heads, c.nHeads, 'head') };
    case 'neuron': return { name: `blocks.${l}.mlp.hook_post`, axis: 2, indices: listed(target.neurons, c.dMlp, 'neuron') };
    case 'attn': return { name: `blocks.${l}.hook_attn_out`, axis: 2, indices: null };
    case 'mlp': return { name: `blocks.${l}.hook_mlp_out`, axis: 2, indices: null };
    default: {
      const kind = (target as { kind?: unknown }).kind;
      throw new ArgumentError(`ablation target kind must be 'head', 'neuron', 'attn' or 'mlp', got ${JSON.stringify(kind)}`);
    }
  }
}

/** Targets merged per hook (a whole-activation target absorbs index lists at the same hook). */
function sitesOf(model: HookedTransformer, targets: AblationTarget | readonly AblationTarget[]): Site[] {
  const list = Array.isArray(targets) ? targets : [targets as AblationTarget];
  if (list.length === 0) throw new ArgumentError('ablation: no targets given');
  const byName = new Map<string, Site>();
  for (const target of list) {
    const site = siteOf(model, target);
    const seen = byName.get(site.name);
    if (seen === undefined) byName.set(site.name, site);
    else if (seen.indices === null || site.indices === null) seen.indices = null;
    else for (const i of site.indices) seen.indices.add(i);
  }
  return [...byName.values()];
}

/** A hook replacing the site's region of the activation by `replacement(act)` (broadcast to the activation). */
function siteHook(site: Site, replacement: (act: Tensor) => Tensor | number): Hook {
  return {
    name: site.name,
    fn: (act) => {
      if (site.indices === null) {
        const value = replacement(act);
        if (typeof value === 'number') return full(act.shape, value, { dtype: act.dtype, backend: act.backend });
        return value.expand(act.shape).contiguous();
      }
      const size = act.shape[site.axis];
      const maskShape = act.shape.map((d, i) => (i === site.axis ? d : 1));
      const data = new Float32Array(size);
      for (const i of site.indices) data[i] = 1;
      const mask = tensor(data, maskShape, { dtype: act.dtype, backend: act.backend });
      return where(mask, replacement(act), act);
    },
  };
}

function ablation(hooks: Hook[], owned: Iterable<Tensor>): Ablation {
  const tensors = [...owned];
  const dispose = () => { for (const t of tensors) t.dispose(); };
  return { hooks, dispose, [Symbol.dispose]: dispose };
}

/** Replaces the targets with zeros. */
export function zeroAblation(model: HookedTransformer, targets: AblationTarget | readonly AblationTarget[]): Ablation {
  return ablation(sitesOf(model, targets).map((site) => siteHook(site, () => 0)), []);
}

/**
 * Replaces the targets with their mean over the dataset's rows and positions (usable at any
 * length, KV-cached generation included), or, with perPosition, per position (inputs must then
 * have the dataset's length).
 */
export function meanAblation(model: HookedTransformer, targets: AblationTarget | readonly AblationTarget[],
  options: DatasetOptions & { perPosition?: boolean }): Ablation {
  const sites = sitesOf(model, targets);
  const means = datasetMeans(model, sites.map((s) => s.name), options);
  const hooks = sites.map((site) => siteHook(site, (act) => {
    const mean = means.get(site.name) as Tensor;
    if (options.perPosition && mean.shape[1] !== act.shape[1]) {
      throw new ShapeError(`per-position mean ablation at '${site.name}': the input has ${act.shape[1]} positions, the dataset ${mean.shape[1]}`);
    }
    return mean;
  }));
  return ablation(hooks, means.values());
}

/**
 * Replaces the targets, in each batch row, with their values on a random other dataset row (seeded;
 * a new draw per forward pass; row b never draws row b, so ablating the dataset itself resamples
 * from other prompts). Inputs must have the dataset's length.
 */
export function resampleAblation(model: HookedTransformer, targets: AblationTarget | readonly AblationTarget[],
  options: DatasetOptions & { seed?: number }): Ablation {
  const sites = sitesOf(model, targets);
  const sources = datasetActivations(model, sites.map((s) => s.name), options);
  const rows = (sources.values().next().value as Tensor).shape[0];
  const rng = new Rng(options.seed ?? 0);
  const hooks = sites.map((site) => siteHook(site, (act) => {
    const source = sources.get(site.name) as Tensor;
    if (source.shape[1] !== act.shape[1]) {
      throw new ShapeError(`resample ablation at '${site.name}': the input has ${act.shape[1]} positions, the dataset rows ${source.shape[1]} (shape ${fmtShape(source.shape)})`);
    }
    const picks = Array.from({ length: act.shape[0] }, (_, b) => drawOther(rng, rows, b));
    return source.indexSelect(0, tensor(Int32Array.from(picks), [picks.length], { dtype: 'int32', backend: act.backend }));
  }));
  return ablation(hooks, sources.values());
}

/** Uniform over [0, rows) without `avoid` (when there is another row to take). */
function drawOther(rng: Rng, rows: number, avoid: number): number {
  if (rows === 1 || avoid >= rows) return rng.int(0, rows);
  const pick = rng.int(0, rows - 1);
  return pick >= avoid ? pick + 1 : pick;
}

/** The metric with and without the ablation, on the same tokens. */
export function ablationEffect(model: HookedTransformer, tokens: TokenInput, ablated: Ablation | readonly Hook[], metric: Metric,
  options: { attentionMask?: MaskInput } = {}): { clean: number; ablated: number; effect: number } {
  const hooks = Array.isArray(ablated) ? (ablated as readonly Hook[]) : (ablated as Ablation).hooks;
  const run = (withHooks: readonly Hook[]) => noGrad(() => tidy(() => metricValue(metric, model.forward(tokens, {
    hooks: withHooks, attentionMask: options.attentionMask, logitPositions: metric.logitPositions ?? 'all',
  }))));
  const clean = run([]);
  const value = run(hooks);
  return { clean, ablated: value, effect: value - clean };
}
