// Internal consistency of the cached activations on each shipped fixture (GPT-2, Pythia with the
// parallel residual, Llama with GQA): the residual stream adds up, attention patterns are causal
// distributions, z·W_O reproduces attn_out, norms' scale/normalized hooks mean what TL says, every
// hook point is cached with the shape its axes imply, and stopAtLayer returns resid_pre.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Linear } from '../../src/nn/linear.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { FIXTURES, assertClose, assertShape, fixtureTokens, loadFixture } from './helpers.js';

const TOLERANCE = 1e-4;

function data(t: Tensor): Float64Array {
  return Float64Array.from(t.toArray());
}

function sum(...arrays: Float64Array[]): Float64Array {
  return arrays[0].map((_, i) => arrays.reduce((s, a) => s + a[i], 0));
}

/** Size of each axis name hookPointsFor uses, for a run of [batch, pos] tokens without a KV cache. */
function axisSizes(model: HookedTransformer, batch: number, pos: number): Record<string, number> {
  const c = model.config;
  return {
    batch, pos, query_pos: pos, key_pos: pos, head: c.nHeads, kv_head: c.nKvHeads, d_head: c.dHead,
    d_model: c.dModel, d_mlp: c.dMlp, 1: 1,
  };
}

/** W_O of head h as [d_head][d_model] (float64), from the output projection in either layout. */
function headOutputWeights(out: Linear, h: number, dHead: number, dModel: number): Float64Array {
  const w = data(out.weight);
  const result = new Float64Array(dHead * dModel);
  for (let e = 0; e < dHead; e++) {
    for (let o = 0; o < dModel; o++) {
      const input = h * dHead + e;
      // nn.Linear stores [out, in]; GPT-2's Conv1D stores [in, out].
      result[e * dModel + o] = out.transposed ? w[o * (out.weight.shape[1]) + input] : w[input * dModel + o];
    }
  }
  return result;
}

