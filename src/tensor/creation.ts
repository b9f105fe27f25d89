// Creating tensors: from JS data, constant fills, ranges and seeded random values. Every
// function takes `{ dtype, backend, requiresGrad }`; the default dtype is float32 and the
// default backend is the registry's (native, else wasm, else ref).

import { defaultBackend, getBackend } from '../backend/registry.js';
import type { Backend, BackendName, DType } from '../backend/types.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../util/errors.js';
import { globalRng, Rng } from './random.js';
import { checkShape, contiguousStrides, sizeOf, type Shape } from './shape.js';
import { SharedStorage } from './storage.js';
import { Tensor } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  backend?: Backend | BackendName;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  /** Seed for a fresh generator (reproducible); otherwise `rng`, otherwise the global generator. */
  seed?: number;
  rng?: Rng;
}

export type NestedNumbers = number | readonly NestedNumbers[];
type TypedData = Float32Array | Float64Array | Int32Array;

function resolveBackend(choice: Backend | BackendName | undefined): Backend {
  if (choice === undefined) return defaultBackend();
  return typeof choice === 'string' ? getBackend(choice) : choice;
}

function checkDType(dtype: DType, backend: Backend, op: string): void {
  if (dtype === 'float64' && backend.name !== 'ref') {
    throw new DTypeError(`${op}: float64 is only supported on the ref backend, not '${backend.name}'; use float32`);
  }
}

/** A dense tensor filled by `fill(data)`; applies requiresGrad. */
function create(shape: Shape, options: TensorOptions | undefined, op: string, defaultDType: DType,
  fill: (data: TypedData) => void): Tensor {
  checkShape(shape, op);
  const backend = resolveBackend(options?.backend);
  const dtype = options?.dtype ?? defaultDType;
  checkDType(dtype, backend, op);
  const storage = backend.alloc(dtype, sizeOf(shape));
  fill(storage.data);
  const t = new Tensor(new SharedStorage(backend, storage), [...shape], contiguousStrides(shape), 0);
  if (options?.requiresGrad) t.requiresGrad_();
  return t;
}

function inferNestedShape(data: NestedNumbers): number[] {
  const shape: number[] = [];
  let level: NestedNumbers = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] as NestedNumbers;
    if (level === undefined) break;
  }
  return shape;
}

function flattenNested(data: NestedNumbers, shape: Shape, out: number[], depth: number): void {
  if (depth === shape.length) {
    if (typeof data !== 'number') throw new ShapeError(`tensor: ragged nested array: expected a number at depth ${depth} for shape ${fmtShape(shape)}`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new ShapeError(`tensor: ragged nested array: expected ${shape[depth]} items at depth ${depth} for shape ${fmtShape(shape)}`);
  }
  for (const item of data as readonly NestedNumbers[]) flattenNested(item, shape, out, depth + 1);
}

/**
 * A tensor from nested arrays, a number (0-d) or a typed array (flat; `shape` gives its shape,
 * default 1-d). Typed arrays set the default dtype (Int32Array -> int32, Float64Array -> float64).
 */
export function tensor(data: NestedNumbers | TypedData, shape?: readonly number[] | TensorOptions, options?: TensorOptions): Tensor {
  if (shape !== undefined && !Array.isArray(shape)) return tensor(data, undefined, shape as TensorOptions);
  const explicitShape = shape as readonly number[] | undefined;
  let values: ArrayLike<number>;
  let inferred: number[];
  let defaultDType: DType = 'float32';
  if (ArrayBuffer.isView(data)) {
    values = data;
    inferred = [data.length];
    defaultDType = data instanceof Int32Array ? 'int32' : data instanceof Float64Array ? 'float64' : 'float32';
  } else {
    inferred = inferNestedShape(data);
    const flat: number[] = [];
    flattenNested(data, inferred, flat, 0);
    values = flat;
  }
  const finalShape = explicitShape ?? inferred;
  if (sizeOf(finalShape) !== values.length) {
    throw new ShapeError(`tensor: ${values.length} values do not fill shape ${fmtShape(finalShape)} (size ${sizeOf(finalShape)})`);
  }
  return create(finalShape, options, 'tensor', defaultDType, (d) => d.set(values));
}

export function zeros(shape: readonly number[], options?: TensorOptions): Tensor {
  return create(shape, options, 'zeros', 'float32', () => {});
}

export function ones(shape: readonly number[], options?: TensorOptions): Tensor {
  return full(shape, 1, options);
}

export function full(shape: readonly number[], value: number, options?: TensorOptions): Tensor {
  return create(shape, options, 'full', 'float32', (d) => d.fill(value));
}

function likeOptions(t: Tensor, options?: TensorOptions): TensorOptions {
  t.assertLive('zerosLike');
  return { dtype: t.dtype, backend: t.backend, ...options };
}

/** Same shape, dtype and backend as t unless options say otherwise. */
export function zerosLike(t: Tensor, options?: TensorOptions): Tensor {
  return zeros(t.shape, likeOptions(t, options));
}

export function onesLike(t: Tensor, options?: TensorOptions): Tensor {
  return ones(t.shape, likeOptions(t, options));
}

export function fullLike(t: Tensor, value: number, options?: TensorOptions): Tensor {
  return full(t.shape, value, likeOptions(t, options));
}

/** start, start+step, ... below end (`arange(n)` is 0..n-1). float32 unless options.dtype says int32. */
export function arange(start: number, end?: number | TensorOptions, step?: number | TensorOptions, options?: TensorOptions): Tensor {
  const opts = [end, step, options].find((a) => typeof a === 'object') as TensorOptions | undefined;
  let from = start;
  let to = typeof end === 'number' ? end : undefined;
  const by = typeof step === 'number' ? step : 1;
  if (to === undefined) {
    to = start;
    from = 0;
  }
  if (by === 0 || !Number.isFinite(by)) throw new ArgumentError(`arange: step ${by} must be a finite non-zero number`);
  const length = Math.max(0, Math.ceil((to - from) / by));
  return create([length], opts, 'arange', 'float32', (d) => {
    for (let i = 0; i < length; i++) d[i] = from + i * by;
  });
}

function pickRng(options?: RandomOptions): Rng {
  if (options?.rng !== undefined) return options.rng;
  if (options?.seed !== undefined) return new Rng(options.seed);
  return globalRng();
}

/** Normal samples (mean 0, std 1 unless given). */
export function randn(shape: readonly number[], options?: RandomOptions & { mean?: number; std?: number }): Tensor {
  const rng = pickRng(options);
  const mean = options?.mean ?? 0;
  const std = options?.std ?? 1;
  return create(shape, options, 'randn', 'float32', (d) => {
    for (let i = 0; i < d.length; i++) d[i] = mean + std * rng.normal();
  });
}

/** Uniform samples in [low, high) (default [0, 1)). */
export function rand(shape: readonly number[], options?: RandomOptions & { low?: number; high?: number }): Tensor {
  const rng = pickRng(options);
  const low = options?.low ?? 0;
  const high = options?.high ?? 1;
  return create(shape, options, 'rand', 'float32', (d) => {
    for (let i = 0; i < d.length; i++) d[i] = rng.uniform(low, high);
  });
}

/** Uniform integers in [low, high), int32 by default. */
export function randint(low: number, high: number, shape: readonly number[], options?: RandomOptions): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new ArgumentError(`randint: need integers low < high, got low ${low}, high ${high}`);
  }
  const rng = pickRng(options);
  return create(shape, options, 'randint', 'int32', (d) => {
    for (let i = 0; i < d.length; i++) d[i] = rng.int(low, high);
  });
}
