// Parity with Hugging Face: the fixtures' reference.safetensors hold what transformers computed for
// input_ids under TransformerLens hook names; ours must match within 1e-4 on every backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import '../../src/backend/ref/index.js';
import { getBackend, registeredBackends } from '../../src/backend/registry.js';
import type { BackendName } from '../../src/backend/types.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import { openSafetensors } from '../../src/io/safetensors.js';
import { sharedFixtures } from '../io/fixture-paths.js';

const MODELS = ['gpt2-tiny', 'pythia-tiny', 'llama-tiny'];
const TOLERANCE = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

async function backendsToTest(): Promise<BackendName[]> {
  await import('../../src/backend/wasm/index.js').catch(() => undefined);
  await import('../../src/backend/native/index.js').catch(() => undefined);
  return registeredBackends().filter((name) => {
    try { getBackend(name); return true; } catch { return false; }
  });
}

for (const model of MODELS) {
  test(`${model}: every reference activation matches Hugging Face within ${TOLERANCE}`, async () => {
    const folder = join(sharedFixtures, model);
    const reference = await openSafetensors(join(folder, 'reference.safetensors'));
    const ids = await reference.read('input_ids');
    const [batch, pos] = ids.shape;
    const tokens = Array.from({ length: batch }, (_, b) => Array.from(ids.data.subarray(b * pos, (b + 1) * pos)));
    for (const backendName of await backendsToTest()) {
      const lm = await loadModelFolder(folder, { backend: getBackend(backendName) });
      const { logits, cache } = lm.runWithCache(tokens);
      for (const name of reference.names()) {
        if (name === 'input_ids') continue;
        const expected = await reference.read(name);
        const actual = name === 'logits' ? logits : cache.get(name);
        assert.deepEqual([...actual.shape], expected.shape, `${backendName} ${name} shape`);
        const diff = maxAbsDiff(actual.toArray(), expected.data);
        assert.ok(diff <= TOLERANCE, `${model} on ${backendName}: ${name} differs from HF by ${diff}`);
      }
      logits.dispose();
      cache.dispose();
      lm.dispose();
    }
    await reference.close();
  });
}
