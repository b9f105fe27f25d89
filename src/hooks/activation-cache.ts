// The activations one run recorded, keyed by hook name (TransformerLens's ActivationCache).
// The cache owns its tensors: dispose it (or `using cache = ...`) to free them.

import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, UseAfterFreeError } from '../util/errors.js';
import { closestMatches } from '../util/closest.js';
import type { HookPointInfo } from './hook-set.js';

export class ActivationCache {
  private readonly tensors = new Map<string, Tensor>();
  private readonly gradients = new Map<string, Tensor>();
  private readonly info = new Map<string, HookPointInfo>();
  private disposed = false;

  /** @internal Called by the forward pass; takes ownership of `activation`. */
  store(point: HookPointInfo, activation: Tensor): void {
    const previous = this.tensors.get(point.name);
    if (previous && previous !== activation) previous.dispose();
    this.tensors.set(point.name, activation);
    this.info.set(point.name, point);
  }

  /** @internal Gradients of the loss w.r.t. cached activations (runWithCache({ backward: true })). */
  storeGradient(name: string, grad: Tensor): void {
    this.gradients.get(name)?.dispose();
    this.gradients.set(name, grad);
  }

  get names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The activation recorded at `name`; the cache keeps owning it. */
  get(name: string): Tensor {
    this.assertLive();
    const t = this.tensors.get(name);
    if (t === undefined) throw new ArgumentError(this.missing(name, this.names, 'activation'));
    return t;
  }

  /**
   * Gradient of the last backward pass at the activation cached as `name`: the activation's
   * retained `.grad` (runWithCache retains it when the activation requires grad), or one stored by
   * storeGradient. The cache owns it. Throws naming the activations that have one.
   */
  grad(name: string): Tensor {
    this.assertLive();
    const g = this.gradients.get(name) ?? this.tensors.get(name)?.grad ?? null;
    if (g !== null) return g;
    const withGrad = this.gradientEntries().map(([n]) => n);
    if (this.tensors.has(name)) {
      const why = this.tensors.get(name)?.requiresGrad
        ? 'run backward() on a loss computed from this run first'
        : 'it does not depend on any tensor that requires grad';
      throw new ArgumentError(`no gradient at '${name}': ${why} (${withGrad.length} cached activations have one)`);
    }
    throw new ArgumentError(this.missing(name, withGrad, 'gradient'));
  }

  /** Axis names and layer of a cached activation. */
  pointInfo(name: string): HookPointInfo {
    this.get(name);
    return this.info.get(name) as HookPointInfo;
  }

  entries(): [string, Tensor][] {
    this.assertLive();
    return [...this.tensors.entries()];
  }

  /** Every cached activation that has a gradient (see `grad`), with it. */
  gradientEntries(): [string, Tensor][] {
    this.assertLive();
    const entries = new Map(this.gradients);
    for (const [name, t] of this.tensors) if (!entries.has(name) && t.grad !== null) entries.set(name, t.grad);
    return [...entries.entries()];
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.tensors.values()) t.dispose();
    for (const g of this.gradients.values()) g.dispose();
    this.tensors.clear();
    this.gradients.clear();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new UseAfterFreeError('ActivationCache was disposed');
  }

  private missing(name: string, available: string[], what: string): string {
    const close = closestMatches(name, available);
    const hint = close.length ? ` Did you mean ${close.map((c) => `'${c}'`).join(', ')}?` : '';
    return `no cached ${what} '${name}' (cached: ${available.length ? available.length + ' names' : 'none'}).${hint}`;
  }
}
