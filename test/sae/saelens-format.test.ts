// SAELens files: a folder written here the way SAELens lays it out (cfg.json in the SAELens 6 and
// the older flat layout, sae_weights.safetensors with W_enc/b_enc/W_dec/b_dec/threshold) loads, and
// its encoding equals a plain-loop float64 computation of SAELens's formulas; saveSAE writes exactly
// SAELens's file names, tensor keys, shapes and dtypes, and round-trips.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import '../../src/backend/ref/index.js';
import { readHeaderLength, serializeSafetensors } from '../../src/io/safetensors.js';
import { loadSAE, saveSAE, SAE_CFG_FILENAME, SAE_WEIGHTS_FILENAME } from '../../src/sae/saelens-files.js';
import { parseSAEConfig } from '../../src/sae/sae-config-file.js';
import { tensor, noGrad, tidy } from '../../src/tensor/index.js';
import { FormatError } from '../../src/util/errors.js';
import { FakeHub } from '../io/fake-hub.js';
import { makeTempDir } from '../io/fixture-paths.js';
import { assertClose } from '../analysis/intervention-helpers.js';

const D_IN = 6;
const D_SAE = 10;
const TOKENS = 7;

/** Deterministic pseudo-random values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

interface Weights { W_enc: Float32Array; b_enc: Float32Array; W_dec: Float32Array; b_dec: Float32Array; threshold: Float32Array }

function knownWeights(): Weights {
  return {
    W_enc: values(D_IN * D_SAE, 1), b_enc: values(D_SAE, 2).map((v) => v * 0.3), W_dec: values(D_SAE * D_IN, 3),
    b_dec: values(D_IN, 4).map((v) => v * 0.5), threshold: values(D_SAE, 5).map((v) => 0.2 + 0.2 * v),
  };
}

/** SAELens's encode, written out with loops in float64: the independent reference. */
function referenceEncode(w: Weights, x: Float32Array, arch: string, applyBDec: boolean, k: number): Float64Array {
  const out = new Float64Array(TOKENS * D_SAE);
  for (let t = 0; t < TOKENS; t++) {
    const pre = new Float64Array(D_SAE);
    for (let j = 0; j < D_SAE; j++) {
      let s = w.b_enc[j];
      for (let i = 0; i < D_IN; i++) s += (x[t * D_IN + i] - (applyBDec ? w.b_dec[i] : 0)) * w.W_enc[i * D_SAE + j];
      pre[j] = s;
    }
    let kth = -Infinity;
    if (arch === 'topk') kth = [...pre].sort((a, b) => b - a)[k - 1];
    for (let j = 0; j < D_SAE; j++) {
      const relu = Math.max(0, pre[j]);
      if (arch === 'standard') out[t * D_SAE + j] = relu;
      else if (arch === 'topk') out[t * D_SAE + j] = pre[j] >= kth ? relu : 0;
      else out[t * D_SAE + j] = pre[j] > w.threshold[j] ? relu : 0;
    }
  }
  return out;
}

function writeFolder(dir: string, cfg: Record<string, unknown>, w: Weights, withThreshold: boolean): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(cfg));
  const entries = {
    W_enc: { dtype: 'F32' as const, shape: [D_IN, D_SAE], data: w.W_enc },
    b_enc: { dtype: 'F32' as const, shape: [D_SAE], data: w.b_enc },
    W_dec: { dtype: 'F32' as const, shape: [D_SAE, D_IN], data: w.W_dec },
    b_dec: { dtype: 'F32' as const, shape: [D_IN], data: w.b_dec },
    ...(withThreshold ? { threshold: { dtype: 'F32' as const, shape: [D_SAE], data: w.threshold } } : {}),
  };
  writeFileSync(join(dir, 'sae_weights.safetensors'), serializeSafetensors(entries));
}

function headerOf(path: string): Record<string, unknown> {
  const bytes = new Uint8Array(readFileSync(path));
  const length = readHeaderLength(bytes.subarray(0, 8), bytes.length, path);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<string, unknown>;
}

