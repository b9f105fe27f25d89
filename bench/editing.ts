// Causal tracing and ROME timings. On world-4l (models/world-4l): a full trace of one prompt (every
// kind, every layer × token, 10 noise samples; batched and one-pass-per-restoration), the key
// statistics of one layer, one ROME edit (100 value steps) and its evaluation. With --gpt2, the same
// on a GPT-2-small-shaped model (random init, built in memory: 12 layers, d_model 768, d_mlp 3072).
// `node dist/bench/run.js editing [--gpt2]`. Prints JSON lines.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../src/index.js';
import { defaultBackend } from '../src/backend/registry.js';
import { causalTrace } from '../src/editing/causal-trace.js';
import { evaluateEdit } from '../src/editing/edit-evaluation.js';
import { computeKeyStatistics, solveKeyStatistics } from '../src/editing/key-statistics.js';
import { romeEdit } from '../src/editing/rome.js';
import { findSubjectRange } from '../src/editing/subject.js';
import { loadModel } from '../src/io/load.js';
import { Tokenizer } from '../src/io/tokenizer.js';
import { gpt2Config } from '../src/models/arch/gpt2-config.js';
import { gpt2Params } from '../src/models/arch/gpt2.js';
import { HookedTransformer } from '../src/models/transformer.js';
import { Rng, randn } from '../src/tensor/index.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { WORLD_GENERATORS } from '../src/organisms/world.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: Math.round(performance.now() - start), value };
}

function worldTexts(count: number, seed: number): string[] {
  const rng = new Rng(seed);
  const generators = Object.values(WORLD_GENERATORS);
  return Array.from({ length: count }, () => generators[rng.int(0, generators.length)].sample(rng));
}

async function world4l(): Promise<void> {
  const { model, tokenizer } = await loadModel(join(root, 'models', 'world-4l'));
  const tok = tokenizer as Tokenizer;
  const prompt = 'The capital of Veloria is';
  const tokens = tok.encode(prompt);
  const subject = findSubjectRange(tok, tokens, 'Veloria');
  await causalTrace(model, { tokens, subject }, { kinds: ['resid'], samples: 2 }); // warm-up
  for (const window of [10, 1]) {
    const batched = await timed(() => causalTrace(model, { tokens, subject }, { window }));
    const loop = await timed(() => causalTrace(model, { tokens, subject }, { window, method: 'loop' }));
    console.log(JSON.stringify({
      bench: 'causal-trace', model: 'world-4l', backend: model.backend.name, prompt, positions: tokens.length, layers: model.config.nLayers,
      kinds: 3, samples: 10, window, ms_batched: batched.ms, ms_loop: loop.ms,
    }));
  }
  const corpus = worldTexts(1000, 1).map((t) => tok.encode(t));
  const stats = await timed(() => computeKeyStatistics(model, 0, corpus));
  const spec = { prompt, target: ' Brellin', paraphrases: ['In Veloria, the capital is'], neighbours: [{ prompt: 'The capital of Dunmere is', answer: ' Dravik' }] };
  const evaluation = await timed(() => evaluateEdit(model, tok, spec));
  const edit = await timed(() => romeEdit(model, tok, { prompt: 'The capital of {} is', subject: 'Veloria', target: ' Brellin' }, { layer: 0, statistics: stats.value }));
  edit.value.undo();
  console.log(JSON.stringify({
    bench: 'rome', model: 'world-4l', backend: model.backend.name, layer: 0, statistics_tokens: stats.value.count, ms_statistics: stats.ms,
    ms_edit: edit.ms, value_steps: edit.value.valueSteps.length, contexts: edit.value.prefixes.length, ms_evaluation_3_prompts: evaluation.ms,
  }));
  model.dispose();
}

function randomGpt2(): HookedTransformer {
  const d = 768;
  const vocab = 50257;
  const layers = 12;
  const config = gpt2Config({ model_type: 'gpt2', n_embd: d, n_head: 12, n_layer: layers, vocab_size: vocab, n_positions: 1024 });
  const backend = defaultBackend();
  const weights = new Map<string, Tensor>();
  let seed = 1;
  const add = (name: string, shape: number[], std: number, mean = 0) => weights.set(name, randn(shape, { seed: seed++, std, mean, backend }));
  add('wte.weight', [vocab, d], 0.02);
  add('wpe.weight', [1024, d], 0.01);
  for (let l = 0; l < layers; l++) {
    const p = `h.${l}.`;
    for (const ln of ['ln_1', 'ln_2']) {
      add(`${p}${ln}.weight`, [d], 0.02, 1);
      add(`${p}${ln}.bias`, [d], 0.02);
    }
    add(`${p}attn.c_attn.weight`, [d, 3 * d], 0.02);
    add(`${p}attn.c_attn.bias`, [3 * d], 0.02);
    add(`${p}attn.c_proj.weight`, [d, d], 0.02);
    add(`${p}attn.c_proj.bias`, [d], 0.02);
    add(`${p}mlp.c_fc.weight`, [d, 4 * d], 0.02);
    add(`${p}mlp.c_fc.bias`, [4 * d], 0.02);
    add(`${p}mlp.c_proj.weight`, [4 * d, d], 0.02);
    add(`${p}mlp.c_proj.bias`, [d], 0.02);
  }
  add('ln_f.weight', [d], 0.02, 1);
  add('ln_f.bias', [d], 0.02);
  return new HookedTransformer(config, gpt2Params({ names: [...weights.keys()], get: (n) => weights.get(n) as Tensor, description: 'memory' }, config));
}

async function gpt2Small(): Promise<void> {
  const model = randomGpt2();
  const tokenizer = await Tokenizer.fromFile(join(root, 'assets', 'tokenizers', 'gpt2', 'tokenizer.json'));
  const prompt = 'The Space Needle is located in the city of';
  const tokens = tokenizer.encode(prompt);
  const subject = findSubjectRange(tokenizer, tokens, 'Space Needle');
  const trace = await timed(() => causalTrace(model, { tokens, subject, answer: 6342 }));
  console.log(JSON.stringify({
    bench: 'causal-trace', model: 'gpt2-small-shaped (random)', backend: model.backend.name, positions: tokens.length, layers: 12,
    kinds: 3, samples: 10, window: 10, ms_batched: trace.ms,
  }));
  const rng = new Rng(3);
  const corpus = Array.from({ length: 16 }, () => Array.from({ length: 1024 }, () => rng.int(0, 50257)));
  const stats = await timed(() => computeKeyStatistics(model, 5, corpus));
  const solve = await timed(() => solveKeyStatistics(stats.value, new Float64Array(3072).fill(1)));
  const edit = await timed(() => romeEdit(model, tokenizer, { prompt: 'The {} is located in the city of', subject: 'Space Needle', target: ' Rome' },
    { layer: 5, statistics: stats.value, steps: 20, stopLoss: 0 }));
  console.log(JSON.stringify({
    bench: 'rome', model: 'gpt2-small-shaped (random)', backend: model.backend.name, layer: 5, statistics_tokens: stats.value.count,
    ms_statistics: stats.ms, ms_cholesky_3072: solve.ms, ms_edit_20_steps: edit.ms, contexts: edit.value.prefixes.length,
  }));
  model.dispose();
}

export async function run(args: string[] = []): Promise<void> {
  await world4l();
  if (args.includes('--gpt2')) await gpt2Small();
}
