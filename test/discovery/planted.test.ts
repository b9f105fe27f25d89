// A planted circuit: a hand-written 2-layer Llama (untied unembedding, affine RMSNorm, uniform
// attention, no MLPs) whose residual stream has four 8-dimensional subspaces — TOK (token one-hot),
// S1, S2 and JUNK. Head 0.0 copies TOK into S1, head 1.0 copies S1 into S2, and the unembedding
// reads only S2; heads 0.1 and 1.1 copy TOK into JUNK, which nothing reads. Changing one early
// token changes the answer only through input → 0.0 (value) → 1.0 (value) → logits, so exactly those
// three edges score, the top three are that circuit, it is fully faithful, and the JSON and SVG
// exports mark it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributeEdges } from '../../src/discovery/attribution.js';
import { selectCircuit } from '../../src/discovery/circuit.js';
import { circuitToJson } from '../../src/discovery/export.js';
import { evaluateCircuit } from '../../src/discovery/faithfulness.js';
import { circuitSvg } from '../../src/discovery/svg.js';
import { parseSvg } from '../cli/analysis-helpers.js';
import type { Checkpoint } from '../models/helpers.js';
import { modelFrom } from './tiny-models.js';

const V = 8;
const D = 32;
const TOK = 0;
const S1 = 8;
const S2 = 16;
const JUNK = 24;
const HEADS = 2;
const D_HEAD = 8;
const EPS = 1e12;

function plantedModel() {
  const weights: Checkpoint = new Map();
  const matrix = (name: string, rows: number, cols: number, entries: [number, number][]) => {
    const data = new Float32Array(rows * cols);
    for (const [r, c] of entries) data[r * cols + c] = 1;
    weights.set(name, { shape: [rows, cols], data });
  };
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  matrix('model.embed_tokens.weight', V, D, range(V).map((t) => [t, TOK + t]));
  matrix('lm_head.weight', V, D, range(V).map((t) => [t, S2 + t]));
  weights.set('model.norm.weight', { shape: [D], data: new Float32Array(D).fill(Math.sqrt(EPS)) });
  // [heads' value feature e] reads `from + e` and writes `to + e` (nn.Linear layouts: [out, in]).
  const plan = [[[TOK, S1], [TOK, JUNK]], [[S1, S2], [TOK, JUNK]]];
  plan.forEach((heads, l) => {
    const p = `model.layers.${l}.`;
    weights.set(`${p}input_layernorm.weight`, { shape: [D], data: new Float32Array(D).fill(Math.sqrt(EPS)) });
    weights.set(`${p}post_attention_layernorm.weight`, { shape: [D], data: new Float32Array(D).fill(Math.sqrt(EPS)) });
    matrix(`${p}self_attn.q_proj.weight`, HEADS * D_HEAD, D, []);
    matrix(`${p}self_attn.k_proj.weight`, HEADS * D_HEAD, D, []);
    matrix(`${p}self_attn.v_proj.weight`, HEADS * D_HEAD, D, heads.flatMap(([from], h) => range(D_HEAD).map((e) => [h * D_HEAD + e, from + e] as [number, number])));
    matrix(`${p}self_attn.o_proj.weight`, D, HEADS * D_HEAD, heads.flatMap(([, to], h) => range(D_HEAD).map((e) => [to + e, h * D_HEAD + e] as [number, number])));
    for (const [name, shape] of [['gate_proj', [4, D]], ['up_proj', [4, D]], ['down_proj', [D, 4]]] as const) matrix(`${p}mlp.${name}.weight`, shape[0], shape[1], []);
  });
  return modelFrom({
    model_type: 'llama', hidden_size: D, head_dim: D_HEAD, num_attention_heads: HEADS, num_key_value_heads: HEADS, num_hidden_layers: 2, intermediate_size: 4,
    max_position_embeddings: 16, vocab_size: V, rms_norm_eps: EPS, hidden_act: 'silu', tie_word_embeddings: false,
  }, weights);
}