for (const fixture of FIXTURES) {
  test(`${fixture}: cached activations are internally consistent`, async () => {
    const model = await loadFixture(fixture);
    const tokens = await fixtureTokens(fixture);
    const batch = tokens.length;
    const pos = tokens[0].length;
    const c = model.config;
    const { logits, cache } = model.runWithCache(tokens);
    try {
      // Every hook point is cached, with the shape its axis names imply.
      const sizes = axisSizes(model, batch, pos);
      assert.deepEqual(cache.names.sort(), [...model.hookNames].sort());
      for (const point of model.hookPoints) {
        const expected = point.axes.map((axis) => {
          assert.ok(axis in sizes, `${point.name}: unknown axis ${axis}`);
          return sizes[axis];
        });
        assertShape(cache.get(point.name), expected, point.name);
        assert.deepEqual(cache.pointInfo(point.name).axes, point.axes);
      }

      // The residual stream adds up.
      let embedded = data(cache.get('hook_embed'));
      if (cache.has('hook_pos_embed')) embedded = sum(embedded, data(cache.get('hook_pos_embed')));
      assertClose(data(cache.get('blocks.0.hook_resid_pre')), embedded, 1e-6, 'resid_pre 0 = embed (+ pos_embed)');
      for (let l = 0; l < c.nLayers; l++) {
        const b = `blocks.${l}.`;
        const pre = data(cache.get(`${b}hook_resid_pre`));
        const attnOut = data(cache.get(`${b}hook_attn_out`));
        const mlpOut = data(cache.get(`${b}hook_mlp_out`));
        const post = data(cache.get(`${b}hook_resid_post`));
        if (c.parallelResidual) {
          assert.ok(!cache.has(`${b}hook_resid_mid`), 'parallel residual has no resid_mid');
          assertClose(post, sum(pre, attnOut, mlpOut), 1e-5, `${b} resid_pre + attn_out + mlp_out = resid_post`);
        } else {
          const mid = data(cache.get(`${b}hook_resid_mid`));
          assertClose(mid, sum(pre, attnOut), 1e-5, `${b} resid_mid = resid_pre + attn_out`);
          assertClose(post, sum(mid, mlpOut), 1e-5, `${b} resid_post = resid_mid + mlp_out`);
        }
        if (l + 1 < c.nLayers) assertClose(data(cache.get(`blocks.${l + 1}.hook_resid_pre`)), post, 0, `resid_pre ${l + 1} = resid_post ${l}`);

        // Patterns are causal probability distributions.
        const pattern = data(cache.get(`${b}attn.hook_pattern`));
        for (let row = 0; row < batch * c.nHeads * pos; row++) {
          const i = row % pos;
          let total = 0;
          for (let j = 0; j < pos; j++) {
            const p = pattern[row * pos + j];
            if (j > i) assert.equal(p, 0, `${b} pattern row ${row} key ${j} above the diagonal`);
            assert.ok(p >= 0 && p <= 1, `${b} pattern value ${p}`);
            total += p;
          }
          assert.ok(Math.abs(total - 1) < 1e-5, `${b} pattern row ${row} sums to ${total}`);
        }

        // attn_out = Σ_h z_h · W_O[h] + b_O.
        const p = model.params.blocks[l].attn.out;
        const z = data(cache.get(`${b}attn.hook_z`));
        const bias = p.bias ? data(p.bias) : new Float64Array(c.dModel);
        const rebuilt = new Float64Array(batch * pos * c.dModel);
        for (let h = 0; h < c.nHeads; h++) {
          const wo = headOutputWeights(p, h, c.dHead, c.dModel);
          for (let bp = 0; bp < batch * pos; bp++) {
            for (let e = 0; e < c.dHead; e++) {
              const zv = z[(bp * c.nHeads + h) * c.dHead + e];
              for (let o = 0; o < c.dModel; o++) rebuilt[bp * c.dModel + o] += zv * wo[e * c.dModel + o];
            }
          }
        }
        for (let bp = 0; bp < batch * pos; bp++) for (let o = 0; o < c.dModel; o++) rebuilt[bp * c.dModel + o] += bias[o];
        assertClose(rebuilt, attnOut, TOLERANCE, `${b} z·W_O + b_O = attn_out`);

        // ln1: hook_scale = sqrt(var + eps) (or RMS); hook_normalized is TL's (LayerNorm with w and b, RMSNorm without w).
        const scale = data(cache.get(`${b}ln1.hook_scale`));
        const normalized = data(cache.get(`${b}ln1.hook_normalized`));
        const { weight, bias: lnBias } = model.params.blocks[l].ln1;
        const w = weight ? data(weight) : null;
        const lb = lnBias ? data(lnBias) : null;
        const expectScale = new Float64Array(batch * pos);
        const expectNormalized = new Float64Array(pre.length);
        for (let bp = 0; bp < batch * pos; bp++) {
          const x = pre.subarray(bp * c.dModel, (bp + 1) * c.dModel);
          const mean = c.norm === 'layernorm' ? x.reduce((s, v) => s + v, 0) / c.dModel : 0;
          const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / c.dModel;
          expectScale[bp] = Math.sqrt(variance + c.normEps);
          for (let o = 0; o < c.dModel; o++) {
            const n = (x[o] - mean) / expectScale[bp];
            expectNormalized[bp * c.dModel + o] = c.norm === 'layernorm' ? n * (w?.[o] ?? 1) + (lb?.[o] ?? 0) : n;
          }
        }
        assertClose(scale, expectScale, 1e-5, `${b}ln1.hook_scale`);
        assertClose(normalized, expectNormalized, TOLERANCE, `${b}ln1.hook_normalized`);
      }
      assertShape(logits, [batch, pos, c.dVocab], 'logits');
    } finally {
      logits.dispose();
      cache.dispose();
      model.dispose();
    }
  });

  test(`${fixture}: stopAtLayer l returns blocks.l.hook_resid_pre (the last resid_post for l = nLayers)`, async () => {
    const model = await loadFixture(fixture);
    const tokens = (await fixtureTokens(fixture)).map((row) => row.slice(0, 7));
    const names = [...Array.from({ length: model.config.nLayers }, (_, l) => `blocks.${l}.hook_resid_pre`), `blocks.${model.config.nLayers - 1}.hook_resid_post`];
    const { logits, cache } = model.runWithCache(tokens, { names });
    try {
      for (let l = 0; l <= model.config.nLayers; l++) {
        const resid = model.forward(tokens, { stopAtLayer: l });
        assertShape(resid, [2, 7, model.config.dModel], `stopAtLayer ${l}`);
        assertClose(resid.toArray(), cache.get(names[l]).toArray(), 0, `stopAtLayer ${l} = ${names[l]}`);
        resid.dispose();
      }
    } finally {
      logits.dispose();
      cache.dispose();
      model.dispose();
    }
  });
}
