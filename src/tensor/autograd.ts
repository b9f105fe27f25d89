// Reverse-mode autograd. Ops record a GradNode when grad mode is on and an input requires grad;
// each node has one backward rule written with tensor ops. Nodes are refcounted by the tensors
// they produced and by the nodes that consume them, so a graph lives exactly as long as some
// output of it is alive: `tidy(() => loss = f(params))` disposes the intermediates but the loss
// keeps their nodes (and the buffers saved for backward) until backward or loss.dispose().

import { GradError, ShapeError, fmtShape } from '../util/errors.js';
import { sameShape, type Shape } from './shape.js';
import { keep, tidy } from './scope.js';
import { Tensor, allocTensor, untrackedAlias, viewTensor } from './tensor.js';

/**
 * Returns one gradient per input (null where none flows), each of that input's shape.
 * `needs[i]` is false when input i wants no gradient, so the rule may skip computing it.
 */
export type BackwardFn = (grad: Tensor, saved: readonly Tensor[], needs: readonly boolean[]) => ReadonlyArray<Tensor | null>;

export interface BackwardOptions {
  /** Keep saved buffers so backward can run through this graph again. */
  retainGraph?: boolean;
}

/** Global grad mode; read in every op's hot path, so a plain mutable field. */
export const gradState = { enabled: true };

export class GradNode {
  /** Per input: the node that produced it, the leaf tensor to accumulate into, or null. */
  readonly inputs: (GradNode | Tensor | null)[];
  readonly inputShapes: Shape[];
  saved: Tensor[];
  private readonly savedVersions: number[];
  private readonly hadSaved: boolean;
  refs = 0;
  freed = false;
  /** Non-leaf tensor that asked for its `.grad` (retainGrad). */
  retainedBy: Tensor | null = null;

  constructor(readonly op: string, inputs: readonly Tensor[], readonly rule: BackwardFn, saved: readonly Tensor[]) {
    this.inputs = inputs.map((t) => {
      if (t.gradFn !== null) {
        t.gradFn.refs++;
        return t.gradFn;
      }
      return t.requiresGrad ? t : null;
    });
    this.inputShapes = inputs.map((t) => t.shape);
    this.saved = saved.map(untrackedAlias);
    this.savedVersions = saved.map((t) => t.shared.version);
    this.hadSaved = saved.length > 0;
  }

  checkSaved(): void {
    if (this.freed && this.hadSaved) {
      throw new GradError(`backward through '${this.op}' a second time: its saved tensors were freed; pass { retainGraph: true } to the first backward`);
    }
    for (let i = 0; i < this.saved.length; i++) {
      if (this.saved[i].shared.version !== this.savedVersions[i]) {
        throw new GradError(`backward of '${this.op}': a tensor it saved (shape ${fmtShape(this.saved[i].shape)}) was modified in place after the forward pass`);
      }
    }
  }

  releaseSaved(): void {
    for (const t of this.saved) t.dispose();
    this.saved = [];
    this.freed = true;
  }
}

/** True when an op on these inputs must record a node. */
export function needsGrad(a: Tensor, b?: Tensor | null, c?: Tensor | null): boolean {
  return gradState.enabled && (a.requiresGrad || (b != null && b.requiresGrad) || (c != null && c.requiresGrad));
}

/**
 * Attaches a node to `out`. `saved` tensors stay alive (own buffer references) until backward
 * has used them or the graph is disposed; the rule must read them from its `saved` argument,
 * never from the closure, because the originals may be disposed by a tidy before backward.
 */
export function record(op: string, out: Tensor, inputs: readonly Tensor[], rule: BackwardFn, saved: readonly Tensor[] = []): void {
  if (out.gradFn !== null) throw new GradError(`internal: '${op}' recorded onto a tensor that already has a node ('${out.gradFn.op}')`);
  const node = new GradNode(op, inputs, rule, saved);
  node.refs++;
  out.gradFn = node;
  out.requiresGrad = true;
}

/** Drops one reference; a node nobody references frees its saved tensors and drops its inputs. */
export function unrefNode(node: GradNode): void {
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (--n.refs > 0) continue;
    n.releaseSaved();
    for (const input of n.inputs) if (input instanceof GradNode) stack.push(input);
    n.inputs.length = 0;
  }
}

export function retainGrad(t: Tensor): void {
  t.assertLive('retainGrad');
  if (!t.requiresGrad) throw new GradError(`retainGrad: tensor of shape ${fmtShape(t.shape)} does not require grad`);
  if (t.gradFn !== null) t.gradFn.retainedBy = t;
}

/** Runs fn with gradient recording off (restored afterwards, also on throw). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradState.enabled;
  gradState.enabled = false;
  try {
    return fn();
  } finally {
    gradState.enabled = previous;
  }
}

/** Runs fn with gradient recording on (inside a noGrad, for example). */
export function enableGrad<T>(fn: () => T): T {
  const previous = gradState.enabled;
  gradState.enabled = true;
  try {
    return fn();
  } finally {
    gradState.enabled = previous;
  }
}

export function isGradEnabled(): boolean {
  return gradState.enabled;
}

/** Nodes reachable from root, each before all of the nodes it consumes from. */
function topologicalOrder(root: GradNode): GradNode[] {
  const postOrder: GradNode[] = [];
  const visited = new Set<GradNode>([root]);
  const stack: [GradNode, number][] = [[root, 0]];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    const [node, next] = frame;
    if (next < node.inputs.length) {
      frame[1]++;
      const input = node.inputs[next];
      if (input instanceof GradNode && !visited.has(input)) {
        visited.add(input);
        stack.push([input, 0]);
      }
    } else {
      postOrder.push(node);
      stack.pop();
    }
  }
  return postOrder.reverse();
}

