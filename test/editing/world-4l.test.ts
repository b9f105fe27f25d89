// Causal tracing and ROME on the shipped world-4l organism, whose facts about fictional countries
// were trained in many paraphrases. Nothing read off the current checkpoint is hard-coded (it may
// be retrained): the test finds the layer whose MLP carries a capital at the subject, edits the
// fact there, and checks the edit with margins below what it measured (BENCHMARKS.md and the
// report list the measured numbers).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { causalTraceMany } from '../../src/editing/causal-trace.js';
import { evaluateEdit } from '../../src/editing/edit-evaluation.js';
import { computeKeyStatistics } from '../../src/editing/key-statistics.js';
import { romeEdit } from '../../src/editing/rome.js';
import { findSubjectRange } from '../../src/editing/subject.js';
import { traceSummary } from '../../src/editing/trace-summary.js';
import { loadModel, type LoadedModel } from '../../src/io/load.js';
import { Rng, noGrad, tidy } from '../../src/tensor/index.js';
import { FACT_TEMPLATES, factPrompt, worldFacts, type Fact } from '../../src/organisms/data/facts.js';
import { WORLD_GENERATORS } from '../../src/organisms/world.js';
import { repoRoot } from '../io/fixture-paths.js';
import '../../src/index.js';

const capitals = worldFacts().filter((f) => f.relation === 'capital');
const TEMPLATE = FACT_TEMPLATES.capital.train[0];

/** Documents of the synthetic world, as text: the corpus of the key statistics. */
function worldCorpus(count: number, seed: number): string[] {
  const rng = new Rng(seed);
  const generators = Object.values(WORLD_GENERATORS);
  return Array.from({ length: count }, () => generators[rng.int(0, generators.length)].sample(rng));
}

describe('world-4l', () => {
  let loaded: LoadedModel;
  let layer = -1;
  before(async () => { loaded = await loadModel(join(repoRoot, 'models', 'world-4l')); });
  after(() => loaded.model.dispose());

  test('causal tracing: the largest MLP effect is at the last subject token', async () => {
    const { model, tokenizer } = loaded;
    const tok = tokenizer as NonNullable<typeof tokenizer>;
    const prompts = capitals.slice(0, 6).map((f: Fact) => {
      const tokens = tok.encode(factPrompt(f, TEMPLATE));
      return { tokens, subject: findSubjectRange(tok, tokens, f.subject), answer: tok.encode(` ${f.answer}`, { addSpecialTokens: false })[0] };
    });
    const traces = await causalTraceMany(model, prompts, { kinds: ['mlp'], window: 1, samples: 5 });
    const summary = traceSummary(traces, 'mlp');
    assert.ok(summary.prompts >= 3, `the model must recall most of these capitals (${summary.prompts}/6)`);
    assert.ok(summary.totalEffect > 0.3, `corrupting the subject must hurt: total effect ${summary.totalEffect}`);
    const row = summary.effects[summary.groups.indexOf('last subject token')];
    const best = Math.max(...summary.effects.flat().filter((v) => !Number.isNaN(v)));
    layer = row.indexOf(Math.max(...row));
    assert.ok(row[layer] >= best - 1e-12, `the largest mean effect (${best}) is at the last subject token (${row[layer]}, layer ${layer})`);
    assert.ok(row[layer] > 0.3 * summary.totalEffect, `restoring one MLP there recovers much of the fact: ${row[layer]} of ${summary.totalEffect}`);
  });

  test('ROME at that layer rewrites a capital; paraphrases follow, other countries keep theirs; undo is exact', async () => {
    assert.ok(layer >= 0, 'the tracing test ran first');
    const { model, tokenizer } = loaded;
    const tok = tokenizer as NonNullable<typeof tokenizer>;
    const corpus = worldCorpus(300, 5).map((text) => tok.encode(text));
    const statistics = await computeKeyStatistics(model, layer, corpus);
    // The first capital the model knows, moved to the next country's capital.
    const subject = capitals[0];
    const target = ` ${capitals[1].answer}`;
    const spec = {
      prompt: factPrompt(subject, TEMPLATE), target, original: ` ${subject.answer}`,
      paraphrases: [...FACT_TEMPLATES.capital.train, ...FACT_TEMPLATES.capital.heldOut].map((t) => factPrompt(subject, t)),
      neighbours: capitals.filter((f) => f.subject !== subject.subject && f.answer !== capitals[1].answer)
        .map((f) => ({ prompt: factPrompt(f, TEMPLATE), answer: ` ${f.answer}` })),
    };
    const beforeEdit = await evaluateEdit(model, tok, spec);
    assert.equal(beforeEdit.efficacy.top1, false);
    const logitsBefore = noGrad(() => tidy(() => model.forward([tok.encode(spec.prompt)]).toArray()));
    const edit = await romeEdit(model, tok, { prompt: TEMPLATE.replace('{X}', '{}'), subject: subject.subject, target }, { layer, statistics });
    const afterEdit = await evaluateEdit(model, tok, spec);
    const known = beforeEdit.neighbours.map((n, i) => (n.kept ? i : -1)).filter((i) => i >= 0);
    const kept = known.filter((i) => afterEdit.neighbours[i].kept).length / known.length;
    assert.equal(afterEdit.efficacy.top1, true, `efficacy: P(new) = ${afterEdit.efficacy.pTarget}`);
    assert.ok(afterEdit.generalisation >= 0.7, `generalisation ${afterEdit.generalisation}`);
    assert.ok(kept >= 0.8, `specificity ${kept} over ${known.length} neighbours the model knew`);
    edit.undo();
    const logitsAfter = noGrad(() => tidy(() => model.forward([tok.encode(spec.prompt)]).toArray()));
    assert.deepEqual(logitsAfter, logitsBefore, 'undo restores the model exactly');
  });
});
