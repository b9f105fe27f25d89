// Elementwise ref kernels against independent scalar formulas, Python's math.erf, finite
// differences, and (for strided views) the same op on a materialised contiguous copy.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refKernels } from '../../src/backend/ref/kernels.js';
import { erf } from '../../src/backend/ref/scalar-math.js';
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type DType, type UnaryOp } from '../../src/backend/types.js';
import {
  assertClose, denseView, forEachIndex, makeRandom, materialize, numel, randomShape, randomView, storageOf,
  tolerance, viewAt,
} from './ref-helpers.js';

// [x, math.erf(x)] from CPython 3 (libm erf), pasted as literals.
const PYTHON_ERF: ReadonlyArray<readonly [number, number]> = [
  [0, 0.0], [1e-10, 1.1283791670955126e-10], [1e-05, 1.1283791670579e-05], [0.1, 0.1124629160182849],
  [0.3, 0.3286267594591274], [0.46875, 0.49261347321793797], [0.47, 0.4937450508860821],
  [0.5, 0.5204998778130465], [0.75, 0.7111556336535151], [1, 0.8427007929497149],
  [1.5, 0.9661051464753108], [2, 0.9953222650189527], [2.5, 0.999593047982555], [3, 0.9999779095030014],
  [3.9, 0.9999999652077514], [4, 0.9999999845827421], [4.1, 0.9999999932999724], [5, 0.9999999999984626],
  [6, 1.0], [-0.2, -0.22270258921047847], [-1.3, -0.9340079449406524], [-3.5, -0.9999992569016276],
  [-5.5, -0.9999999999999927],
];

test('erf matches Python math.erf to 1e-15 relative and is odd', () => {
  for (const [x, expected] of PYTHON_ERF) {
    assert.ok(Math.abs(erf(x) - expected) <= 1e-15 * Math.abs(expected) + 1e-300, `erf(${x}) = ${erf(x)}, expected ${expected}`);
  }
  const rand = makeRandom(1);
  for (let i = 0; i < 200; i++) {
    const x = (rand() - 0.5) * 12;
    assert.equal(erf(-x), -erf(x));
  }
  assert.equal(erf(Infinity), 1);
  assert.equal(erf(-Infinity), -1);
  assert.ok(Number.isNaN(erf(NaN)));
});

/** Maclaurin series of erf: independent of the Cody approximation, accurate to ~1e-14 for |x| <= 3. */
function seriesErf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= -x * x / n;
    sum += term / (2 * n + 1);
  }
  return sum * 2 / Math.sqrt(Math.PI);
}

const K = Math.sqrt(2 / Math.PI);
const REFERENCE_UNARY: Record<Exclude<UnaryOp, 'step' | 'silu_grad' | 'gelu_erf_grad' | 'gelu_tanh_grad'>,
  (x: number) => number> = {
  neg: (x) => -x, abs: (x) => (x < 0 ? -x : x), sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  square: (x) => x * x, sqrt: (x) => x ** 0.5, rsqrt: (x) => x ** -0.5, reciprocal: (x) => 1 / x,
  exp: (x) => Math.E ** x, log: (x) => Math.log(x), sin: (x) => Math.sin(x), cos: (x) => Math.cos(x),
  tanh: (x) => (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1), erf: seriesErf,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)), relu: (x) => (x > 0 ? x : 0), silu: (x) => x / (1 + Math.exp(-x)),
  gelu_erf: (x) => 0.5 * x * (1 + seriesErf(x / Math.SQRT2)),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(K * (x + 0.044715 * x ** 3))),
};

function runUnary(op: UnaryOp, dtype: DType, values: number[]): number[] {
  const x = storageOf(dtype, values);
  const out = storageOf(dtype, values.length);
  refKernels.unary(op, denseView(x, [values.length]), out);
  return Array.from(out.data);
}

