// Elementwise wasm kernels (unary, binary, binaryScalar) against the ref kernels: random shapes
// with odd sizes, random strided / broadcast / permuted layouts (the kernels take what folds to
// [rows, cols] with unit or zero inner stride; the rest must fall back correctly), 1-3 threads.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { refKernels } from '../../src/backend/ref/kernels.js';
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type Storage, type UnaryOp, type View } from '../../src/backend/types.js';
import { denseView, makeRandom, numel, randomShape, randomView, storageOf } from './ref-helpers.js';
import { disposeAll, viewOn, wasmBackends } from './wasm-helpers.js';

const backends = wasmBackends();
after(() => disposeAll(backends));

interface Tolerance {
  rtol: number;
  atol: number;
}

const EXACT: Tolerance = { rtol: 0, atol: 0 };
/** Smallest normal float32: below it results are denormal and have fewer significant bits. */
const DENORMAL = 1.2e-38;
const TRANSCENDENTAL: Tolerance = { rtol: 1e-6, atol: DENORMAL };

/**
 * Per-op tolerance against the float64 reference rounded to float32. Derivatives cross zero
 * (silu' at -1.28, GELU' at -0.75), where only an absolute bound means anything. GELU-tanh's
 * argument 2√(2/π)(x + 0.044715x³) carries a few float32 roundings into exp, so ~2 ulp of it.
 */
const UNARY_TOLERANCE: Record<UnaryOp, Tolerance> = {
  neg: EXACT, abs: EXACT, sign: EXACT, square: EXACT, sqrt: EXACT, reciprocal: EXACT, relu: EXACT, step: EXACT,
  rsqrt: { rtol: 1.2e-7, atol: 0 },
  exp: TRANSCENDENTAL, log: TRANSCENDENTAL, tanh: TRANSCENDENTAL, erf: TRANSCENDENTAL, sigmoid: TRANSCENDENTAL,
  silu: TRANSCENDENTAL, gelu_erf: TRANSCENDENTAL, sin: TRANSCENDENTAL, cos: TRANSCENDENTAL,
  gelu_tanh: { rtol: 2.5e-6, atol: DENORMAL },
  silu_grad: { rtol: 1e-6, atol: 3e-7 }, gelu_erf_grad: { rtol: 1e-6, atol: 3e-7 },
  gelu_tanh_grad: { rtol: 1e-6, atol: 3e-7 },
};

/**
 * Input range per op. The reference computes GELU as ½x(1 + erf) and ½x(1 + tanh), which cancels
 * for x < -5 (its relative error passes 1e-6 there), so GELU is compared on [-5, 5] only.
 */
function inputScale(op: UnaryOp): number {
  return op.startsWith('gelu') ? 5 : 100;
}

const SPECIAL_VALUES = [0, -0, 1, -1, 0.5, -0.5, NaN, Infinity, -Infinity, 1e-40, -1e-40, 88.5, -88.5, 89, -104, 3e38];

function assertMatches(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance, what: string,
  inputs?: ArrayLike<number>): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const input = inputs ? ` (input ${inputs[i]})` : '';
    if (Number.isNaN(e) || !Number.isFinite(e) || tolerance.rtol === 0) {
      assert.ok(a === e || (Number.isNaN(a) && Number.isNaN(e)), `${what}[${i}]: got ${a}, expected ${e}${input}`);
      continue;
    }
    const bound = tolerance.atol + tolerance.rtol * Math.abs(e);
    assert.ok(Math.abs(a - e) <= bound, `${what}[${i}]: got ${a}, expected ${e} ± ${bound}${input}`);
  }
}

/** A random shape with odd sizes and at most ~50k elements (the reference loops are slow). */
function smallShape(rand: () => number, rank: number): number[] {
  for (;;) {
    const shape = randomShape(rand, rank, [1, 3, 17, 65]);
    if (numel(shape) <= 50_000) return shape;
  }
}

function refResult(shape: readonly number[], run: (out: Storage) => void): Float32Array {
  const out = storageOf('float32', numel(shape));
  run(out);
  return out.data as Float32Array;
}

test('unary ops match ref on random values, special values and odd lengths (1, 2, 3 threads)', () => {
  const rand = makeRandom(21);
  for (const op of UNARY_OPS) {
    for (const length of [1, 3, 17, 65, 1023]) {
      const values = Array.from({ length }, (_, i) =>
        i < SPECIAL_VALUES.length && !op.startsWith('gelu') && length >= 65 ? SPECIAL_VALUES[i]
          : (rand() * 2 - 1) * inputScale(op) * (rand() < 0.3 ? 0.01 : 1));
      const x = storageOf('float32', values);
      const expected = refResult([length], (out) => refKernels.unary(op, denseView(x, [length]), out));
      for (const { label, backend } of backends) {
        const view = viewOn(backend, denseView(x, [length]));
        const out = backend.alloc('float32', length);
        backend.unary(op, view, out);
        assertMatches(out.data, expected, UNARY_TOLERANCE[op], `${label} ${op} n=${length}`, x.data);
        backend.free(out);
        backend.free(view.storage);
      }
    }
  }
});

test('unary ops on strided, broadcast and permuted views', () => {
  const rand = makeRandom(22);
  for (let trial = 0; trial < 40; trial++) {
    const op = UNARY_OPS[trial % UNARY_OPS.length];
    const shape = smallShape(rand, 1 + (trial % 4));
    const x = randomView(rand, 'float32', shape, { broadcast: trial % 3 === 0 });
    const expected = refResult(shape, (out) => refKernels.unary(op, x, out));
    for (const { label, backend } of backends) {
      const view = viewOn(backend, x);
      const out = backend.alloc('float32', numel(shape));
      backend.unary(op, view, out);
      assertMatches(out.data, expected, UNARY_TOLERANCE[op], `${label} ${op} [${shape}] strides [${x.strides}]`);
      backend.free(out);
      backend.free(view.storage);
    }
  }
});

