// Per-op dispatch overhead of the tensor layer: a tiny op (add of two 768-vectors, result
// allocated and freed) on every backend that starts here, with autograd off and on. Prints one
// JSON line per backend and case; `node dist/bench/run.js op_overhead` calls run().

import '../src/backend/ref/index.js';
import { getBackend, registeredBackends } from '../src/backend/registry.js';
import type { Backend, BackendName } from '../src/backend/types.js';
import { noGrad, randn, type Tensor } from '../src/tensor/index.js';

async function registerFastBackends(): Promise<void> {
  // Each import registers its backend; a backend whose build is missing simply stays unregistered.
  for (const path of ['../src/backend/wasm/index.js', '../src/backend/native/index.js']) {
    try {
      await import(path);
    } catch {
      // not built on this machine
    }
  }
}

function startBackend(name: BackendName): Backend | null {
  try {
    return getBackend(name);
  } catch {
    return null;
  }
}

/** Median over rounds of the mean time per call, in microseconds. */
function timeOp(op: () => void, callsPerRound: number, rounds: number): number {
  for (let i = 0; i < callsPerRound; i++) op();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < callsPerRound; i++) op();
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / callsPerRound);
  }
  samples.sort((x, y) => x - y);
  return samples[Math.floor(rounds / 2)];
}

function line(backend: string, op: string, us: number): void {
  console.log(JSON.stringify({ bench: 'op_overhead', backend, op, us: Number(us.toFixed(3)) }));
}

export async function run(): Promise<void> {
  await registerFastBackends();
  for (const name of registeredBackends()) {
    const backend = startBackend(name);
    if (backend === null) continue;
    const a = randn([768], { backend, seed: 1 });
    const b = randn([768], { backend, seed: 2 });
    const addDispose = (x: Tensor, y: Tensor) => () => x.add(y).dispose();
    line(name, 'add768', noGrad(() => timeOp(addDispose(a, b), 20000, 9)));
    const view = a.reshape(24, 32);
    line(name, 'transpose_view', timeOp(() => view.mT.dispose(), 20000, 9));
    const w = randn([768], { backend, seed: 3, requiresGrad: true });
    line(name, 'add768_recording_grad', timeOp(addDispose(a, w), 20000, 9));
    for (const t of [a, b, view, w]) t.dispose();
  }
}

// Run directly (`node dist/bench/op_overhead.js`) as well as through the dispatcher.
if (import.meta.url === `file://${process.argv[1]}`) await run();
