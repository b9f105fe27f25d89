// The tensor layer on the fast backends (wasm, native) against ref in float32: the same ops,
// views and gradients on random inputs of odd sizes, non-contiguous operands included. A
// backend that is not built or cannot start here is skipped.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { disposeBackends, getBackend } from '../../src/backend/registry.js';
import type { Backend, BackendName } from '../../src/backend/types.js';
import {
  Rng, concat, grad, indexSelect, layerNorm, matmul, rmsNorm, rotary, tensor, where, type Tensor,
} from '../../src/tensor/index.js';
import { assertClose, ref } from './helpers.js';

async function tryBackend(name: BackendName): Promise<Backend | null> {
  try {
    await import(`../../src/backend/${name}/index.js`);
    return getBackend(name);
  } catch {
    return null;
  }
}

after(() => disposeBackends());

/** The same random float32 values on a given backend. */
function data(shape: number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

type Case = [string, number[][], (b: Backend, ...xs: Tensor[]) => Tensor];

const ids = (b: Backend, values: number[]) => tensor(Int32Array.from(values), [values.length], { backend: b });

const CASES: Case[] = [
  ['add broadcast', [[17, 65], [65]], (_, a, b) => a.add(b)],
  ['mul transposed', [[65, 17], [17, 65]], (_, a, b) => a.mT.mul(b)],
  ['div, exp, tanh on a narrow view', [[33, 17], [17]], (_, a, b) => a.narrow(0, 3, 17).exp().div(b.abs().add(1)).tanh()],
  ['gelu, silu, sigmoid', [[1023]], (_, a) => a.gelu().add(a.silu()).add(a.gelu('tanh')).mul(a.sigmoid())],
  ['where and comparisons', [[3, 17], [17]], (_, a, b) => where(a.gt(b), a, b.mul(2))],
  ['sum / max over axes', [[5, 17, 3]], (_, a) => a.sum([0, 2]).add(a.max(2).sum(0)).add(a.logsumexp(0).mean())],
  ['softmax causal', [[2, 17, 17]], (_, a) => a.softmax(-1, { causal: { offset: 0 } })],
  ['softmax other axis', [[3, 17, 5]], (_, a) => a.logSoftmax(1)],
  ['cumsum, var', [[17, 9]], (_, a) => a.cumsum(0).add(a.var(1, { keepdim: true }))],
  ['topk values', [[9, 65]], (_, a) => a.topk(5).values],
  ['matmul odd sizes', [[17, 65], [65, 33]], (_, a, b) => matmul(a, b)],
  ['matmul transposed operands', [[3, 65, 17], [3, 33, 65]], (_, a, b) => matmul(a.mT, b.mT)],
  ['matmul broadcast batch', [[2, 1, 5, 17], [3, 17, 7]], (_, a, b) => matmul(a, b)],
  ['matrix @ vector', [[17, 65], [65]], (_, a, b) => matmul(a, b)],
  ['layerNorm', [[17, 65], [65], [65]], (_, x, w, b) => layerNorm(x, w, b)],
  ['rmsNorm offset', [[17, 65], [65]], (_, x, w) => rmsNorm(x, w, 1e-6, { weightOffset: 1 })],
  ['rotary half partial', [[2, 5, 3, 8], [2, 5, 3]], (_, x, ang) => rotary(x, ang.cos(), ang.sin(), { rotaryDim: 6 })],
  ['rotary interleaved', [[1, 5, 2, 8], [5, 4]], (_, x, ang) => rotary(x, ang.cos(), ang.sin(), { layout: 'interleaved' })],
  ['indexSelect + concat', [[11, 17]], (b, t) => concat([indexSelect(t, 0, ids(b, [3, 0, 3, 10])), t.narrow(0, 0, 2)], 0)],
  ['gather along axis', [[5, 9]], (b, t) => t.gather(1, ids(b, [8, 0, 1, 1, 2]).reshape(5, 1))],
  ['indexPut', [[4, 17], [17]], (_, x, v) => x.indexPut([[1, 4, 2]], v)],
];

for (const name of ['wasm', 'native'] as const) {
  test(`tensor ops on ${name} match ref (float32)`, async (t) => {
    const backend = await tryBackend(name);
    if (backend === null) {
      t.skip(`${name} backend not available here`);
      return;
    }
    for (const [label, shapes, op] of CASES) {
      const make = (b: Backend) => shapes.map((s, i) => tensor(data(s, 100 + i), s, { backend: b }));
      const expected = op(ref, ...make(ref));
      const actual = op(backend, ...make(backend));
      assert.equal(actual.backend, backend, label);
      assert.deepEqual(actual.shape, expected.shape, label);
      assertClose(actual.toArray(), expected.toArray(), 1e-4, `${label} on ${name}`);
    }
  });

  test(`gradients on ${name} match ref (float32)`, async (t) => {
    const backend = await tryBackend(name);
    if (backend === null) {
      t.skip(`${name} backend not available here`);
      return;
    }
    for (const [label, shapes, op] of CASES) {
      const make = (b: Backend) => shapes.map((s, i) => tensor(data(s, 200 + i), s, { backend: b }));
      const wrt = label.includes('rotary') ? 1 : shapes.length; // rotary's angle table is a constant
      const gradsOn = (b: Backend) => {
        const inputs = make(b);
        return grad((...xs) => op(b, ...xs, ...inputs.slice(wrt)).square().sum(), inputs.slice(0, wrt));
      };
      const expected = gradsOn(ref);
      const actual = gradsOn(backend);
      expected.forEach((g, i) => assertClose(actual[i].toArray(), g.toArray(), 2e-3, `d ${label} / d input ${i} on ${name}`));
    }
  });
}