test('unary ops match independent formulas in float64 and float32', () => {
  const rand = makeRandom(2);
  const xs = Array.from({ length: 65 }, () => (rand() - 0.5) * 6);
  xs.push(0, 1, -1);
  for (const dtype of ['float64', 'float32'] as const) {
    const inputs = dtype === 'float32' ? xs.map(Math.fround) : xs;
    for (const [op, f] of Object.entries(REFERENCE_UNARY)) {
      const domain = op === 'log' || op === 'sqrt' || op === 'rsqrt' ? inputs.map(Math.abs) : inputs;
      const expected = domain.map(f);
      // float64: tanh/exp/log differ from the naive formulas by a few ulps; series erf ~1e-14.
      const { rtol, atol } = dtype === 'float32' ? { rtol: 3e-7, atol: 1e-7 } : { rtol: 1e-13, atol: 1e-14 };
      assertClose(runUnary(op as UnaryOp, dtype, domain), expected, rtol, atol, `${op} ${dtype}`);
    }
  }
});

test('derivative ops match central finite differences of their functions (float64)', () => {
  const pairs: Array<[UnaryOp, UnaryOp]> = [['silu_grad', 'silu'], ['gelu_erf_grad', 'gelu_erf'],
    ['gelu_tanh_grad', 'gelu_tanh'], ['step', 'relu']];
  const rand = makeRandom(3);
  const xs = Array.from({ length: 40 }, () => (rand() - 0.5) * 10).filter((x) => Math.abs(x) > 1e-3);
  const h = 1e-5;
  for (const [grad, f] of pairs) {
    const analytic = runUnary(grad, 'float64', xs);
    const plus = runUnary(f, 'float64', xs.map((x) => x + h));
    const minus = runUnary(f, 'float64', xs.map((x) => x - h));
    const numeric = plus.map((p, i) => (p - minus[i]) / (2 * h));
    assertClose(analytic, numeric, 1e-8, 1e-9, grad);
  }
  assert.deepEqual(runUnary('step', 'float64', [0, -0, 2, -2]), [0, 0, 1, 0]);
});

test('unary on strided views equals unary on the materialised copy', () => {
  const rand = makeRandom(4);
  for (let trial = 0; trial < 40; trial++) {
    const dtype: DType = trial % 2 ? 'float32' : 'float64';
    const shape = randomShape(rand, 1 + (trial % 4));
    const view = randomView(rand, dtype, shape, { broadcast: true });
    const op = UNARY_OPS[trial % UNARY_OPS.length];
    const out = storageOf(dtype, numel(shape));
    refKernels.unary(op, view, out);
    const dense = storageOf(dtype, materialize(view));
    const expected = storageOf(dtype, numel(shape));
    refKernels.unary(op, denseView(dense, [dense.length]), expected);
    assert.deepEqual(Array.from(out.data), Array.from(expected.data), `${op} ${shape}`);
  }
});

function referenceBinary(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    case 'pow': return a ** b;
    case 'max': return a > b ? a : b;
    case 'min': return a < b ? a : b;
    case 'eq': return Number(a === b);
    case 'ne': return Number(a !== b);
    case 'lt': return Number(a < b);
    case 'le': return Number(a <= b);
    case 'gt': return Number(a > b);
    case 'ge': return Number(a >= b);
  }
}

/** Rounds a float64 result to the dtype the kernel stores. */
function stored(dtype: DType, value: number): number {
  return dtype === 'float32' ? Math.fround(value) : value;
}

test('binary on broadcast and permuted views equals the elementwise formula at every index', () => {
  const rand = makeRandom(5);
  for (let trial = 0; trial < 60; trial++) {
    const dtype: DType = trial % 2 ? 'float32' : 'float64';
    const shape = randomShape(rand, 1 + (trial % 4), [1, 3, 4, 17]);
    const a = randomView(rand, dtype, shape, { broadcast: true });
    const b = randomView(rand, dtype, shape, { broadcast: true });
    // Exercise equality on a few exact ties.
    if (trial % 3 === 0) b.storage.data.set(a.storage.data.subarray(0, Math.min(a.storage.length, b.storage.length)));
    const op = BINARY_OPS[trial % BINARY_OPS.length];
    const out = storageOf(dtype, numel(shape));
    refKernels.binary(op, a, b, out);
    const expected: number[] = [];
    forEachIndex(shape, (index) => {
      const x = viewAt(a, index);
      const y = op === 'pow' ? Math.abs(viewAt(b, index)) : viewAt(b, index);
      expected.push(stored(dtype, referenceBinary(op, op === 'pow' ? Math.abs(x) : x, y)));
    });
    if (op === 'pow') {
      const absA = { ...a, storage: storageOf(dtype, Array.from(a.storage.data, Math.abs)) };
      const absB = { ...b, storage: storageOf(dtype, Array.from(b.storage.data, Math.abs)) };
      refKernels.binary(op, absA, absB, out);
    }
    const { rtol, atol } = tolerance(dtype);
    assertClose(out.data, expected, rtol, atol, `${op} ${shape}`);
  }
});

