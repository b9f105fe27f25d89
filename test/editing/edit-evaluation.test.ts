// The edit evaluation's measures against hand computations: ROME's n-gram entropy, perplexity
// against a direct sum of log-probabilities, and prompt scores against the model's own softmax.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateEdit, ngramEntropy, perplexity } from '../../src/editing/edit-evaluation.js';
import { Tokenizer } from '../../src/io/tokenizer.js';
import { noGrad, tidy } from '../../src/tensor/index.js';
import { ref } from '../analysis/inspect-helpers.js';
import { repoRoot } from '../io/fixture-paths.js';
import { loadFixture } from '../models/helpers.js';

test('n-gram entropy is ROME’s: 2- and 3-gram entropies in bits, weighted 2/3 and 4/3, averaged', () => {
  // "a b a b": bigrams ab ×2, ba ×1; trigrams aba, bab.
  const h2 = -((2 / 3) * Math.log2(2 / 3) + (1 / 3) * Math.log2(1 / 3));
  const expected = (h2 * (2 / 3) + 1 * (4 / 3)) / 2;
  assert.ok(Math.abs(ngramEntropy(['a b a b']) - expected) < 1e-12);
  // A text repeating one word has no entropy; the mean over texts averages them.
  assert.equal(ngramEntropy(['x x x x x']), 0);
  assert.ok(Math.abs(ngramEntropy(['a b a b', 'x x x x x']) - expected / 2) < 1e-12);
  // Punctuation is a word of its own (as nltk's word_tokenize).
  assert.ok(ngramEntropy(['one, two. three!']) > 0);
});

test('perplexity is exp(mean next-token NLL), and prompt scores are the model’s probabilities', async () => {
  const model = await loadFixture('gpt2-tiny', ref);
  const tokenizer = await Tokenizer.fromFile(join(repoRoot, 'assets', 'tokenizers', 'gpt2', 'tokenizer.json'));
  try {
    const rows = [[464, 3290, 318, 257, 922], [40, 588, 11]];
    let nll = 0;
    let count = 0;
    for (const row of rows) {
      const logProbs = noGrad(() => tidy(() => model.forward([row]).logSoftmax(-1).toArray()));
      const vocab = model.config.dVocab;
      for (let p = 0; p + 1 < row.length; p++) {
        nll -= logProbs[p * vocab + row[p + 1]];
        count++;
      }
    }
    assert.ok(Math.abs(perplexity(model, rows) - Math.exp(nll / count)) < 1e-4 * Math.exp(nll / count));

    const prompt = 'The cat sat on the';
    const target = ' mat';
    const ids = tokenizer.encode(prompt);
    const next = tokenizer.encode(target, { addSpecialTokens: false });
    assert.equal(next.length, 1);
    const probs = noGrad(() => tidy(() => model.forward([ids], { logitPositions: 'last' }).softmax(-1).reshape(-1).toArray()));
    let top = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i] > probs[top]) top = i;
    const evaluation = await evaluateEdit(model, tokenizer, {
      prompt, target, original: tokenizer.decode([top]), paraphrases: [prompt], neighbours: [{ prompt, answer: tokenizer.decode([top]) }],
    });
    assert.ok(Math.abs(evaluation.efficacy.pTarget - probs[next[0]]) < 1e-6);
    assert.ok(Math.abs((evaluation.efficacy.pOriginal as number) - probs[top]) < 1e-6);
    assert.equal(evaluation.efficacy.top1, next[0] === top);
    assert.equal(evaluation.neighbours[0].kept, true, 'the top token is kept by definition');
    assert.equal(evaluation.specificity, 1);
    assert.equal(evaluation.generalisation, evaluation.efficacy.top1 ? 1 : 0);
    assert.equal(evaluation.fluency, null);
    assert.equal(evaluation.perplexity, null);
  } finally {
    model.dispose();
  }
});
