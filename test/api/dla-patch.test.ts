// The dla and patch handlers against references computed here: direct logit attribution as each
// cached component through ln_final's real scale onto the unembedding, written out in loops; and
// activation patching as one hooked forward pass per cell, the clean value copied in by hand.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  normWeight, tensor, unembedMatrix, type Hook, type HookedTransformer, type Tensor, type Tokenizer,
} from '../../src/index.js';
import { ApiError, handlers, type Progress } from '../../src/api/index.js';
import { IOI_CLEAN, IOI_CORRUPT, assertClose, softmax, testSession, type TestSession } from './api-helpers.js';

let session: TestSession;
let model: HookedTransformer;
let tokenizer: Tokenizer;
let mary: number;
let john: number;

before(async () => {
  session = testSession();
  ({ model, tokenizer } = await session.loaded('world-4l') as { model: HookedTransformer; tokenizer: Tokenizer });
  [mary, john] = [' Mary', ' John'].map((t) => tokenizer.encode(t, { addSpecialTokens: false })[0]);
});
after(() => session.dispose());

describe('api dla', () => {
  it('attributes to each component as ((c / s) ⊙ w) · (W_U[:, target] − W_U[:, distractor]), s the real final RMS', async () => {
    const position = 9;
    const res = await handlers.dla(session, { model: 'world-4l', text: IOI_CLEAN, target: ' Mary', distractor: ' John', position });
    assert.equal(res.position, position);
    assert.deepEqual([res.target.id, res.distractor?.id], [mary, john]);
    const { nLayers, nHeads, dModel, dVocab, normEps } = model.config;
    const ids = tokenizer.encode(IOI_CLEAN);
    const { logits, cache } = model.runWithCache([ids]);
    const at = (name: string) => cache.get(name).toArray().subarray(position * dModel, (position + 1) * dModel);
    const final = at(`blocks.${nLayers - 1}.hook_resid_post`);
    let squares = 0;
    for (const v of final) squares += v * v;
    const scale = Math.sqrt(squares / dModel + normEps);
    const weight = normWeight(model, model.params.lnFinal) as Tensor;
    const w = weight.toArray();
    const unembed = unembedMatrix(model);
    const u = unembed.toArray();
    const direct = (component: ArrayLike<number>) => {
      let sum = 0;
      for (let d = 0; d < dModel; d++) sum += (component[d] / scale) * w[d] * (u[d * dVocab + mary] - u[d * dVocab + john]);
      return sum;
    };
    const names = ['hook_embed', ...Array.from({ length: nLayers }, (_, l) => [`blocks.${l}.hook_attn_out`, `blocks.${l}.hook_mlp_out`]).flat()];
    assert.deepEqual(res.components.map((c) => c.label), ['embed', ...Array.from({ length: nLayers }, (_, l) => [`${l}_attn_out`, `${l}_mlp_out`]).flat()]);
    res.components.forEach((c, i) => assertClose(c.value, direct(at(names[i])), 1e-4, c.label));
    const row = logits.toArray().subarray(position * dVocab, (position + 1) * dVocab);
    assertClose(res.modelLogit, row[mary] - row[john], 1e-5, 'the model\'s logit difference');
    assertClose(res.total, res.modelLogit, 1e-3, 'components + constant = the model\'s logit difference');
    // world-4l's attention has no output bias, so a layer's heads sum to its attn_out component.
    assert.ok(res.heads !== null && res.heads.length === nLayers && res.heads[0].length === nHeads);
    res.heads.forEach((heads, l) => assertClose(heads.reduce((a, b) => a + b, 0), res.components[1 + 2 * l].value, 1e-4, `heads of layer ${l}`));
    logits.dispose();
    cache.dispose();
    weight.dispose();
    unembed.dispose();
  });

  it('without a distractor attributes the target\'s logit, at the last position by default', async () => {
    const res = await handlers.dla(session, { model: 'world-4l', ids: tokenizer.encode(IOI_CLEAN), target: mary, heads: false });
    const ids = tokenizer.encode(IOI_CLEAN);
    assert.equal(res.position, ids.length - 1);
    assert.equal(res.distractor, null);
    assert.equal(res.heads, null);
    const logits = model.forward([ids], { logitPositions: 'last' });
    assertClose(res.modelLogit, logits.toArray()[mary], 1e-5, 'logit of the target');
    logits.dispose();
    assertClose(res.total, res.modelLogit, 1e-3, 'components + constant');
  });
});

/** The logit difference at the last position of a run with `hooks`. */
function logitDiffWith(ids: number[], hooks: Hook[]): number {
  const logits = model.forward([ids], { hooks, logitPositions: 'last' });
  const row = logits.toArray();
  logits.dispose();
  return row[mary] - row[john];
}

