// The activations one run recorded, keyed by hook name (TransformerLens's ActivationCache).
// The cache owns its tensors: dispose it (or `using cache = ...`) to free them.

import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../util/errors.js';
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

  /** Gradient recorded at `name` by a backward pass through the cached run. */
  grad(name: string): Tensor {
    this.assertLive();
    const g = this.gradients.get(name);
    if (g === undefined) throw new ArgumentError(this.missing(name, [...this.gradients.keys()], 'gradient'));
    return g;
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

  gradientEntries(): [string, Tensor][] {
    this.assertLive();
    return [...this.gradients.entries()];
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
    if (this.disposed) throw new ArgumentError('ActivationCache was disposed');
  }

  private missing(name: string, available: string[], what: string): string {
    const close = closestMatches(name, available);
    const hint = close.length ? ` Did you mean ${close.map((c) => `'${c}'`).join(', ')}?` : '';
    return `no cached ${what} '${name}' (cached: ${available.length ? available.length + ' names' : 'none'}).${hint}`;
  }
}
