// Activation patching throughput: resid_pre patched at every (layer, pos) of a 12-layer GPT-2
// (random init, built in memory; width from --d-model, default 512) on a 15-token prompt, with the
// batched engine and with one forward pass per patch (TransformerLens's loop). Prints one JSON line.
// `node dist/bench/run.js patching [--d-model N] [--backend ref|wasm|native]`.

import '../src/backend/ref/index.js';
import { defaultBackend, getBackend } from '../src/backend/registry.js';
import type { Backend, BackendName } from '../src/backend/types.js';
import { logitDiff } from '../src/analysis/metrics.js';
import { activationPatching } from '../src/analysis/patching.js';
import { gpt2Config } from '../src/models/arch/gpt2-config.js';
import { gpt2Params } from '../src/models/arch/gpt2.js';
import { HookedTransformer } from '../src/models/transformer.js';
import { noGrad, randn, tidy } from '../src/tensor/index.js';
import type { Tensor } from '../src/tensor/tensor.js';

const LAYERS = 12;
const POSITIONS = 15;
const VOCAB = 50257;

async function registerFastBackends(): Promise<void> {
  for (const path of ['../src/backend/wasm/index.js', '../src/backend/native/index.js']) {
    try {
      await import(path);
    } catch {
      // not built on this machine
    }
  }
}

/** GPT-2 architecture at the given width, weights std 0.02 as GPT-2's initialisation. */
function randomGpt2(dModel: number, backend: Backend): HookedTransformer {
  const config = gpt2Config({
    model_type: 'gpt2', n_embd: dModel, n_head: dModel / 64, n_layer: LAYERS, vocab_size: VOCAB, n_positions: 1024,
  });
  const weights = new Map<string, Tensor>();
  let seed = 1;
  const add = (name: string, shape: number[], std: number, mean = 0) => weights.set(name, randn(shape, { seed: seed++, std, mean, backend }));
  add('wte.weight', [VOCAB, dModel], 0.02);
  add('wpe.weight', [1024, dModel], 0.01);
  for (let l = 0; l < LAYERS; l++) {
    const p = `h.${l}.`;
    for (const ln of ['ln_1', 'ln_2']) {
      add(`${p}${ln}.weight`, [dModel], 0.02, 1);
      add(`${p}${ln}.bias`, [dModel], 0.02);
    }
    add(`${p}attn.c_attn.weight`, [dModel, 3 * dModel], 0.02);
    add(`${p}attn.c_attn.bias`, [3 * dModel], 0.02);
    add(`${p}attn.c_proj.weight`, [dModel, dModel], 0.02);
    add(`${p}attn.c_proj.bias`, [dModel], 0.02);
    add(`${p}mlp.c_fc.weight`, [dModel, 4 * dModel], 0.02);
    add(`${p}mlp.c_fc.bias`, [4 * dModel], 0.02);
    add(`${p}mlp.c_proj.weight`, [4 * dModel, dModel], 0.02);
    add(`${p}mlp.c_proj.bias`, [dModel], 0.02);
  }
  add('ln_f.weight', [dModel], 0.02, 1);
  add('ln_f.bias', [dModel], 0.02);
  const source = { names: [...weights.keys()], get: (name: string) => weights.get(name) as Tensor, description: 'memory' };
  return new HookedTransformer(config, gpt2Params(source, config));
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function run(args: string[] = []): Promise<void> {
  await registerFastBackends();
  const backendName = flag(args, '--backend') as BackendName | undefined;
  const backend = backendName ? getBackend(backendName) : defaultBackend();
  const dModel = Number(flag(args, '--d-model') ?? 512);
  const model = randomGpt2(dModel, backend);
  const clean = [Array.from({ length: POSITIONS }, (_, p) => (p * 7919 + 11) % VOCAB)];
  const corrupted = [clean[0].map((id, p) => (p === 5 ? (id + 1234) % VOCAB : id))];
  const metric = logitDiff(262, 318);
  noGrad(() => tidy(() => { model.forward(corrupted, { logitPositions: 'last' }); })); // warm-up
  const { logits, cache } = noGrad(() => model.runWithCache(clean, { names: (n) => n.endsWith('hook_resid_pre') }));
  logits.dispose();

  const time = async (method: 'batched' | 'loop') => {
    const start = performance.now();
    const result = await activationPatching(model, 'resid_pre', { cleanCache: cache, corruptedTokens: corrupted, metric, method });
    const ms = performance.now() - start;
    const values = result.values.toArray();
    result.values.dispose();
    return { ms, values };
  };
  const batched = await time('batched');
  const loop = await time('loop');
  let maxDiff = 0;
  for (let i = 0; i < loop.values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(loop.values[i] - batched.values[i]));
  cache.dispose();
  model.dispose();
  console.log(JSON.stringify({
    bench: 'patching', layers: LAYERS, positions: POSITIONS, d_model: dModel, backend: backend.name,
    ms_batched: Math.round(batched.ms), ms_loop: Math.round(loop.ms), speedup: Number((loop.ms / batched.ms).toFixed(2)),
    max_abs_diff: maxDiff,
  }));
}