test('binary broadcasting (stride 0) equals explicit tiling', () => {
  const rand = makeRandom(6);
  const rows = 17;
  const cols = 3;
  const row = storageOf('float64', [1.5, -2, 4]);
  const matrix = randomView(rand, 'float64', [rows, cols]);
  const tiled = storageOf('float64', Array.from({ length: rows * cols }, (_, i) => row.data[i % cols]));
  const viaBroadcast = storageOf('float64', rows * cols);
  const viaTiling = storageOf('float64', rows * cols);
  refKernels.binary('mul', matrix, { storage: row, offset: 0, shape: [rows, cols], strides: [0, 1] }, viaBroadcast);
  refKernels.binary('mul', matrix, denseView(tiled, [rows, cols]), viaTiling);
  assert.deepEqual(Array.from(viaBroadcast.data), Array.from(viaTiling.data));
});

test('binaryScalar puts the scalar on the requested side and rounds it to the dtype', () => {
  const x = storageOf('float64', [1, 2, 4]);
  const out = storageOf('float64', 3);
  refKernels.binaryScalar('sub', denseView(x, [3]), 10, false, out);
  assert.deepEqual(Array.from(out.data), [-9, -8, -6]);
  refKernels.binaryScalar('sub', denseView(x, [3]), 10, true, out);
  assert.deepEqual(Array.from(out.data), [9, 8, 6]);
  refKernels.binaryScalar('div', denseView(x, [3]), 1, true, out);
  assert.deepEqual(Array.from(out.data), [1, 0.5, 0.25]);
  refKernels.binaryScalar('gt', denseView(x, [3]), 2, false, out);
  assert.deepEqual(Array.from(out.data), [0, 0, 1]);
  const x32 = storageOf('float32', [0.1]);
  const out32 = storageOf('float32', 1);
  refKernels.binaryScalar('eq', denseView(x32, [1]), 0.1, false, out32);
  assert.equal(out32.data[0], 1, 'float32 0.1 equals the scalar 0.1 rounded to float32');
  // A strided input: every other element.
  const strided = { storage: storageOf('float64', [1, 99, 2, 99, 3]), offset: 0, shape: [3], strides: [2] };
  refKernels.binaryScalar('mul', strided, 3, false, out);
  assert.deepEqual(Array.from(out.data), [3, 6, 9]);
});

test('where picks a where cond != 0, else b, with broadcasting', () => {
  const rand = makeRandom(7);
  for (let trial = 0; trial < 20; trial++) {
    const shape = randomShape(rand, 3);
    const condRaw = randomView(rand, 'float32', shape, { broadcast: true });
    const cond = { ...condRaw, storage: storageOf('float32', Array.from(condRaw.storage.data, (v) => (v > 0 ? 1 : 0))) };
    const a = randomView(rand, 'float64', shape, { broadcast: true });
    const b = randomView(rand, 'float64', shape, { broadcast: true });
    const out = storageOf('float64', numel(shape));
    refKernels.where(cond, a, b, out);
    const expected: number[] = [];
    forEachIndex(shape, (index) => expected.push(viewAt(cond, index) !== 0 ? viewAt(a, index) : viewAt(b, index)));
    assert.deepEqual(Array.from(out.data), expected);
  }
});

test('rank-0 and zero-size views', () => {
  const scalar = { storage: storageOf('float64', [7, 2]), offset: 1, shape: [], strides: [] };
  const out = storageOf('float64', 1);
  refKernels.unary('square', scalar, out);
  assert.equal(out.data[0], 4);
  refKernels.binary('sub', scalar, { ...scalar, offset: 0 }, out);
  assert.equal(out.data[0], -5);
  const empty = { storage: storageOf('float64', 0), offset: 0, shape: [3, 0, 2], strides: [0, 2, 1] };
  const untouched = storageOf('float64', [42]);
  refKernels.unary('neg', empty, untouched);
  refKernels.binary('add', empty, empty, untouched);
  assert.equal(untouched.data[0], 42);
});