/** add/sub/mul are exact in float32 (so is the float64 reference, rounded once); div may round twice. */
function binaryTolerance(op: BinaryOp): Tolerance {
  return op === 'div' || op === 'pow' ? { rtol: 1.2e-7, atol: 0 } : EXACT;
}

test('binary ops match ref: contiguous, row/column/scalar broadcast, strided and permuted operands', () => {
  const rand = makeRandom(23);
  for (let trial = 0; trial < 78; trial++) {
    const op = BINARY_OPS[trial % BINARY_OPS.length];
    const shape = smallShape(rand, 1 + (trial % 4));
    const layout = Math.floor(trial / BINARY_OPS.length) % 3;
    // 0: both dense; 1: b broadcast along random axes; 2: random strides/permutations on both.
    const a: View = layout === 2 ? randomView(rand, 'float32', shape) : randomView(rand, 'float32', shape, {});
    const bShape = layout === 1 ? shape.map((size) => (rand() < 0.5 ? 1 : size)) : shape;
    const bBase = layout === 2 ? randomView(rand, 'float32', bShape, { broadcast: true }) : randomView(rand, 'float32', bShape);
    const b: View = { ...bBase, shape, strides: bBase.strides.map((s, i) => (bShape[i] === 1 ? 0 : s)) };
    if (op === 'eq' || op === 'ne') b.storage.data.set(a.storage.data.subarray(0, Math.min(a.storage.length, b.storage.length)));
    const expected = refResult(shape, (out) => refKernels.binary(op, a, b, out));
    for (const { label, backend } of backends) {
      const wa = viewOn(backend, a);
      const wb = viewOn(backend, b);
      const out = backend.alloc('float32', numel(shape));
      backend.binary(op, wa, wb, out);
      assertMatches(out.data, expected, binaryTolerance(op), `${label} ${op} [${shape}] a [${a.strides}] b [${b.strides}]`);
      for (const s of [out, wa.storage, wb.storage]) backend.free(s);
    }
  }
});

test('binary on long rows (1023) with a bias row and a per-row scale', () => {
  const rand = makeRandom(24);
  const shape = [5, 1023];
  const x = randomView(rand, 'float32', shape);
  const biasRow = randomView(rand, 'float32', [1023]);
  const bias: View = { ...biasRow, shape, strides: [0, biasRow.strides[0]] };
  const scaleColumn = randomView(rand, 'float32', [5]);
  const scale: View = { ...scaleColumn, shape, strides: [scaleColumn.strides[0], 0] };
  for (const [op, other] of [['add', bias], ['mul', scale], ['div', scale], ['sub', bias]] as const) {
    const expected = refResult(shape, (out) => refKernels.binary(op, x, other, out));
    for (const { label, backend } of backends) {
      const wx = viewOn(backend, x);
      const wo = viewOn(backend, other);
      const out = backend.alloc('float32', numel(shape));
      backend.binary(op, wx, wo, out);
      assertMatches(out.data, expected, binaryTolerance(op), `${label} ${op}`);
      for (const s of [out, wx.storage, wo.storage]) backend.free(s);
    }
  }
});

test('binaryScalar matches ref with the scalar on either side, including float32-inexact scalars', () => {
  const rand = makeRandom(25);
  const scalars = [0.5, -3, 0.1, 1e-3, 0, NaN];
  for (let trial = 0; trial < 52; trial++) {
    const op = BINARY_OPS[trial % BINARY_OPS.length];
    const scalar = scalars[trial % scalars.length];
    const scalarOnLeft = trial % 2 === 1;
    const shape = smallShape(rand, 1 + (trial % 3));
    const x = randomView(rand, 'float32', shape);
    if (trial % 4 === 0) x.storage.data[x.offset] = Math.fround(scalar);
    const expected = refResult(shape, (out) => refKernels.binaryScalar(op, x, scalar, scalarOnLeft, out));
    for (const { label, backend } of backends) {
      const wx = viewOn(backend, x);
      const out = backend.alloc('float32', numel(shape));
      backend.binaryScalar(op, wx, scalar, scalarOnLeft, out);
      // The kernel multiplies by float32(scalar), the reference by the float64 scalar: one more rounding.
      const tolerance = binaryTolerance(op).rtol === 0 && Math.fround(scalar) !== scalar && ['add', 'sub', 'mul', 'div'].includes(op)
        ? { rtol: 2.4e-7, atol: 1e-45 } : binaryTolerance(op);
      assertMatches(out.data, expected, tolerance, `${label} ${scalarOnLeft ? `${scalar} ${op} x` : `x ${op} ${scalar}`}`);
      backend.free(out);
      backend.free(wx.storage);
    }
  }
});

test('float64 and int32 elementwise calls fall back to the reference kernels', () => {
  const [{ backend }] = backends;
  for (const dtype of ['float64', 'int32'] as const) {
    const x = backend.alloc(dtype, 4);
    x.data.set([1, -2, 3, -4]);
    const out = backend.alloc(dtype, 4);
    backend.unary('abs', denseView(x, [4]), out);
    assert.deepEqual(Array.from(out.data), [1, 2, 3, 4]);
    backend.binary('mul', denseView(x, [4]), denseView(x, [4]), out);
    assert.deepEqual(Array.from(out.data), [1, 4, 9, 16]);
    backend.free(x);
    backend.free(out);
  }
});
