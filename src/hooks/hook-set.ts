// Hooks for one run. A HookPoint in TransformerLens is an identity module named by its path; here
// the forward pass calls `hooks.apply(name, x)` at each of those places, and only the HookSet of
// the current call can see or change the activation — hooks are never global state, so concurrent
// runs (the server, a UI) never see each other's hooks, and nothing needs removing afterwards.

import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, ShapeError, fmtShape } from '../util/errors.js';
import { closestMatches } from '../util/closest.js';

export interface HookPointInfo {
  /** TransformerLens name, e.g. 'blocks.3.attn.hook_pattern'. */
  readonly name: string;
  /** Block index, or null for hooks outside the blocks (hook_embed, ln_final...). */
  readonly layer: number | null;
  /** Axis names of the activation, e.g. ['batch', 'head', 'query_pos', 'key_pos']. */
  readonly axes: readonly string[];
}

/**
 * Reads the activation and optionally returns a replacement of the same shape (a patched copy,
 * e.g. `x.indexPut([null, null, 3], other)`). Returning nothing keeps the activation.
 */
export type HookFn = (activation: Tensor, point: HookPointInfo) => Tensor | void | undefined;

/** Which hook points a hook applies to: a name, several names, a pattern or a predicate. */
export type HookFilter = string | readonly string[] | RegExp | ((name: string) => boolean);

export interface Hook {
  readonly name: HookFilter;
  readonly fn: HookFn;
}

/** Thrown for a hook name the model does not have; the message lists the closest real names. */
export class UnknownHookError extends ArgumentError {
  override name = 'UnknownHookError';
}

/** Resolve a filter to the matching names among `points`; exact names must exist. */
export function matchHookNames(filter: HookFilter, points: readonly HookPointInfo[]): string[] {
  const names = points.map((p) => p.name);
  if (typeof filter === 'string' || Array.isArray(filter)) {
    const wanted = typeof filter === 'string' ? [filter] : (filter as readonly string[]);
    for (const name of wanted) {
      if (!names.includes(name)) {
        const close = closestMatches(name, names);
        const hint = close.length ? `; did you mean ${close.map((c) => `'${c}'`).join(', ')}?` : '';
        throw new UnknownHookError(`unknown hook point '${name}'${hint} (the model has ${names.length} hook points; list them with model.hookPoints)`);
      }
    }
    return [...wanted];
  }
  if (filter instanceof RegExp) return names.filter((n) => filter.test(n));
  if (typeof filter === 'function') return names.filter((n) => (filter as (name: string) => boolean)(n));
  throw new ArgumentError(`hook filter must be a name, a list of names, a RegExp or a predicate, got ${typeof filter}`);
}

export class HookSet {
  private readonly byName = new Map<string, HookFn[]>();
  private readonly points = new Map<string, HookPointInfo>();

  /** An empty set: the forward pass runs without hooks at near-zero cost. */
  static readonly none = new HookSet([], []);

  constructor(hooks: readonly Hook[], points: readonly HookPointInfo[]) {
    for (const p of points) this.points.set(p.name, p);
    for (const hook of hooks) {
      if (typeof hook?.fn !== 'function') throw new ArgumentError(`hook for ${String(hook?.name)}: fn must be a function`);
      for (const name of matchHookNames(hook.name, points)) {
        const list = this.byName.get(name);
        if (list) list.push(hook.fn);
        else this.byName.set(name, [hook.fn]);
      }
    }
  }

  get size(): number {
    return this.byName.size;
  }

  /** Whether any hook listens at `name` (lets the forward pass skip work, e.g. unfused softmax). */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Runs the hooks registered at `name` in order, each seeing the previous one's output. A hook's
   * replacement must keep the shape (ShapeError naming the hook point otherwise).
   */
  apply(name: string, activation: Tensor): Tensor {
    const fns = this.byName.get(name);
    if (fns === undefined) return activation;
    const point = this.points.get(name) ?? { name, layer: null, axes: [] };
    let current = activation;
    for (const fn of fns) {
      const result = fn(current, point);
      if (result === undefined || result === null) continue;
      if (typeof (result as Tensor).shape !== 'object') {
        throw new ArgumentError(`hook at '${name}' returned ${typeof result}; a hook returns a Tensor or nothing`);
      }
      if (!sameShape(result.shape, current.shape)) {
        throw new ShapeError(`hook at '${name}' returned shape ${fmtShape(result.shape)}; expected ${fmtShape(current.shape)} (${point.axes.join(', ')})`);
      }
      if (result.dtype !== current.dtype) {
        throw new ShapeError(`hook at '${name}' returned dtype ${result.dtype}; expected ${current.dtype}`);
      }
      current = result;
    }
    return current;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
