// Every supported family against the independent float64 reference (hf-reference.ts): a seeded
// random checkpoint is written as a Hugging Face folder, loaded with loadModelFolder, and its logits
// and activations must match the reference within 1e-4 on every backend that starts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend } from '../../src/backend/registry.js';
import type { BackendName } from '../../src/backend/types.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import { ARCH_CASES } from './arch-cases.js';
import { toFloat64 } from './checkpoints.js';
import { referenceForward } from './hf-reference.js';
import { TestRng, assertClose, assertShape, backendsToTest, maxAbsDiff, tempRoot, writeModelFolder } from './helpers.js';

const TOLERANCE = 1e-4;
const BATCH = 2;
const POS = 9;

describe('each architecture matches the float64 reference forward', () => {
  const root = tempRoot('arch');
  let backends: BackendName[] = [];
  before(async () => { backends = await backendsToTest(); });
  after(() => root.cleanup());

  ARCH_CASES.forEach((archCase, index) => {
    test(archCase.name, async () => {
      const rng = new TestRng(1000 + index);
      const checkpoint = archCase.weights(rng);
      const folder = await writeModelFolder(root.dir, `case-${index}`, archCase.config, checkpoint);
      const weights = toFloat64(checkpoint);
      const tokens = rng.tokens(BATCH, POS, archCase.config.vocab_size as number);
      const expected = referenceForward(archCase.config, weights, tokens);

      if (archCase.sensitiveTo) {
        const altered = referenceForward({ ...archCase.config, ...archCase.sensitiveTo.config }, weights, tokens);
        const gap = maxAbsDiff(altered.logits.data, expected.logits.data);
        assert.ok(gap > 1e-3, `${archCase.sensitiveTo.what} changes the reference logits by only ${gap}: the case cannot detect it`);
      }

      for (const backendName of backends) {
        const model = await loadModelFolder(folder, { backend: getBackend(backendName) });
        const { logits, cache } = model.runWithCache(tokens);
        try {
          const where = `${backendName}`;
          assertShape(logits, expected.logits.shape, `${where} logits`);
          assertClose(logits.toArray(), expected.logits.data, TOLERANCE, `${where} logits`);
          for (const [name, act] of expected.acts) {
            assert.ok(model.hookNames.includes(name), `model has no hook point ${name}`);
            const actual = cache.get(name);
            assertShape(actual, act.shape, `${where} ${name}`);
            assertClose(actual.toArray(), act.data, TOLERANCE, `${where} ${name}`);
          }
          // The plain forward (fused norms, no hooks) agrees too.
          const plain = model.forward(tokens);
          assertClose(plain.toArray(), expected.logits.data, TOLERANCE, `${where} forward() logits`);
          plain.dispose();
        } finally {
          logits.dispose();
          cache.dispose();
          model.dispose();
        }
      }
    });
  });
});
