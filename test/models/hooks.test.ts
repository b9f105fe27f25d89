// Hooks change exactly what they should: a head's z or a position's residual patched by a hook
// equals the same patch made by hand; filters select the right points in forward order; bad
// names and bad replacements fail with typed errors naming the hook; the unfused norm and
// attention-score paths equal the fused ones when their hooks do nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError } from '../../src/util/errors.js';
import { UnknownHookError, type HookPointInfo } from '../../src/hooks/hook-set.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import {
  assertClose, assertThrowsWith, fixtureTokens, loadFixture, maxAbsDiff, refBackend, rowSlice,
} from './helpers.js';

describe('hooks on llama-tiny (GQA, rotary)', () => {
  let model: HookedTransformer;
  let tokens: number[][];
  let clean: Tensor;
  before(async () => {
    model = await loadFixture('llama-tiny');
    tokens = await fixtureTokens('llama-tiny');
    clean = model.forward(tokens);
  });
  after(() => { clean.dispose(); model.dispose(); });

  test("zeroing one head's z equals subtracting that head's z·W_O from attn_out by hand", () => {
    const layer = 0;
    const head = 2;
    const { dHead, dModel, nHeads } = model.config;
    const { logits: cleanLogits, cache } = model.runWithCache(tokens, { names: [`blocks.${layer}.attn.hook_z`, `blocks.${layer}.hook_attn_out`, `blocks.${layer}.attn.hook_pattern`] });
    const { logits: ablated, cache: ablatedCache } = model.runWithCache(tokens, {
      hooks: [{ name: `blocks.${layer}.attn.hook_z`, fn: (z) => z.indexPut([null, null, head], 0) }],
      names: [`blocks.${layer}.attn.hook_z`, `blocks.${layer}.attn.hook_pattern`],
    });
    // Manual: attn_out − z_head · W_O[head], with W_O read from o_proj ([d_model, heads·d_head]).
    const z = cache.get(`blocks.${layer}.attn.hook_z`).toArray();
    const attnOut = Float64Array.from(cache.get(`blocks.${layer}.hook_attn_out`).toArray());
    const w = model.params.blocks[layer].attn.out.weight.toArray();
    const rows = attnOut.length / dModel;
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < dModel; o++) {
        let s = 0;
        for (let e = 0; e < dHead; e++) s += z[(r * nHeads + head) * dHead + e] * w[o * nHeads * dHead + head * dHead + e];
        attnOut[r * dModel + o] -= s;
      }
    }
    const manual = tensor(Float32Array.from(attnOut), cache.get(`blocks.${layer}.hook_attn_out`).shape, { backend: refBackend() });
    const byHand = model.runWithHooks(tokens, [{ name: `blocks.${layer}.hook_attn_out`, fn: () => manual }]);
    try {
      assertClose(ablated.toArray(), byHand.toArray(), 1e-4, 'z-ablated logits vs attn_out patched by hand');
      assert.ok(maxAbsDiff(ablated.toArray(), cleanLogits.toArray()) > 1e-3, 'ablating a head must change the logits');
      assertClose(ablatedCache.get(`blocks.${layer}.attn.hook_pattern`).toArray(), cache.get(`blocks.${layer}.attn.hook_pattern`).toArray(), 0, 'upstream pattern unchanged');
      const patchedZ = ablatedCache.get(`blocks.${layer}.attn.hook_z`).toArray();
      for (let r = 0; r < rows; r++) {
        for (let h = 0; h < nHeads; h++) {
          for (let e = 0; e < dHead; e++) {
            const i = (r * nHeads + h) * dHead + e;
            assert.equal(patchedZ[i], h === head ? 0 : z[i], `cached z [${r}, ${h}, ${e}]`);
          }
        }
      }
    } finally {
      for (const t of [cleanLogits, ablated, manual, byHand]) t.dispose();
      cache.dispose();
      ablatedCache.dispose();
    }
  });

  test("patching one position's residual changes that position and later ones only; patching all equals the source run", () => {
    const name = 'blocks.1.hook_resid_pre';
    const { logits, cache } = model.runWithCache(tokens, { names: [name] });
    const source = cache.get(name); // [2, pos, d]; row 1 is the "corrupted" prompt
    const pos = tokens[0].length;
    const at = 4;
    const patchOne = model.runWithHooks(tokens, [{ name, fn: (x) => x.indexPut([0, at], source.index(1, at)) }]);
    const patchAll = model.runWithHooks(tokens, [{ name, fn: (x) => x.indexPut([0], source.index(1)) }]);
    try {
      assertClose(rowSlice(patchOne, 0, 0, at), rowSlice(logits, 0, 0, at), 0, 'positions before the patch');
      for (let p = at; p < pos; p++) {
        assert.ok(maxAbsDiff(rowSlice(patchOne, 0, p, 1), rowSlice(logits, 0, p, 1)) > 1e-4, `position ${p} must change`);
      }
      assertClose(rowSlice(patchOne, 1, 0, pos), rowSlice(logits, 1, 0, pos), 0, 'the other row');
      assertClose(rowSlice(patchAll, 0, 0, pos), rowSlice(logits, 1, 0, pos), 1e-5, 'row 0 fully patched = row 1');
    } finally {
      for (const t of [logits, patchOne, patchAll]) t.dispose();
      cache.dispose();
    }
  });

  test('filters: RegExp, predicate and list select the right points, in forward order, with their info', () => {
    const filters = [
      { filter: /^blocks\.\d+\.hook_resid_pre$/, expected: model.hookNames.filter((n) => /^blocks\.\d+\.hook_resid_pre$/.test(n)) },
      { filter: (n: string) => n.endsWith('hook_pattern'), expected: ['blocks.0.attn.hook_pattern', 'blocks.1.attn.hook_pattern'] },
      { filter: ['blocks.1.hook_mlp_out', 'hook_embed'], expected: ['hook_embed', 'blocks.1.hook_mlp_out'] },
    ];
    for (const { filter, expected } of filters) {
      const seen: HookPointInfo[] = [];
      const out = model.runWithHooks(tokens, [{ name: filter, fn: (x, point) => { seen.push(point); assert.deepEqual([...x.shape].length, point.axes.length); } }]);
      out.dispose();
      assert.deepEqual(seen.map((p) => p.name), expected, String(filter));
      for (const p of seen) assert.deepEqual(p, model.hookPoints.find((q) => q.name === p.name));
    }
    assert.equal(filters[0].expected.length, model.config.nLayers);
    const { logits, cache } = model.runWithCache(tokens, { names: /hook_rot_k$/ });
    assert.deepEqual(cache.names, ['blocks.0.attn.hook_rot_k', 'blocks.1.attn.hook_rot_k']);
    logits.dispose();
    cache.dispose();
  });

  test('several hooks on one point run in order, each seeing the previous result', () => {
    const name = 'blocks.0.hook_resid_mid';
    const { logits, cache } = model.runWithCache(tokens, {
      names: [name],
      hooks: [{ name, fn: (x) => x.add(1) }, { name: /resid_mid/, fn: (x) => x.mul(2) }],
    });
    const { logits: plain, cache: plainCache } = model.runWithCache(tokens, { names: [name] });
    const expected = Float64Array.from(plainCache.get(name).toArray(), (v) => (v + 1) * 2);
    assertClose(cache.get(name).toArray(), expected, 1e-5, '(x + 1) * 2');
    for (const t of [logits, plain]) t.dispose();
    cache.dispose();
    plainCache.dispose();
  });

  test('an unknown hook name throws UnknownHookError listing close matches', () => {
    assertThrowsWith(() => model.runWithHooks(tokens, [{ name: 'blocks.0.hook_resid_pr', fn: () => undefined }]),
      UnknownHookError, ["'blocks.0.hook_resid_pr'", 'blocks.0.hook_resid_pre']);
    assertThrowsWith(() => model.runWithCache(tokens, { names: ['blocks.1.attn.hook_patern'] }),
      UnknownHookError, ['blocks.1.attn.hook_pattern']);
    // A family without that point: llama has no learned positions.
    assertThrowsWith(() => model.runWithHooks(tokens, [{ name: 'hook_pos_embed', fn: () => undefined }]), UnknownHookError, ['hook_pos_embed']);
  });

  test('a hook returning the wrong shape throws ShapeError naming the hook, and frees what the run allocated', () => {
    const backend = refBackend();
    const baseline = backend.liveBuffers();
    assertThrowsWith(() => model.runWithHooks(tokens, [{ name: 'blocks.1.attn.hook_v', fn: (v) => v.sum(-1) }]),
      ShapeError, ['blocks.1.attn.hook_v', '[2, 12, 2]', '[2, 12, 2, 16]']);
    assertThrowsWith(() => model.runWithCache(tokens, { hooks: [{ name: 'blocks.0.hook_resid_pre', fn: (x) => x.narrow(1, 0, 3) }] }),
      ShapeError, ['blocks.0.hook_resid_pre']);
    assert.equal(backend.liveBuffers(), baseline, 'live buffers after failed runs');
  });

  test('hook_attn_scores sees -Infinity above the diagonal; a no-op there equals the fused softmax', () => {
    const pos = tokens[0].length;
    let checked = 0;
    const out = model.runWithHooks(tokens, [{
      name: /hook_attn_scores$/,
      fn: (scores) => {
        const s = scores.toArray();
        for (let r = 0; r < s.length / pos; r++) {
          const i = r % pos;
          for (let j = 0; j < pos; j++) {
            const v = s[r * pos + j];
            if (j > i) assert.equal(v, -Infinity, `score above the diagonal at query ${i}, key ${j}`);
            else assert.ok(Number.isFinite(v), `score at query ${i}, key ${j} is ${v}`);
          }
        }
        checked++;
      },
    }]);
    assert.equal(checked, model.config.nLayers);
    assertClose(out.toArray(), clean.toArray(), 1e-5, 'logits through the hooked score path');
    out.dispose();
  });

  test('masking a key through hook_attn_scores removes it from the pattern', () => {
    const name = 'blocks.0.attn.hook_pattern';
    const { logits, cache } = model.runWithCache(tokens, {
      names: [name],
      hooks: [{ name: 'blocks.0.attn.hook_attn_scores', fn: (s) => s.indexPut([null, null, [1], 0], -Infinity) }],
    });
    const pattern = cache.get(name);
    const [batch, heads, pos] = pattern.shape;
    const p = pattern.toArray();
    for (let r = 0; r < batch * heads; r++) {
      for (let i = 1; i < pos; i++) {
        assert.equal(p[(r * pos + i) * pos], 0, 'key 0 masked');
        let total = 0;
        for (let j = 0; j < pos; j++) total += p[(r * pos + i) * pos + j];
        assert.ok(Math.abs(total - 1) < 1e-5);
      }
    }
    logits.dispose();
    cache.dispose();
  });
});

