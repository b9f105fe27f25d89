// Shared by the native backend tests: the skip reason when the addon is not built here, and a
// fast closeness check for long arrays.

import { loadAddon } from '../../src/backend/native/addon.js';
import { assertClose } from './ref-helpers.js';

/** false when the addon loads; otherwise why the native tests are skipped (never a failure). */
export function nativeSkipReason(): string | false {
  try {
    loadAddon();
    return false;
  } catch (err) {
    return `native addon unavailable: ${(err as Error).message}`;
  }
}

function close(a: number, e: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(e) || !Number.isFinite(e)) return Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e));
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

/**
 * assertClose's rule (|actual - expected| <= atol + rtol·|expected|, NaN matches NaN, infinities
 * exactly), checked in a plain loop first: assertClose builds a message per element, which
 * dominates the run time on 70 000-element arrays. On a mismatch it defers to assertClose for
 * the report.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number,
  what: string): void {
  let ok = actual.length === expected.length;
  for (let i = 0; ok && i < expected.length; i++) ok = close(actual[i], expected[i], rtol, atol);
  if (!ok) assertClose(actual, expected, rtol, atol, what);
}
