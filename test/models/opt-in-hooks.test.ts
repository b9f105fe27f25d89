// The opt-in hook points circuit discovery needs (TransformerLens's use_split_qkv_input,
// use_attn_result, use_hook_mlp_in, use_attn_in), on a sequential (GPT-2), a parallel-residual
// (NeoX) and a grouped-query (Llama) fixture: listening at them leaves the logits unchanged; each
// head's result is z_h · W_O[h] computed by hand and they sum to attn_out − b_O; the split inputs
// are the residual before ln1, and giving one head's query another input changes that head's
// query only, to exactly what the other input gives; patterns never match them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UnknownHookError } from '../../src/hooks/hook-set.js';
import type { Linear } from '../../src/models/params.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { FIXTURES, assertClose, assertShape, assertThrowsWith, fixtureTokens, loadFixture, maxAbsDiff } from './helpers.js';

function data(t: Tensor): Float64Array {
  return Float64Array.from(t.toArray());
}

/** Σ_e z[r, h, e] · W_O[h·d_head + e, o] for every row r, in float64, from either weight layout. */
function handResult(z: Float64Array, out: Linear, rows: number, nHeads: number, dHead: number, dModel: number, head: number): Float64Array {
  const w = data(out.weight);
  const result = new Float64Array(rows * dModel);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < dModel; o++) {
      let s = 0;
      for (let e = 0; e < dHead; e++) {
        const input = head * dHead + e;
        const weight = out.transposed ? w[o * out.weight.shape[1] + input] : w[input * dModel + o];
        s += z[(r * nHeads + head) * dHead + e] * weight;
      }
      result[r * dModel + o] = s;
    }
  }
  return result;
}

/** Slice [.., head, :] of a [batch, pos, heads, width] array. */
function headSlice(values: Float64Array, rows: number, heads: number, width: number, head: number): Float64Array {
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(values.subarray((r * heads + head) * width, (r * heads + head + 1) * width), r * width);
  return out;
}