describe('norm hooks: the unfused path equals the fused kernel', () => {
  for (const fixture of ['gpt2-tiny', 'pythia-tiny', 'llama-tiny']) {
    test(`${fixture}: no-op hooks on hook_scale / hook_normalized leave logits unchanged; scaling hook_scale acts as a divisor`, async () => {
      const model = await loadFixture(fixture);
      const tokens = (await fixtureTokens(fixture)).map((row) => row.slice(0, 6));
      const fused = model.forward(tokens, { logitPositions: 'last' });
      const viaScale = model.runWithHooks(tokens, [{ name: /hook_scale$/, fn: () => undefined }], { logitPositions: 'last' });
      const viaNormalized = model.runWithHooks(tokens, [{ name: /hook_normalized$/, fn: (x) => x }], { logitPositions: 'last' });
      assertClose(viaScale.toArray(), fused.toArray(), 1e-5, 'hook_scale path');
      assertClose(viaNormalized.toArray(), fused.toArray(), 1e-5, 'hook_normalized path');
      // Doubling ln1's scale halves what it divides: LN → ((x − mean)/2s)·w + b; RMS → x/2s.
      const { logits, cache } = model.runWithCache(tokens, { names: ['blocks.0.hook_resid_pre', 'blocks.0.ln1.hook_scale'] });
      const { logits: doubled, cache: doubledCache } = model.runWithCache(tokens, {
        names: ['blocks.0.ln1.hook_normalized'],
        hooks: [{ name: 'blocks.0.ln1.hook_scale', fn: (s) => s.mul(2) }],
      });
      const layerNorm = model.config.norm === 'layernorm';
      const { weight, bias } = model.params.blocks[0].ln1;
      const w = layerNorm && weight ? weight.toArray() : null;
      const b = layerNorm && bias ? bias.toArray() : null;
      const d = model.config.dModel;
      const x = cache.get('blocks.0.hook_resid_pre').toArray();
      const scale = cache.get('blocks.0.ln1.hook_scale').toArray();
      const expected = new Float64Array(x.length);
      for (let r = 0; r < scale.length; r++) {
        let mean = 0;
        if (layerNorm) for (let o = 0; o < d; o++) mean += x[r * d + o] / d;
        for (let o = 0; o < d; o++) {
          const n = (x[r * d + o] - mean) / (2 * scale[r]);
          expected[r * d + o] = layerNorm ? n * (w?.[o] ?? 1) + (b?.[o] ?? 0) : n;
        }
      }
      assertClose(doubledCache.get('blocks.0.ln1.hook_normalized').toArray(), expected, 1e-4, 'normalized with doubled scale');
      for (const t of [fused, viaScale, viaNormalized, logits, doubled]) t.dispose();
      cache.dispose();
      doubledCache.dispose();
      model.dispose();
    });
  }
});

test('runWithCache with stopAtLayer: the returned residual and the cached hook_resid_post are owned separately', async () => {
  const { loadModelFolder } = await import('../../src/io/load-model.js');
  const { getBackend } = await import('../../src/backend/registry.js');
  const { join } = await import('node:path');
  const { sharedFixtures } = await import('../io/fixture-paths.js');
  const model = await loadModelFolder(join(sharedFixtures, 'gpt2-tiny'), { backend: getBackend('ref') });
  const { logits: resid, cache } = model.runWithCache([[1, 2, 3]], { stopAtLayer: 1 });
  const cached = cache.get('blocks.0.hook_resid_post');
  assert.deepEqual(resid.toArray(), cached.toArray());
  resid.dispose();
  assert.equal(cached.toArray().length, 3 * 64, 'the cached tensor survives disposing the returned one');
  cache.dispose();
  model.dispose();
});