describe('SAELens-format SAEs', () => {
  const temp = makeTempDir('sae-format');
  after(() => temp.cleanup());
  const w = knownWeights();
  const x = values(TOKENS * D_IN, 9).map((v) => v * 2);

  const cases: { name: string; cfg: Record<string, unknown>; arch: string; applyBDec: boolean; k: number; threshold: boolean }[] = [
    {
      name: 'standard, SAELens 6 layout', arch: 'standard', applyBDec: true, k: 0, threshold: false,
      cfg: { d_in: D_IN, d_sae: D_SAE, dtype: 'float32', device: 'cpu', apply_b_dec_to_input: true, normalize_activations: 'none',
        reshape_activations: 'none', architecture: 'standard', metadata: { hook_name: 'blocks.1.hook_resid_pre', sae_lens_version: '6.5.0' } },
    },
    {
      name: 'topk, SAELens 6 layout', arch: 'topk', applyBDec: false, k: 3, threshold: false,
      cfg: { d_in: D_IN, d_sae: D_SAE, dtype: 'float32', apply_b_dec_to_input: false, normalize_activations: 'none', architecture: 'topk',
        k: 3, metadata: { hook_name: 'blocks.0.hook_mlp_out' } },
    },
    {
      name: 'jumprelu, pre-6 flat layout (hook_point, boolean normalize)', arch: 'jumprelu', applyBDec: false, k: 0, threshold: true,
      cfg: { d_in: D_IN, d_sae: D_SAE, dtype: 'float32', hook_point: 'blocks.2.hook_resid_post', hook_point_layer: 2,
        apply_b_dec_to_input: false, normalize_activations: false, architecture: 'jumprelu', sae_lens_training_version: '3.0.0' },
    },
    {
      name: 'topk with k in activation_fn_kwargs (SAELens 4-5)', arch: 'topk', applyBDec: true, k: 4, threshold: false,
      cfg: { d_in: D_IN, d_sae: D_SAE, dtype: 'float32', hook_name: 'blocks.0.hook_resid_pre', hook_layer: 0, architecture: 'topk',
        activation_fn_kwargs: { k: 4 }, apply_b_dec_to_input: true, normalize_activations: 'none' },
    },
  ];

  for (const c of cases) {
    test(`${c.name}: encoding equals the float64 reference`, async () => {
      const dir = join(temp.dir, c.name.replace(/[^a-z0-9]+/gi, '-'));
      writeFolder(dir, c.cfg, w, c.threshold);
      const { sae } = await loadSAE(dir, { backend: undefined });
      try {
        const expected = referenceEncode(w, x, c.arch, c.applyBDec, c.k);
        const got = noGrad(() => tidy(() => sae.encode(tensor(x, [TOKENS, D_IN])).toArray()));
        assertClose(got, expected, 1e-5, `${c.arch} features`);
        let active = 0;
        for (const v of got) if (v > 0) active++;
        assert.ok(active > 0 && active < got.length, `the case exercises sparsity (${active} of ${got.length} active)`);
      } finally {
        sae.dispose();
      }
    });
  }

  for (const normalize of ['constant_norm_rescale', 'layer_norm'] as const) {
    test(`${normalize}: encode normalises the input, forward maps the reconstruction back (SAELens's run-time norms)`, async () => {
      const dir = join(temp.dir, `norm-${normalize}`);
      writeFolder(dir, { ...cases[0].cfg, normalize_activations: normalize }, w, false);
      const { sae } = await loadSAE(dir);
      try {
        // The reference: per token, x' = x·sqrt(d)/||x|| (undo: ÷ the same) or (x − μ)/(σ + 1e-5) with
        // torch's unbiased σ (undo: ·σ + μ); then the standard SAE on x'.
        const xn = new Float32Array(x.length);
        const undo: ((v: number) => number)[] = [];
        for (let t = 0; t < TOKENS; t++) {
          const row = Array.from(x.subarray(t * D_IN, (t + 1) * D_IN));
          if (normalize === 'constant_norm_rescale') {
            const c = Math.sqrt(D_IN) / Math.hypot(...row);
            row.forEach((v, i) => { xn[t * D_IN + i] = v * c; });
            undo.push((v) => v / c);
          } else {
            const mu = row.reduce((a, b) => a + b, 0) / D_IN;
            const sd = Math.sqrt(row.reduce((a, b) => a + (b - mu) ** 2, 0) / (D_IN - 1));
            row.forEach((v, i) => { xn[t * D_IN + i] = (v - mu) / (sd + 1e-5); });
            undo.push((v) => v * sd + mu);
          }
        }
        const f = referenceEncode(w, xn, 'standard', true, 0);
        const expectedOut = new Float64Array(TOKENS * D_IN);
        for (let t = 0; t < TOKENS; t++) {
          for (let i = 0; i < D_IN; i++) {
            let v = w.b_dec[i];
            for (let j = 0; j < D_SAE; j++) v += f[t * D_SAE + j] * w.W_dec[j * D_IN + i];
            expectedOut[t * D_IN + i] = undo[t](v);
          }
        }
        const input = () => tensor(x, [TOKENS, D_IN]);
        assertClose(noGrad(() => tidy(() => sae.encode(input()).toArray())), f, 1e-5, `${normalize} features`);
        assertClose(noGrad(() => tidy(() => sae.forward(input()).toArray())), expectedOut, 1e-5, `${normalize} reconstruction`);
      } finally {
        sae.dispose();
      }
    });
  }

  test('saveSAE writes exactly SAELens layout and keys, and loads back identical', async () => {
    const source = join(temp.dir, 'jump-src');
    writeFolder(source, cases[2].cfg, w, true);
    const { sae } = await loadSAE(source);
    const out = join(temp.dir, 'jump-saved');
    await saveSAE(sae, out);
    const header = headerOf(join(out, SAE_WEIGHTS_FILENAME));
    assert.deepEqual(Object.keys(header).sort(), ['W_dec', 'W_enc', 'b_dec', 'b_enc', 'threshold'], 'no __metadata__, exactly the state-dict keys');
    const shapes = Object.fromEntries(Object.entries(header).map(([k, v]) => [k, (v as { shape: number[] }).shape]));
    assert.deepEqual(shapes, { W_enc: [D_IN, D_SAE], b_enc: [D_SAE], W_dec: [D_SAE, D_IN], b_dec: [D_IN], threshold: [D_SAE] });
    for (const v of Object.values(header)) assert.equal((v as { dtype: string }).dtype, 'F32');
    const cfg = JSON.parse(readFileSync(join(out, SAE_CFG_FILENAME), 'utf8')) as Record<string, unknown>;
    for (const key of ['d_in', 'd_sae', 'dtype', 'device', 'apply_b_dec_to_input', 'normalize_activations', 'reshape_activations', 'metadata', 'architecture']) {
      assert.ok(key in cfg, `cfg.json has ${key}`);
    }
    const meta = cfg.metadata as Record<string, unknown>;
    assert.equal(meta.hook_name, 'blocks.2.hook_resid_post');
    assert.ok(Number(String(meta.sae_lens_version).split('.')[0]) >= 6, 'marks the SAELens 6 layout so SAELens does not re-parse it as pre-6');
    assert.equal(cfg.architecture, 'jumprelu');
    const { sae: again } = await loadSAE(out);
    try {
      for (const [name, t] of Object.entries(sae.stateDict())) {
        assert.deepEqual(Array.from(again.stateDict()[name].toArray()), Array.from(t.toArray()), `${name} round-trips bit for bit`);
      }
    } finally {
      again.dispose();
      sae.dispose();
    }
  });

  test('a standard SAE is saved without a threshold key', async () => {
    const source = join(temp.dir, 'std-src');
    writeFolder(source, cases[0].cfg, w, false);
    const { sae } = await loadSAE(source);
    const out = join(temp.dir, 'std-saved');
    await saveSAE(sae, out);
    sae.dispose();
    assert.deepEqual(Object.keys(headerOf(join(out, SAE_WEIGHTS_FILENAME))).sort(), ['W_dec', 'W_enc', 'b_dec', 'b_enc']);
  });

  test('loads from a hub repo sub-folder (SAELens release layout), through the shared cache', async () => {
    const source = join(temp.dir, 'hub-src');
    writeFolder(source, cases[1].cfg, w, false);
    const files = {
      'blocks.0.hook_mlp_out/cfg.json': new Uint8Array(readFileSync(join(source, 'cfg.json'))),
      'blocks.0.hook_mlp_out/sae_weights.safetensors': new Uint8Array(readFileSync(join(source, 'sae_weights.safetensors'))),
    };
    const hub = await FakeHub.start({ repoId: 'dissect-test/saes', commit: 'c'.repeat(40), files, lfs: ['blocks.0.hook_mlp_out/sae_weights.safetensors'] });
    try {
      const { sae } = await loadSAE('dissect-test/saes', {
        folder: 'blocks.0.hook_mlp_out', hub: { endpoint: hub.hubUrl, cacheDir: join(temp.dir, 'hub-cache'), token: false, offline: false },
      });
      const got = noGrad(() => tidy(() => sae.encode(tensor(x, [TOKENS, D_IN])).toArray()));
      assertClose(got, referenceEncode(w, x, 'topk', false, 3), 1e-5, 'hub SAE features');
      assert.equal(sae.cfg.hook_name, 'blocks.0.hook_mlp_out');
      sae.dispose();
    } finally {
      await hub.close();
    }
  });

  test('bad configs name the field', () => {
    assert.throws(() => parseSAEConfig({ d_in: 4, architecture: 'standard', hook_name: 'h' }), (e: Error) => e instanceof FormatError && /d_sae/.test(e.message));
    assert.throws(() => parseSAEConfig({ d_in: 4, d_sae: 8, architecture: 'gated', hook_name: 'h' }), /architecture 'gated'/);
    assert.throws(() => parseSAEConfig({ d_in: 4, d_sae: 8, architecture: 'topk', hook_name: 'h' }), /k in/);
  });

  test('a transcoder config keeps its output hook', () => {
    const cfg = parseSAEConfig({ d_in: 4, d_sae: 8, d_out: 5, architecture: 'jumprelu_transcoder', hook_name_out: 'blocks.1.hook_mlp_out',
      metadata: { hook_name: 'blocks.1.ln2.hook_normalized', sae_lens_version: '6.0.0' } });
    assert.equal(cfg.architecture, 'jumprelu');
    assert.equal(cfg.hook_name_out, 'blocks.1.hook_mlp_out');
    assert.equal(cfg.hook_layer_out, 1);
    assert.equal(cfg.d_out, 5);
  });
});
