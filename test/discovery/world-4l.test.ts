// Circuit discovery on the shipped world-4l organism (the done-when): EAP-IG on 32 IOI pairs
// (held-out names; corrupted prompts use three other names) finds a circuit of at most 10% of the
// edges that keeps at least 80% of the logit difference, and the heads that attend from the last
// position to the indirect object more than to the subject are in it. The thresholds are the
// issue's; the attention criterion is structural, so a retrained organism with the same mechanism passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import '../../src/index.js';
import { attributeEdges } from '../../src/discovery/attribution.js';
import { selectCircuit } from '../../src/discovery/circuit.js';
import { evaluateCircuit } from '../../src/discovery/faithfulness.js';
import { circuitHeads, endAttention } from '../../src/discovery/head-attention.js';
import { ioiCircuitExamples } from '../../src/discovery/ioi-dataset.js';
import { loadModel } from '../../src/io/load.js';
import { ioiEvalSet } from '../../src/organisms/data/ioi.js';
import { ALL_NAMES, IOI_HELD_OUT_NAMES } from '../../src/organisms/data/words.js';
import { Rng } from '../../src/tensor/index.js';
import { repoRoot } from '../io/fixture-paths.js';

test('world-4l IOI: an EAP-IG circuit of ≤ 10% of the edges is ≥ 0.8 faithful and holds the END→IO heads', async () => {
  const { model, tokenizer } = await loadModel(join(repoRoot, 'models', 'world-4l'));
  assert.ok(tokenizer !== null);
  try {
    const examples = ioiCircuitExamples(tokenizer, ioiEvalSet(new Rng(0), 32, IOI_HELD_OUT_NAMES), { names: ALL_NAMES, seed: 0 });
    const scores = await attributeEdges(model, examples, { method: 'eap-ig', steps: 5 });
    assert.ok(scores.baselines.clean > 1 && Math.abs(scores.baselines.corrupted) < 0.5 * scores.baselines.clean,
      `IOI works and the corruption removes it: clean ${scores.baselines.clean}, corrupted ${scores.baselines.corrupted}`);
    const total = scores.graph.edges.length;
    const circuit = selectCircuit(scores, { topN: Math.floor(0.1 * total) });
    const { faithfulness } = await evaluateCircuit(model, examples, circuit);
    assert.ok(circuit.edgeCount <= 0.1 * total, `${circuit.edgeCount} of ${total} edges`);
    assert.ok(faithfulness >= 0.8, `faithfulness ${faithfulness} with ${circuit.edgeCount} edges`);

    const attention = endAttention(model, examples);
    // Name movers: a large share of END's attention on IO, clearly more than on S.
    const ioHeads = attention.filter((a) => a.toAnswer >= 0.2 && a.toAnswer >= 1.5 * a.toWrong);
    assert.ok(ioHeads.length > 0, `some head attends END→IO: ${JSON.stringify(attention)}`);
    const inCircuit = circuitHeads(circuit);
    for (const a of ioHeads) {
      assert.ok(inCircuit.some((h) => h.layer === a.layer && h.head === a.head), `END→IO head L${a.layer}H${a.head} (→IO ${a.toAnswer}, →S ${a.toWrong}) is in the circuit`);
    }
  } finally {
    model.dispose();
  }
});