const PLANTED = ['input->a0.h0<v>', 'a0.h0->a1.h0<v>', 'a1.h0->logits'];

/** By hand: the last logit of token t is Σ over its positions p of (1/n) Σ_{j ≥ p} 1/(j + 1) (two uniform averages). */
function logitDiffByHand(tokens: readonly number[], answer: number, wrong: number): number {
  const n = tokens.length;
  const weight = (p: number) => Array.from({ length: n - p }, (_, k) => 1 / (p + k + 1)).reduce((a, b) => a + b, 0) / n;
  return tokens.reduce((sum, t, p) => sum + (t === answer ? weight(p) : t === wrong ? -weight(p) : 0), 0);
}

test('the planted circuit is exactly the set of scoring edges, the top three, fully faithful, and marked in the exports', async () => {
  const model = plantedModel();
  // Token 1 is the answer; the corrupted prompt has the wrong token there instead.
  const examples = [[3, 1, 5, 6, 7], [4, 2, 0, 6, 3], [7, 5, 3, 0, 4]].map((clean, i) => {
    const [answer, wrong] = [clean[1], [6, 7, 2][i]];
    return { clean, corrupted: clean.map((t, p) => (p === 1 ? wrong : t)), answer, wrong };
  });
  try {
    for (const method of ['eap', 'eap-ig'] as const) {
      const scores = await attributeEdges(model, examples, { method });
      const mean = (which: 'clean' | 'corrupted') => examples.reduce((s, e) => s + logitDiffByHand(e[which], e.answer, e.wrong), 0) / examples.length;
      assert.ok(Math.abs(scores.baselines.clean - mean('clean')) < 1e-5 && Math.abs(scores.baselines.corrupted - mean('corrupted')) < 1e-5,
        `clean ${scores.baselines.clean} vs ${mean('clean')}, corrupted ${scores.baselines.corrupted} vs ${mean('corrupted')}`);
      assert.ok(mean('clean') > 0.1 && mean('corrupted') < -0.1);
      const largest = Math.max(...scores.scores.map(Math.abs));
      const scoring = scores.graph.edges.filter((_, e) => Math.abs(scores.scores[e]) > 1e-4 * largest).map((e) => e.id);
      assert.deepEqual(scoring.sort(), [...PLANTED].sort(), `${method}: edges that score`);
      const circuit = selectCircuit(scores, { topN: 3 });
      assert.deepEqual(scores.graph.edges.filter((_, e) => circuit.edges[e]).map((e) => e.id).sort(), [...PLANTED].sort());
      const evaluation = await evaluateCircuit(model, examples, circuit);
      assert.ok(Math.abs(evaluation.faithfulness - 1) < 1e-4, `faithfulness ${evaluation.faithfulness}`);
      const broken = selectCircuit(scores, { topN: 2 });
      assert.equal(broken.edgeCount, 0, 'two of the three edges leave no input → logits path');

      const json = circuitToJson(scores, circuit, { model: 'planted', evaluation });
      assert.deepEqual(json.edges.filter((e) => e.in_circuit).map((e) => e.id).sort(), [...PLANTED].sort());
      assert.deepEqual(json.nodes.filter((n) => n.in_circuit).map((n) => n.id), ['input', 'a0.h0', 'a1.h0', 'logits']);
      assert.equal(json.edge_total, scores.graph.edges.length);
      assert.equal(JSON.parse(JSON.stringify(json)).circuit.faithfulness, evaluation.faithfulness);
      const svg = parseSvg(circuitSvg(scores, circuit));
      const titles = svg.texts.filter((t) => t.includes('->'));
      assert.deepEqual(titles.map((t) => t.split(':')[0]).sort(), [...PLANTED].sort(), 'one drawn edge per circuit edge');
      for (const label of ['input', 'logits', '0.0', '1.0', 'layer 1']) assert.ok(svg.texts.includes(label), `SVG shows '${label}'`);
    }
  } finally {
    model.dispose();
  }
});
