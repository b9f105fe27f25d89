// In-browser forward-pass timing, in a Web Worker on the wasm backend: world-4l (fetched from the
// page's world-4l/ folder) and a random-init GPT-2-small-shaped model built here, each timed on one
// row of `seq` seeded random tokens, as bench/web-forward.ts times them in Node.

import { Rng, initWasmBackend, modelFromSource, openSafetensorsBytes, setDefaultBackend, type HookedTransformer } from '../../src/index.js';
import { buildGpt2 } from '../lib/gpt2-small.js';

interface BenchRequest {
  threads: number;
  rounds: number;
  seq: number;
}

const scope = globalThis as unknown as {
  onmessage: ((event: { data: BenchRequest }) => void) | null;
  postMessage(message: unknown): void;
  crossOriginIsolated: boolean;
  location: { href: string };
};

/** Median of `rounds` timed calls after three warm-up calls, in ms (as bench/web-forward.ts times Node). */
function medianMs(fn: () => void, rounds: number): number {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function randomTokens(vocab: number, seq: number): number[] {
  const rng = new Rng(1);
  return Array.from({ length: seq }, () => rng.int(0, vocab));
}

async function loadWorld4l(): Promise<HookedTransformer> {
  // The worker script sits in the site's assets/; the model folder beside it.
  const fetchBytes = async (name: string) => new Uint8Array(await (await fetch(new URL(`../world-4l/${name}`, scope.location.href))).arrayBuffer());
  const config = JSON.parse(new TextDecoder().decode(await fetchBytes('config.json'))) as Record<string, unknown>;
  return modelFromSource(openSafetensorsBytes(await fetchBytes('model.safetensors')), config);
}

scope.onmessage = async ({ data }) => {
  try {
    const backend = await initWasmBackend(undefined, { threads: data.threads });
    setDefaultBackend('wasm');
    const results: Record<string, unknown>[] = [];
    for (const name of ['world-4l', 'gpt2-small']) {
      const model = name === 'world-4l' ? await loadWorld4l() : buildGpt2(backend);
      const tokens = randomTokens(model.config.dVocab, data.seq);
      const ms = medianMs(() => model.forward([tokens]).dispose(), data.rounds);
      results.push({ model: name, seq: data.seq, ms });
      model.dispose();
    }
    scope.postMessage({ threads: backend.threads, isolated: scope.crossOriginIsolated, results });
  } catch (err) {
    scope.postMessage({ error: String((err as Error).stack ?? err) });
  }
};