for (const fixture of FIXTURES) {
  describe(`opt-in hook points on ${fixture}`, () => {
    let model: HookedTransformer;
    let tokens: number[][];
    before(async () => {
      model = await loadFixture(fixture);
      tokens = await fixtureTokens(fixture);
    });
    after(() => model.dispose());

    test('listening at every opt-in point leaves the logits unchanged; shapes follow the axis names', () => {
      const c = model.config;
      const plain = model.forward(tokens);
      const names = model.optInHookPoints.map((p) => p.name);
      const { logits, cache } = model.runWithCache(tokens, { names });
      try {
        assertClose(logits.toArray(), plain.toArray(), 2e-5, 'logits with the per-head computation');
        const sizes: Record<string, number> = { batch: tokens.length, pos: tokens[0].length, head: c.nHeads, kv_head: c.nKvHeads, d_model: c.dModel };
        for (const point of model.optInHookPoints) assertShape(cache.get(point.name), point.axes.map((a) => sizes[a]), point.name);
        assert.equal(names.includes('blocks.0.hook_attn_in'), c.nKvHeads === c.nHeads, 'hook_attn_in exists unless kv heads are shared');
      } finally {
        plain.dispose();
        logits.dispose();
        cache.dispose();
      }
    });

    test('each head result is z_h · W_O[h] (by hand, float64); the results sum to attn_out − b_O', () => {
      const c = model.config;
      const layer = c.nLayers - 1;
      const b = `blocks.${layer}.`;
      const { logits, cache } = model.runWithCache(tokens, { names: [`${b}attn.hook_z`, `${b}attn.hook_result`, `${b}hook_attn_out`] });
      try {
        const rows = tokens.length * tokens[0].length;
        const z = data(cache.get(`${b}attn.hook_z`));
        const result = data(cache.get(`${b}attn.hook_result`));
        const out = model.params.blocks[layer].attn.out;
        const summed = new Float64Array(rows * c.dModel);
        for (let h = 0; h < c.nHeads; h++) {
          const expected = handResult(z, out, rows, c.nHeads, c.dHead, c.dModel, h);
          const actual = headSlice(result, rows, c.nHeads, c.dModel, h);
          assertClose(actual, expected, 1e-5, `head ${h} result`);
          actual.forEach((v, i) => { summed[i] += v; });
        }
        const bias = out.bias ? data(out.bias) : new Float64Array(c.dModel);
        const attnOut = data(cache.get(`${b}hook_attn_out`)).map((v, i) => v - bias[i % c.dModel]);
        assertClose(summed, attnOut, 1e-5, 'Σ heads = attn_out − b_O');
        assert.ok(maxAbsDiff(headSlice(result, rows, c.nHeads, c.dModel, 0), headSlice(result, rows, c.nHeads, c.dModel, 1)) > 1e-4, 'heads differ');
      } finally {
        logits.dispose();
        cache.dispose();
      }
    });

    test('the split inputs are the residual before ln1 (per head); mlp_in is resid_mid, or resid_pre with parallel residual', () => {
      const c = model.config;
      const layer = 1;
      const b = `blocks.${layer}.`;
      const names = [`${b}hook_resid_pre`, `${b}hook_q_input`, `${b}hook_k_input`, `${b}hook_v_input`, `${b}hook_mlp_in`, `${b}hook_attn_out`];
      const { logits, cache } = model.runWithCache(tokens, { names });
      try {
        const rows = tokens.length * tokens[0].length;
        const pre = data(cache.get(`${b}hook_resid_pre`));
        for (const [input, heads] of [['q', c.nHeads], ['k', c.nKvHeads], ['v', c.nKvHeads]] as const) {
          const split = data(cache.get(`${b}hook_${input}_input`));
          for (let h = 0; h < heads; h++) assertClose(headSlice(split, rows, heads, c.dModel, h), pre, 0, `${input} input of head ${h}`);
        }
        const attnOut = data(cache.get(`${b}hook_attn_out`));
        const expected = c.parallelResidual ? pre : pre.map((v, i) => v + attnOut[i]);
        assertClose(data(cache.get(`${b}hook_mlp_in`)), expected, 1e-6, 'mlp_in');
      } finally {
        logits.dispose();
        cache.dispose();
      }
    });

    test("one head's query input from another prompt changes that head's query only, to the other prompt's query", () => {
      const c = model.config;
      const layer = 1;
      const head = 1;
      const b = `blocks.${layer}.`;
      const [first, second] = [tokens[0], tokens[1]];
      const source = model.runWithCache([second], { names: [`${b}hook_resid_pre`, `${b}attn.hook_q`] });
      const base = model.runWithCache([first], { names: [`${b}attn.hook_q`, `${b}attn.hook_k`] });
      const patched = model.runWithCache([first], {
        names: [`${b}attn.hook_q`, `${b}attn.hook_k`],
        hooks: [{ name: `${b}hook_q_input`, fn: (x) => x.indexPut([null, null, head], source.cache.get(`${b}hook_resid_pre`)) }],
      });
      try {
        const rows = first.length;
        const q = (run: typeof base) => data(run.cache.get(`${b}attn.hook_q`));
        for (let h = 0; h < c.nHeads; h++) {
          const expected = h === head ? headSlice(q(source), rows, c.nHeads, c.dHead, h) : headSlice(q(base), rows, c.nHeads, c.dHead, h);
          assertClose(headSlice(q(patched), rows, c.nHeads, c.dHead, h), expected, 2e-5, `query of head ${h}`);
        }
        assertClose(data(patched.cache.get(`${b}attn.hook_k`)), data(base.cache.get(`${b}attn.hook_k`)), 2e-5, 'keys unchanged');
        assert.ok(maxAbsDiff(headSlice(q(source), rows, c.nHeads, c.dHead, head), headSlice(q(base), rows, c.nHeads, c.dHead, head)) > 1e-3, 'the prompts give different queries');
        assert.ok(maxAbsDiff(patched.logits.toArray(), base.logits.toArray()) > 0, 'the patch reaches the logits');
      } finally {
        for (const run of [source, base, patched]) {
          run.logits.dispose();
          run.cache.dispose();
        }
      }
    });

    test('patterns and predicates never match opt-in points; runWithCache records them only when named', () => {
      const seen: string[] = [];
      const out = model.runWithHooks(tokens, [{ name: /input|result|mlp_in|attn_in/, fn: (_, p) => { seen.push(p.name); } }]);
      out.dispose();
      assert.deepEqual(seen, []);
      const { logits, cache } = model.runWithCache(tokens, { names: (n) => n.startsWith('blocks.0.') });
      assert.ok(!cache.names.some((n) => model.optInHookPoints.some((p) => p.name === n)), 'no opt-in point cached by a predicate');
      logits.dispose();
      cache.dispose();
      assertThrowsWith(() => model.runWithHooks(tokens, [{ name: 'blocks.0.hook_q_inpt', fn: () => undefined }]), UnknownHookError, ['blocks.0.hook_q_input']);
    });
  });
}