/** A hook that overwrites activation[0, index..] with the clean activation's values there (`inner` consecutive floats per index). */
function copyHook(name: string, clean: Float32Array, select: (flat: number) => boolean): Hook {
  return {
    name,
    fn: (activation: Tensor) => {
      const data = Float32Array.from(activation.toArray());
      for (let i = 0; i < data.length; i++) if (select(i)) data[i] = clean[i];
      return tensor(data, activation.shape, { backend: activation.backend });
    },
  };
}

describe('api patch', () => {
  it('equals patching each cell by hand: resid_pre per layer × position and z per layer × head', async () => {
    const progress: Progress[] = [];
    const res = await handlers.patch(session, {
      model: 'world-4l', clean: { text: IOI_CLEAN }, corrupted: { text: IOI_CORRUPT }, answer: ' Mary', wrong: ' John',
    }, { onProgress: (p) => progress.push(p) });
    const clean = tokenizer.encode(IOI_CLEAN);
    const corrupted = tokenizer.encode(IOI_CORRUPT);
    const n = clean.length;
    const { nLayers, nHeads, dModel, dHead } = model.config;
    assertClose(res.baselines.clean, logitDiffWith(clean, []), 1e-5, 'clean baseline');
    assertClose(res.baselines.corrupted, logitDiffWith(corrupted, []), 1e-5, 'corrupted baseline');
    assert.deepEqual(res.grids.map((g) => [g.target, g.axes]), [['resid_pre', ['layer', 'pos']], ['z', ['layer', 'head']]]);

    const names = Array.from({ length: nLayers }, (_, l) => [`blocks.${l}.hook_resid_pre`, `blocks.${l}.attn.hook_z`]).flat();
    const { logits, cache } = model.runWithCache([clean], { names });
    logits.dispose();
    for (let l = 0; l < nLayers; l++) {
      const resid = cache.get(`blocks.${l}.hook_resid_pre`).toArray() as Float32Array; // [1, pos, d_model]
      for (let p = 0; p < n; p++) {
        const expected = logitDiffWith(corrupted, [copyHook(`blocks.${l}.hook_resid_pre`, resid, (i) => Math.floor(i / dModel) === p)]);
        assertClose(res.grids[0].values[l][p] as number, expected, 1e-4, `resid_pre L${l} pos ${p}`);
      }
      const z = cache.get(`blocks.${l}.attn.hook_z`).toArray() as Float32Array; // [1, pos, head, d_head]
      for (let h = 0; h < nHeads; h++) {
        const expected = logitDiffWith(corrupted, [copyHook(`blocks.${l}.attn.hook_z`, z, (i) => Math.floor(i / dHead) % nHeads === h)]);
        assertClose(res.grids[1].values[l][h] as number, expected, 1e-4, `z L${l}H${h}`);
      }
    }
    cache.dispose();

    const total = nLayers * n + nLayers * nHeads;
    assert.ok(progress.length > 0);
    assert.deepEqual(progress.at(-1), { stage: 'z', done: total, total });
    progress.forEach((p, i) => assert.ok(p.total === total && (i === 0 || p.done >= progress[i - 1].done)));
  });

  it('normalises, and measures P(answer) with metric prob', async () => {
    const request = { model: 'world-4l', clean: { text: IOI_CLEAN }, corrupted: { text: IOI_CORRUPT }, answer: ' Mary', targets: ['attn_out' as const] };
    const raw = await handlers.patch(session, { ...request, metric: 'prob' });
    const normalised = await handlers.patch(session, { ...request, metric: 'prob', normalise: true });
    const cleanLogits = model.forward([tokenizer.encode(IOI_CLEAN)], { logitPositions: 'last' });
    assertClose(raw.baselines.clean, softmax(cleanLogits.toArray())[mary], 1e-6, 'P(answer) on the clean run');
    cleanLogits.dispose();
    const { clean, corrupted } = raw.baselines;
    assert.deepEqual(normalised.baselines, raw.baselines);
    raw.grids[0].values.forEach((row, l) => row.forEach((v, p) => {
      assertClose(normalised.grids[0].values[l][p] as number, ((v as number) - corrupted) / (clean - corrupted), 1e-4, `normalised L${l} pos ${p}`);
    }));
    assert.deepEqual(raw.grids[0].axes, ['layer', 'pos']);
    assert.equal(raw.grids[0].values.length, model.config.nLayers);
  });

  it('stops between forward passes when aborted, and returns the model', async () => {
    const controller = new AbortController();
    const seen: Progress[] = [];
    await assert.rejects(handlers.patch(session, {
      model: 'world-4l', clean: { text: IOI_CLEAN }, corrupted: { text: IOI_CORRUPT }, answer: ' Mary', wrong: ' John',
      targets: ['resid_pre', 'attn_out', 'mlp_out', 'z'],
    }, {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        controller.abort();
      },
    }), (err: unknown) => err instanceof ApiError || (err as Error).name === 'AbortError');
    assert.ok(seen.length >= 1 && seen.at(-1)!.done < seen.at(-1)!.total, 'the sweep stopped before its end');
    assert.equal(session.outstanding(), 0);
  });
});
