// Native matmul (packed GEMM, the m == 1 / n == 1 vector paths, threads) against refKernels.matmul
// on random shapes with odd sizes, every operand layout, shared batch operands and accumulate.
// Skipped, not failed, when the addon is not built.

import { after, describe, test } from 'node:test';
import { NativeBackend } from '../../src/backend/native/backend.js';
import { refKernels } from '../../src/backend/ref/kernels.js';
import type { MatrixView, Storage } from '../../src/backend/types.js';
import { makeRandom, randomStorage } from './ref-helpers.js';
import { expectClose, nativeSkipReason } from './native-helpers.js';

const skip = nativeSkipReason();

type Layout = 'plain' | 'transposed' | 'gapped';

/**
 * A [batch, rows, cols] operand: row-major, transposed (column-major), or with both strides > 1
 * (which the native backend hands to ref). Padded leading dimension, offset, maybe shared (batchStride 0).
 */
function matrix(rand: () => number, layout: Layout, batch: number, rows: number, cols: number,
  shared: boolean): MatrixView {
  const pad = rand() < 0.5 ? 3 : 0;
  const offset = Math.floor(rand() * 5);
  if (layout === 'gapped') {
    const rowStride = 2 * cols + pad;
    const size = rowStride * rows;
    const batchStride = shared ? 0 : size;
    const storage = randomStorage(rand, 'float32', offset + batchStride * (batch - 1) + size);
    return { storage, offset, batchStride, rowStride, colStride: 2 };
  }
  const transposed = layout === 'transposed';
  const lead = (transposed ? rows : cols) + pad;
  const size = lead * (transposed ? cols : rows);
  const batchStride = shared ? 0 : size + pad;
  const storage = randomStorage(rand, 'float32', offset + batchStride * (batch - 1) + size);
  return transposed
    ? { storage, offset, batchStride, rowStride: 1, colStride: lead }
    : { storage, offset, batchStride, rowStride: lead, colStride: 1 };
}

interface Case {
  batch: number;
  m: number;
  k: number;
  n: number;
  a: Layout;
  b: Layout;
  sharedB?: boolean;
  accumulate?: boolean;
}

function check(backend: NativeBackend, rand: () => number, c: Case): void {
  const a = matrix(rand, c.a, c.batch, c.m, c.k, false);
  const b = matrix(rand, c.b, c.batch, c.k, c.n, c.sharedB ?? false);
  const initial = randomStorage(rand, 'float32', c.batch * c.m * c.n);
  const expected: Storage = randomStorage(rand, 'float32', initial.length);
  expected.data.set(initial.data);
  refKernels.matmul(a, b, c.batch, c.m, c.k, c.n, expected, c.accumulate ?? false);
  const out = backend.alloc('float32', initial.length);
  out.data.set(initial.data);
  backend.matmul(a, b, c.batch, c.m, c.k, c.n, out, c.accumulate ?? false);
  // Inputs are in [-2, 2]: float32 sums of k products drift by about sqrt(k) ulps of their size.
  const atol = 2e-6 * (1 + Math.sqrt(c.k)) * 4;
  expectClose(out.data, expected.data, 1e-5, atol, `matmul ${JSON.stringify(c)} threads=${backend.threads}`);
  backend.free(out);
}

const ODD = [1, 3, 17, 65];

describe('native matmul matches refKernels', { skip }, () => {
  const backends = skip ? [] : [new NativeBackend({ threads: 1 }), new NativeBackend({ threads: 2 })];
  after(() => backends.forEach((backend) => backend.dispose()));

  test('odd sizes, plain and transposed operands, shared B, accumulate', () => {
    for (const backend of backends) {
      const rand = makeRandom(100 + backend.threads);
      let trial = 0;
      for (const m of ODD) {
        for (const k of ODD) {
          for (const n of ODD) {
            const layouts: Layout[] = ['plain', 'transposed'];
            check(backend, rand, {
              batch: 1 + (trial % 3), m, k, n, a: layouts[trial % 2], b: layouts[(trial >> 1) % 2],
              sharedB: trial % 5 === 0, accumulate: trial % 3 === 0,
            });
            trial++;
          }
        }
      }
    }
  });

  test('shapes that cross the cache blocks (MC 144, KC 256, NC 4080) and the thread split', () => {
    const cases: Case[] = [
      { batch: 1, m: 150, k: 1023, n: 65, a: 'plain', b: 'plain' },
      { batch: 1, m: 65, k: 300, n: 1023, a: 'transposed', b: 'transposed', accumulate: true },
      { batch: 1, m: 7, k: 17, n: 4097, a: 'plain', b: 'plain' },
      { batch: 3, m: 33, k: 257, n: 47, a: 'plain', b: 'transposed', sharedB: true },
      { batch: 4, m: 64, k: 64, n: 64, a: 'transposed', b: 'plain', accumulate: true },
      { batch: 2, m: 290, k: 129, n: 31, a: 'plain', b: 'plain' },
    ];
    for (const backend of backends) {
      const rand = makeRandom(200 + backend.threads);
      for (const c of cases) check(backend, rand, c);
    }
  });

  test('vector paths: m == 1 (plain and transposed B, the unembed layout) and n == 1', () => {
    const cases: Case[] = [
      { batch: 1, m: 1, k: 768, n: 1023, a: 'plain', b: 'transposed' },
      { batch: 1, m: 1, k: 1023, n: 3000, a: 'plain', b: 'plain', accumulate: true },
      { batch: 2, m: 1, k: 65, n: 17, a: 'transposed', b: 'transposed', sharedB: true, accumulate: true },
      { batch: 3, m: 1, k: 3, n: 1, a: 'plain', b: 'plain' },
      { batch: 1, m: 1023, k: 65, n: 1, a: 'plain', b: 'plain' },
      { batch: 2, m: 17, k: 1023, n: 1, a: 'plain', b: 'transposed', accumulate: true },
      { batch: 1, m: 1, k: 1, n: 65, a: 'plain', b: 'plain' },
    ];
    for (const backend of backends) {
      const rand = makeRandom(300 + backend.threads);
      for (const c of cases) check(backend, rand, c);
    }
  });

  test('k == 0 gives zeros (or leaves out unchanged when accumulating)', () => {
    for (const backend of backends) {
      const rand = makeRandom(400);
      check(backend, rand, { batch: 2, m: 3, k: 0, n: 17, a: 'plain', b: 'plain' });
      check(backend, rand, { batch: 1, m: 3, k: 0, n: 17, a: 'plain', b: 'plain', accumulate: true });
      check(backend, rand, { batch: 1, m: 1, k: 0, n: 5, a: 'plain', b: 'transposed' });
    }
  });

  test('operands with neither stride 1 fall back to ref and still match', () => {
    for (const backend of backends) {
      const rand = makeRandom(500);
      check(backend, rand, { batch: 2, m: 5, k: 17, n: 3, a: 'gapped', b: 'plain' });
      check(backend, rand, { batch: 1, m: 17, k: 3, n: 65, a: 'plain', b: 'gapped', accumulate: true });
    }
  });
});