function accumulate(existing: Tensor | null, grad: Tensor): Tensor {
  // Gradients are stored dense so optimizers and users can treat them as plain tensors.
  const dense = grad.isContiguous() && grad.offset === 0 && grad.storage.length === grad.size
    ? viewTensor(grad, grad.shape, grad.strides, 0)
    : grad.contiguous();
  if (existing === null) return dense;
  const sum = existing.add(dense);
  dense.dispose();
  return sum;
}

function accumulateInto(t: Tensor, grad: Tensor): void {
  const previous = t.grad;
  t.grad = keep(accumulate(previous, grad));
  if (previous !== null) previous.dispose();
}

/**
 * The engine. Accumulates into leaves' `.grad`, or, when `capture` is given, returns gradients
 * for exactly those tensors (zeros where unreached) and leaves every `.grad` untouched.
 */
export function runBackward(root: Tensor, seed: Tensor | undefined, retainGraph: boolean, capture: readonly Tensor[] | null): Tensor[] {
  root.assertLive('backward');
  if (!root.requiresGrad) {
    throw new GradError(`backward: tensor of shape ${fmtShape(root.shape)} does not require grad (no input required grad, or it was computed under noGrad)`);
  }
  if (seed === undefined && root.size !== 1) {
    throw new GradError(`backward: tensor of shape ${fmtShape(root.shape)} is not a scalar; pass a seed gradient of that shape`);
  }
  if (seed !== undefined) {
    seed.assertLive('backward (seed)');
    if (!sameShape(seed.shape, root.shape)) throw new ShapeError(`backward: seed shape ${fmtShape(seed.shape)} differs from the output's ${fmtShape(root.shape)}`);
  }
  return noGrad(() => tidy(() => {
    const captured = new Map<Tensor, Tensor | null>((capture ?? []).map((t) => [t, null]));
    const toLeaf = (leaf: Tensor, g: Tensor): void => {
      if (capture !== null) {
        if (captured.has(leaf)) captured.set(leaf, accumulate(captured.get(leaf)!, g));
      } else if (!leaf.isDisposed) {
        accumulateInto(leaf, g);
      }
    };
    const seedGrad = seed !== undefined ? seed.toType(root.dtype) : onesOf(root);
    if (root.gradFn === null) {
      toLeaf(root, seedGrad);
    } else {
      propagate(root.gradFn, seedGrad, retainGraph, toLeaf);
    }
    if (capture === null) return [];
    return capture.map((t) => captured.get(t) ?? zerosOf(t));
  }));
}

function propagate(root: GradNode, seed: Tensor, retainGraph: boolean, toLeaf: (leaf: Tensor, g: Tensor) => void): void {
  const pending = new Map<GradNode, Tensor>([[root, seed]]);
  for (const node of topologicalOrder(root)) {
    const g = pending.get(node);
    if (g === undefined) continue;
    pending.delete(node);
    if (node.retainedBy !== null && !node.retainedBy.isDisposed) accumulateInto(node.retainedBy, g);
    node.checkSaved();
    const needs = node.inputs.map((input) => input !== null);
    const inputGrads = tidy(() => [...node.rule(g, node.saved, needs)]);
    for (let i = 0; i < node.inputs.length; i++) {
      const input = node.inputs[i];
      const gi = inputGrads[i];
      if (input === null || gi === null || gi === undefined) continue;
      if (!sameShape(gi.shape, node.inputShapes[i])) {
        throw new GradError(`internal: backward of '${node.op}' gave input ${i} a gradient of shape ${fmtShape(gi.shape)}, expected ${fmtShape(node.inputShapes[i])}`);
      }
      if (input instanceof GradNode) {
        const previous = pending.get(input);
        pending.set(input, previous === undefined ? viewTensor(gi, gi.shape, gi.strides, gi.offset) : previous.add(gi));
        previous?.dispose();
      } else {
        toLeaf(input, gi);
      }
    }
    for (const gi of inputGrads) gi?.dispose();
    g.dispose();
    if (!retainGraph) node.releaseSaved();
  }
  for (const leftover of pending.values()) leftover.dispose();
}

function onesOf(t: Tensor): Tensor {
  const out = zerosOf(t);
  t.backend.fill(out.storage, 1, 0, out.size);
  return out;
}

function zerosOf(t: Tensor): Tensor {
  return allocTensor(t.backend, t.dtype, t.shape);
}

export function backward(root: Tensor, seed?: Tensor, options?: BackwardOptions): void {
  runBackward(root, seed, options?.retainGraph ?? false, null);
}

/** Gradients of fn's scalar output w.r.t. each input; `.grad` fields are not touched. */
export function grad(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[]): Tensor[] {
  const { value, grads } = valueAndGrad(fn, inputs);
  value.dispose();
  return grads;
}

/** fn's output (detached) and its gradients w.r.t. each input. The caller owns all of them. */
export function valueAndGrad(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[]): { value: Tensor; grads: Tensor[] } {
  return tidy(() => {
    const leaves = inputs.map((x) => x.detach().requiresGrad_());
    const value = enableGrad(() => fn(...leaves));
    if (!(value instanceof Tensor)) throw new GradError('grad: fn must return a Tensor');
    const grads = value.requiresGrad ? runBackward(value, undefined, false, leaves) : leaves.map(zerosOf);
    return { value: value.detach(), grads };
  });
}
