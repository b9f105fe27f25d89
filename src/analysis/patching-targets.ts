// What an activation-patching sweep patches: for each kind of activation (TransformerLens's
// get_act_patch_* family), the hook point per layer, the axes the result is indexed by, and the
// region of the activation each patch replaces.

import type { ModelConfig } from '../models/config.js';
import { ArgumentError } from '../util/errors.js';
import type { SlotRegion } from './sweep-runtime.js';

/**
 * resid_pre / resid_mid / attn_out / mlp_out: per (layer, pos). z / q / k / v / pattern: per
 * (layer, head) over all positions; the *_by_pos kinds per (layer, pos, head), pattern_by_pos per
 * (layer, head, dest_pos). Under grouped-query attention k and v have nKvHeads heads.
 */
export type PatchTarget =
  | 'resid_pre' | 'resid_mid' | 'attn_out' | 'mlp_out'
  | 'z' | 'q' | 'k' | 'v' | 'pattern'
  | 'z_by_pos' | 'q_by_pos' | 'k_by_pos' | 'v_by_pos' | 'pattern_by_pos';

export const PATCH_TARGETS: readonly PatchTarget[] = [
  'resid_pre', 'resid_mid', 'attn_out', 'mlp_out', 'z', 'q', 'k', 'v', 'pattern',
  'z_by_pos', 'q_by_pos', 'k_by_pos', 'v_by_pos', 'pattern_by_pos',
];

/** One patch: replace `region` of the activation at `hook` (all batch rows) with the clean one. */
export interface Patch {
  readonly hook: string;
  readonly layer: number;
  /** One index per activation axis after batch; null keeps the whole axis. */
  readonly region: readonly (number | null)[];
  /** Flat position of this patch's value in the result. */
  readonly slot: number;
}

/** A sweep: every patch, and the shape and axis names of the result. */
export interface PatchPlan {
  readonly patches: readonly Patch[];
  readonly shape: readonly number[];
  readonly axes: readonly string[];
  /** Names of the entries of categorical axes (e.g. component: resid_pre, attn_out, mlp_out). */
  readonly labels?: Readonly<Record<string, readonly string[]>>;
}

interface TargetInfo {
  hook: (layer: number) => string;
  axes: readonly string[];
  /** Region of the patch at these indices (after layer). */
  region: (indices: readonly number[]) => (number | null)[];
}

function targetInfo(target: PatchTarget, c: ModelConfig): TargetInfo {
  const block = (suffix: string) => (l: number) => `blocks.${l}.${suffix}`;
  const byPos: Omit<TargetInfo, 'hook'> = { axes: ['layer', 'pos'], region: ([p]) => [p] };
  const headAllPos: Omit<TargetInfo, 'hook'> = { axes: ['layer', 'head'], region: ([h]) => [null, h] };
  const headByPos: Omit<TargetInfo, 'hook'> = { axes: ['layer', 'pos', 'head'], region: ([p, h]) => [p, h] };
  switch (target) {
    case 'resid_pre': return { hook: block('hook_resid_pre'), ...byPos };
    case 'resid_mid':
      if (c.parallelResidual) throw new ArgumentError('resid_mid does not exist in a parallel-residual model (attention and MLP both read resid_pre)');
      return { hook: block('hook_resid_mid'), ...byPos };
    case 'attn_out': return { hook: block('hook_attn_out'), ...byPos };
    case 'mlp_out': return { hook: block('hook_mlp_out'), ...byPos };
    case 'z': case 'q': case 'k': case 'v': return { hook: block(`attn.hook_${target}`), ...headAllPos };
    case 'z_by_pos': case 'q_by_pos': case 'k_by_pos': case 'v_by_pos':
      return { hook: block(`attn.hook_${target.slice(0, 1)}`), ...headByPos };
    case 'pattern': return { hook: block('attn.hook_pattern'), axes: ['layer', 'head'], region: ([h]) => [h] };
    case 'pattern_by_pos':
      return { hook: block('attn.hook_pattern'), axes: ['layer', 'head', 'dest_pos'], region: ([h, p]) => [h, p] };
    default:
      return target satisfies never;
  }
}

function axisSize(axis: string, target: PatchTarget, c: ModelConfig, pos: number): number {
  if (axis === 'layer') return c.nLayers;
  if (axis === 'pos' || axis === 'dest_pos') return pos;
  const kv = target === 'k' || target === 'v' || target === 'k_by_pos' || target === 'v_by_pos';
  return kv ? c.nKvHeads : c.nHeads;
}

/** Every (layer, ...) patch of one target, in row-major order of the result. */
export function planFor(target: PatchTarget, c: ModelConfig, pos: number): PatchPlan {
  if (!PATCH_TARGETS.includes(target)) {
    throw new ArgumentError(`unknown patch target '${String(target)}'; expected one of ${PATCH_TARGETS.join(', ')}`);
  }
  const info = targetInfo(target, c);
  const shape = info.axes.map((axis) => axisSize(axis, target, c, pos));
  const patches: Patch[] = [];
  forEachIndex(shape, (index, slot) => {
    const [layer, ...rest] = index;
    patches.push({ hook: info.hook(layer), layer, region: info.region(rest), slot });
  });
  return { patches, shape, axes: info.axes };
}

/**
 * Several targets with the same axes stacked along a leading 'component' axis (TL's
 * get_act_patch_block_every and get_act_patch_attn_head_all_pos_every). Targets with fewer heads
 * (k and v under grouped-query attention) leave the missing entries NaN.
 */
export function stackedPlan(targets: readonly PatchTarget[], c: ModelConfig, pos: number): PatchPlan {
  const plans = targets.map((t) => planFor(t, c, pos));
  const axes = plans[0].axes;
  for (const plan of plans) {
    if (plan.axes.join() !== axes.join()) throw new ArgumentError(`cannot stack targets with axes [${plan.axes.join(', ')}] and [${axes.join(', ')}]`);
  }
  const shape = axes.map((_, i) => Math.max(...plans.map((p) => p.shape[i])));
  const size = shape.reduce((a, b) => a * b, 1);
  const patches: Patch[] = [];
  plans.forEach((plan, component) => {
    forEachIndex(plan.shape, (index, slot) => {
      const flat = index.reduce((acc, i, axis) => acc * shape[axis] + i, 0);
      patches.push({ ...plan.patches[slot], slot: component * size + flat });
    });
  });
  return { patches, shape: [targets.length, ...shape], axes: ['component', ...axes], labels: { component: [...targets] } };
}

/** The regions of the patches that share one hook in a chunk, by their slot within the chunk. */
export function regionsByHook(patches: readonly Patch[]): Map<string, SlotRegion[]> {
  const byHook = new Map<string, SlotRegion[]>();
  patches.forEach((p, slot) => {
    const list = byHook.get(p.hook) ?? [];
    list.push({ slot, region: p.region });
    byHook.set(p.hook, list);
  });
  return byHook;
}

function forEachIndex(shape: readonly number[], fn: (index: number[], flat: number) => void): void {
  const size = shape.reduce((a, b) => a * b, 1);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < size; flat++) {
    fn([...index], flat);
    for (let axis = shape.length - 1; axis >= 0 && ++index[axis] === shape[axis]; axis--) index[axis] = 0;
  }
}
