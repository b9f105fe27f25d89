// GEMM throughput of every fast backend at 1 and 2 threads, on the shapes a GPT-2-small forward
// pass runs (MLP in/out, attention projections over 512 tokens, the unembed GEMV, per-head
// attention scores), with B plain and transposed (nn.Linear / W_U layout). One JSON line per case;
// then numpy on the same cases (bench/numpy_gemm.py) and a ratio line per case.
// `npm run bench -- gemm`, or `node dist/bench/run.js gemm`.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createBackend, registeredBackends } from '../src/backend/registry.js';
import type { Backend, BackendName, MatrixView } from '../src/backend/types.js';

interface GemmCase {
  batch: number;
  m: number;
  k: number;
  n: number;
}

/** Keep in sync with CASES in bench/numpy_gemm.py. */
const CASES: GemmCase[] = [
  { batch: 1, m: 128, k: 768, n: 3072 },
  { batch: 1, m: 128, k: 3072, n: 768 },
  { batch: 1, m: 512, k: 768, n: 768 },
  { batch: 1, m: 1, k: 768, n: 50257 },
  { batch: 12, m: 128, k: 64, n: 128 },
];
const THREAD_COUNTS = [1, 2];
const MIN_SECONDS = 0.15;
const ROUNDS = 5;

interface GemmResult extends GemmCase {
  bench: 'gemm';
  backend: string;
  threads: number;
  transB: boolean;
  gflops: number;
}

async function registerFastBackends(): Promise<void> {
  // Each import registers its backend; one whose build is missing simply stays unregistered.
  for (const path of ['../src/backend/wasm/index.js', '../src/backend/native/index.js']) {
    try {
      await import(path);
    } catch {
      // not built here
    }
  }
}

/** Best per-call seconds over ROUNDS rounds of at least MIN_SECONDS (robust to a busy machine). */
function bestSeconds(fn: () => void): number {
  fn();
  fn();
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      fn();
      calls++;
      elapsed = (performance.now() - start) / 1000;
    } while (elapsed < MIN_SECONDS);
    best = Math.min(best, elapsed / calls);
  }
  return best;
}

function randomFill(data: ArrayLike<number> & { [i: number]: number; length: number }): void {
  for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
}

function measure(backend: Backend, c: GemmCase, transB: boolean): number {
  const { batch, m, k, n } = c;
  const a = backend.alloc('float32', batch * m * k);
  const b = backend.alloc('float32', batch * k * n);
  const out = backend.alloc('float32', batch * m * n);
  randomFill(a.data);
  randomFill(b.data);
  const aView: MatrixView = { storage: a, offset: 0, batchStride: m * k, rowStride: k, colStride: 1 };
  // Transposed B is stored [n, k] (nn.Linear weights, W_U) and read as [k, n].
  const bView: MatrixView = transB
    ? { storage: b, offset: 0, batchStride: k * n, rowStride: 1, colStride: k }
    : { storage: b, offset: 0, batchStride: k * n, rowStride: n, colStride: 1 };
  const seconds = bestSeconds(() => backend.matmul(aView, bView, batch, m, k, n, out, false));
  for (const s of [a, b, out]) backend.free(s);
  return (2 * batch * m * k * n) / seconds / 1e9;
}

function caseKey(r: GemmCase & { threads: number; transB: boolean }): string {
  return `${r.threads}:${r.batch}x${r.m}x${r.k}x${r.n}:${r.transB}`;
}

/** numpy's results from bench/numpy_gemm.py, or [] when python3 with numpy is not there. */
function numpyResults(): GemmResult[] {
  const script = fileURLToPath(new URL('../../bench/numpy_gemm.py', import.meta.url));
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(JSON.stringify({ bench: 'gemm', note: 'python3 with numpy not found: no numpy comparison' }));
    return [];
  }
  const result = spawnSync('python3', [script, ...THREAD_COUNTS.map(String)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (result.status !== 0) {
    console.log(JSON.stringify({ bench: 'gemm', note: `numpy_gemm.py failed: ${result.stderr.trim().split('\n').pop()}` }));
    return [];
  }
  return result.stdout.trim().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as GemmResult);
}

export async function run(): Promise<void> {
  await registerFastBackends();
  const names = registeredBackends().filter((name): name is Exclude<BackendName, 'ref'> => name !== 'ref');
  const results: GemmResult[] = [];
  for (const name of names) {
    for (const threads of THREAD_COUNTS) {
      let backend: Backend;
      try {
        backend = createBackend(name, { threads });
      } catch (err) {
        console.log(JSON.stringify({ bench: 'gemm', backend: name, note: `cannot start: ${(err as Error).message}` }));
        break;
      }
      try {
        for (const c of CASES) {
          for (const transB of [false, true]) {
            const gflops = measure(backend, c, transB);
            const result: GemmResult = { bench: 'gemm', backend: name, threads: backend.threads, ...c, transB,
              gflops: Math.round(gflops * 100) / 100 };
            results.push(result);
            console.log(JSON.stringify(result));
          }
        }
      } finally {
        backend.dispose();
      }
    }
  }
  const numpy = numpyResults();
  for (const line of numpy) console.log(JSON.stringify(line));
  const numpyByCase = new Map(numpy.map((r) => [caseKey(r), r.gflops]));
  for (const r of results) {
    const reference = numpyByCase.get(caseKey(r));
    if (reference === undefined) continue;
    console.log(JSON.stringify({ bench: 'gemm-ratio', backend: r.backend, vs: 'numpy', threads: r.threads, batch: r.batch,
      m: r.m, k: r.k, n: r.n, transB: r.transB, ratio: Math.round((r.gflops / reference) * 100) / 100 }));
  }
}
