// How a batched sweep groups patches into forward passes, and which part of each pass it can skip.
//
// Two facts about a patch at (layer l, position p) in a causal model:
//   - blocks below l compute exactly what they compute in the corrupted run;
//   - positions before p keep their corrupted values in every block (attention looks back only).
// So a pass over patches at layers >= l and positions >= p can start at block l, feed only
// positions p.. (the "suffix") and take the keys and values of positions < p from the corrupted
// run through a KV cache. Patches are sorted by layer, then by position from the last one back, and
// a pass is closed once it holds enough token rows to keep the matmuls efficient: later positions
// get short suffixes, early ones share long ones.

import type { HookPointInfo } from '../hooks/hook-set.js';
import type { LogitPositions } from './metrics.js';
import type { Patch } from './patching-targets.js';

/** A pass is closed once its stacked input has this many token rows (n copies × batch × suffix). */
const TARGET_TOKEN_ROWS = 128;

export interface Pass {
  /** Indices into the sweep's patches. */
  readonly indices: number[];
  /** First block the pass runs. */
  readonly startLayer: number;
  /** Positions before this one come from the corrupted run's KV cache (0: the whole prompt runs). */
  readonly prefix: number;
}

/** Where the patch's region starts along the positions (0 when it spans all of them). */
export function firstAffectedPosition(patch: Patch, points: ReadonlyMap<string, HookPointInfo>): number {
  const axes = points.get(patch.hook)?.axes ?? [];
  // Axes after batch: 'pos' for residuals and q/k/v/z, 'query_pos' for patterns (a pattern row
  // changes only its own query position's output).
  const axis = axes.findIndex((a) => a === 'pos' || a === 'query_pos') - 1;
  if (axis < 0) return 0;
  const index = patch.region[axis];
  return index === null || index === undefined ? 0 : index;
}

/** The latest prefix the metric's logit positions allow (they must all lie in the suffix). */
export function maxPrefixFor(positions: LogitPositions, pos: number): number {
  if (positions === 'all') return 0;
  if (positions === 'last') return pos - 1;
  return Math.max(0, Math.min(...positions.map((p) => (p < 0 ? pos + p : p))));
}

/** The logit positions in suffix coordinates. */
export function suffixLogitPositions(positions: LogitPositions, prefix: number): LogitPositions {
  if (positions === 'all' || positions === 'last' || prefix === 0) return positions;
  return positions.map((p) => (p < 0 ? p : p - prefix));
}

/**
 * Groups patches into passes of at most `perPass` copies. `maxPrefix` 0 turns the suffix trick
 * off (padding masks, or a metric that reads every position).
 */
export function planPasses(patches: readonly Patch[], first: readonly number[], perPass: number,
  batch: number, pos: number, maxPrefix: number): Pass[] {
  const order = patches.map((_, i) => i).sort((a, b) => patches[a].layer - patches[b].layer || first[b] - first[a] || a - b);
  const passes: Pass[] = [];
  let current: number[] = [];
  let prefix = pos;
  const close = () => {
    if (current.length === 0) return;
    passes.push({ indices: current, startLayer: patches[current[0]].layer, prefix: Math.min(prefix, maxPrefix) });
    current = [];
    prefix = pos;
  };
  for (const i of order) {
    if (current.length > 0) {
      const full = current.length === perPass;
      // With the suffix trick a pass stays within one layer, and stops growing once it is big enough
      // unless the next patch fits its suffix as it is.
      const suffixTrick = maxPrefix > 0;
      const otherLayer = suffixTrick && patches[i].layer !== patches[current[0]].layer;
      const lengthens = first[i] < prefix && first[i] < maxPrefix;
      const bigEnough = suffixTrick && lengthens && current.length * batch * (pos - Math.min(prefix, maxPrefix)) >= TARGET_TOKEN_ROWS;
      if (full || otherLayer || bigEnough) close();
    }
    current.push(i);
    prefix = Math.min(prefix, first[i]);
  }
  close();
  return passes;
}
