// Reads named weights for an architecture mapping, checking each against the shape the config
// implies, so a config/checkpoint mismatch fails at load with both shapes named — never later as a
// confusing matmul error.

import type { Tensor } from '../tensor/tensor.js';
import { FormatError, ShapeError, fmtShape } from '../util/errors.js';
import { closestMatches } from '../util/closest.js';
import type { Linear, NormParams } from './params.js';

/** Where weights come from: a loaded checkpoint, or tensors built in memory. */
export interface WeightSource {
  /** Names available (for "did you mean" and prefix detection). */
  readonly names: readonly string[];
  /** The tensor of that name; the returned tensor is owned by the model afterwards. */
  get(name: string): Tensor;
  /** Where the weights come from, for messages (a path or 'memory'). */
  readonly description: string;
}

/** A missing tensor; the message names the closest names the checkpoint has. */
export class MissingWeightError extends FormatError {
  override name = 'MissingWeightError';
}

export class WeightReader {
  readonly named = new Map<string, Tensor>();
  private readonly available: Set<string>;

  constructor(private readonly source: WeightSource, readonly prefix = '') {
    this.available = new Set(source.names);
  }

  has(name: string): boolean {
    return this.available.has(this.prefix + name);
  }

  /** The tensor `prefix + name`, checked to have `shape`. */
  take(name: string, shape: readonly number[]): Tensor {
    const full = this.prefix + name;
    const cached = this.named.get(full);
    if (cached) return this.checkShape(full, cached, shape);
    if (!this.available.has(full)) {
      const close = closestMatches(full, this.source.names);
      const hint = close.length ? `; closest: ${close.join(', ')}` : '';
      throw new MissingWeightError(`${this.source.description}: missing tensor '${full}' (expected shape ${fmtShape(shape)})${hint}`);
    }
    const t = this.source.get(full);
    this.named.set(full, t);
    return this.checkShape(full, t, shape);
  }

  optional(name: string, shape: readonly number[]): Tensor | null {
    return this.has(name) ? this.take(name, shape) : null;
  }

  /** nn.Linear: weight [out, in], optional bias [out]. */
  linear(name: string, inFeatures: number, outFeatures: number, bias: boolean): Linear {
    return {
      weight: this.take(`${name}.weight`, [outFeatures, inFeatures]),
      bias: bias ? this.take(`${name}.bias`, [outFeatures]) : null,
      transposed: true,
    };
  }

  /** GPT-2's Conv1D: weight [in, out], bias [out]. */
  conv1d(name: string, inFeatures: number, outFeatures: number): Linear {
    return {
      weight: this.take(`${name}.weight`, [inFeatures, outFeatures]),
      bias: this.take(`${name}.bias`, [outFeatures]),
      transposed: false,
    };
  }

  norm(name: string, d: number, bias: boolean): NormParams {
    return {
      weight: this.take(`${name}.weight`, [d]),
      bias: bias ? this.take(`${name}.bias`, [d]) : null,
    };
  }

  private checkShape(name: string, t: Tensor, shape: readonly number[]): Tensor {
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new ShapeError(`${this.source.description}: tensor '${name}' has shape ${fmtShape(t.shape)}, but the config implies ${fmtShape(shape)}`);
    }
    return t;
  }
}

/** The first of `prefixes` under which `probe` exists ('' included), for checkpoints saved with or without the wrapper module's name. */
export function detectPrefix(source: WeightSource, probe: string, prefixes: readonly string[]): string {
  for (const prefix of prefixes) if (source.names.includes(prefix + probe)) return prefix;
  const close = closestMatches(prefixes[0] + probe, source.names);
  throw new MissingWeightError(`${source.description}: no tensor '${probe}' under any of the prefixes ${prefixes.map((p) => `'${p}'`).join(', ')}${close.length ? `; closest: ${close.join(', ')}` : ''}`);
}
