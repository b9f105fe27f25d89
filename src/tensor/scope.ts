// Memory scopes. `tidy(fn)` disposes every tensor created while fn runs except those it returns
// (a tensor, or arrays / plain objects holding tensors) and those passed to `keep`. Returned
// tensors move to the enclosing scope, so nested tidies compose. Outside any tidy, the caller
// owns what it creates and disposes it (`dispose()` or `using`).

import { ArgumentError } from '../util/errors.js';
import { Tensor } from './tensor.js';

let current: Tensor[] | null = null;

/** Called by the Tensor constructor: the innermost open scope takes note of the tensor. */
export function trackTensor(t: Tensor): void {
  if (current !== null) current.push(t);
}

/** Something tidy can return: tensors nested in arrays and plain objects (other values pass through). */
export type TensorContainer = Tensor | readonly unknown[] | Record<string, unknown> | number | string | boolean | null | undefined | void;

function collectTensors(value: unknown, into: Set<Tensor>, depth: number): void {
  if (value instanceof Tensor) {
    into.add(value);
  } else if (depth < 16 && Array.isArray(value)) {
    for (const item of value) collectTensors(item, into, depth + 1);
  } else if (depth < 16 && value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) collectTensors(item, into, depth + 1);
  }
}

/**
 * Runs fn and disposes the tensors it created, except the returned ones and kept ones.
 * If fn throws, everything it created (not kept) is disposed and the error propagates.
 */
export function tidy<T>(fn: () => T): T {
  const parent = current;
  const scope: Tensor[] = [];
  current = scope;
  let result: T;
  try {
    result = fn();
  } catch (err) {
    current = parent;
    for (const t of scope) if (!t.kept) t.dispose();
    throw err;
  }
  current = parent;
  if (result instanceof Promise) {
    for (const t of scope) if (!t.kept) t.dispose();
    throw new ArgumentError('tidy: fn returned a Promise; tidy scopes are synchronous (await outside, or dispose by hand)');
  }
  const returned = new Set<Tensor>();
  collectTensors(result, returned, 0);
  for (const t of scope) {
    if (returned.has(t)) {
      if (parent !== null) parent.push(t);
    } else if (!t.kept) {
      t.dispose();
    }
  }
  return result;
}

/** Exempts tensors from every tidy (now and enclosing); the caller disposes them. Returns its argument. */
export function keep<T extends TensorContainer>(value: T): T {
  const found = new Set<Tensor>();
  collectTensors(value, found, 0);
  for (const t of found) t.kept = true;
  return value;
}

/** Disposes every tensor in a container (tensor, array, plain object). */
export function dispose(value: TensorContainer): void {
  const found = new Set<Tensor>();
  collectTensors(value, found, 0);
  for (const t of found) t.dispose();
}
