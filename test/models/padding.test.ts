// Padding and positions: a batch of two prompts of different lengths, left- or right-padded with an
// attention mask, gives at every real position the logits each prompt gets alone (learned positions,
// partial rotary and GQA rotary fixtures, plus a built Qwen2 with q/k/v biases); logitPositions
// picks each row's last real token or the listed positions, negative ones included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend } from '../../src/backend/registry.js';
import type { Backend } from '../../src/backend/types.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { tensor } from '../../src/tensor/index.js';
import { IndexError } from '../../src/util/errors.js';
import { ARCH_CASES } from './arch-cases.js';
import {
  FIXTURES, TestRng, backendsToTest, assertClose, assertShape, assertThrowsWith, loadFixture, rowSlice, tempRoot, writeModelFolder,
} from './helpers.js';

const TOLERANCE = 1e-4;
const PAD = 0;

async function loadQwen2(root: string, backend: Backend): Promise<HookedTransformer> {
  const qwen = ARCH_CASES.find((c) => c.name.startsWith('qwen2 (5.x'));
  assert.ok(qwen);
  const folder = await writeModelFolder(root, 'qwen2', qwen.config, qwen.weights(new TestRng(5)));
  return loadModelFolder(folder, { backend });
}

const BACKENDS = await backendsToTest();

describe('padded batches equal prompts run alone', () => {
  const root = tempRoot('padding');
  after(() => root.cleanup());
  const models: [string, () => Promise<HookedTransformer>][] = BACKENDS.flatMap((name) => {
    const backend = getBackend(name);
    return [
      ...FIXTURES.map((f) => [`${f} on ${name}`, () => loadFixture(f, backend)] as [string, () => Promise<HookedTransformer>]),
      [`qwen2 (built) on ${name}`, () => loadQwen2(root.dir, backend)],
    ];
  });

  for (const [name, load] of models) {
    describe(name, () => {
      let model: HookedTransformer;
      let short: number[];
      let long: number[];
      let aloneShort: Float64Array;
      let aloneLong: Float64Array;
      before(async () => {
        model = await load();
        const rng = new TestRng(11);
        const vocab = Math.min(model.config.dVocab, 500);
        short = Array.from({ length: 5 }, () => rng.int(1, vocab));
        long = Array.from({ length: 8 }, () => rng.int(1, vocab));
        const a = model.forward([short]);
        const b = model.forward([long]);
        aloneShort = rowSlice(a, 0, 0, 5);
        aloneLong = rowSlice(b, 0, 0, 8);
        a.dispose();
        b.dispose();
      });
      after(() => model.dispose());

      test('left padding + attentionMask', () => {
        const tokens = [[PAD, PAD, PAD, ...short], long];
        const attentionMask = [[0, 0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1]];
        const logits = model.forward(tokens, { attentionMask });
        assertClose(rowSlice(logits, 0, 3, 5), aloneShort, TOLERANCE, 'left-padded short prompt');
        assertClose(rowSlice(logits, 1, 0, 8), aloneLong, TOLERANCE, 'long prompt beside it');
        assert.ok(logits.toArray().every(Number.isFinite), 'padding positions (queries with no visible key) stay finite');
        logits.dispose();
        const last = model.forward(tokens, { attentionMask, logitPositions: 'last' });
        assertShape(last, [2, 1, model.config.dVocab], 'last');
        assertClose(rowSlice(last, 0, 0, 1), aloneShort.subarray(4 * model.config.dVocab), TOLERANCE, 'last of the left-padded row');
        assertClose(rowSlice(last, 1, 0, 1), aloneLong.subarray(7 * model.config.dVocab), TOLERANCE, 'last of the full row');
        last.dispose();
      });

      test('right padding + attentionMask (as a Tensor mask)', () => {
        const tokens = [[...short, PAD, PAD, PAD], long];
        const mask = tensor([[1, 1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1]], { dtype: 'int32', backend: model.backend });
        const logits = model.forward(tokens, { attentionMask: mask });
        assertClose(rowSlice(logits, 0, 0, 5), aloneShort, TOLERANCE, 'right-padded short prompt');
        assertClose(rowSlice(logits, 1, 0, 8), aloneLong, TOLERANCE, 'long prompt beside it');
        logits.dispose();
        const last = model.forward(tokens, { attentionMask: mask, logitPositions: 'last' });
        assertClose(rowSlice(last, 0, 0, 1), aloneShort.subarray(4 * model.config.dVocab), TOLERANCE, "last picks row 0's fifth token");
        assertClose(rowSlice(last, 1, 0, 1), aloneLong.subarray(7 * model.config.dVocab), TOLERANCE, "last picks row 1's eighth token");
        last.dispose();
        mask.dispose();
      });

      test('logitPositions: numeric lists, negative indices, and out-of-range ones', () => {
        const V = model.config.dVocab;
        const picked = model.forward([long], { logitPositions: [0, -1, 2, -8] });
        assertShape(picked, [1, 4, V], 'picked');
        for (const [i, p] of [0, 7, 2, 0].entries()) {
          assertClose(rowSlice(picked, 0, i, 1), aloneLong.subarray(p * V, (p + 1) * V), TOLERANCE, `position ${p}`);
        }
        picked.dispose();
        const last = model.forward([long], { logitPositions: 'last' });
        assertClose(rowSlice(last, 0, 0, 1), aloneLong.subarray(7 * V), TOLERANCE, "'last' without a mask");
        last.dispose();
        assertThrowsWith(() => model.forward([long], { logitPositions: [8] }), IndexError, ['8', '8 positions']);
        assertThrowsWith(() => model.forward([long], { logitPositions: [-9] }), IndexError, ['-9']);
      });
    });
  }
});
