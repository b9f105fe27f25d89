// A GPT-2-small-shaped model (124M parameters) with seeded random weights, built in memory with
// the same tensor names Hugging Face uses, through the normal architecture mapping.

import type { Backend } from '../../src/backend/types.js';
import { gpt2Config } from '../../src/models/arch/gpt2-config.js';
import { gpt2Params } from '../../src/models/arch/gpt2.js';
import { HookedTransformer } from '../../src/models/transformer.js';
import { Rng, full, randn, zeros } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';

export const GPT2_SMALL_CONFIG = {
  model_type: 'gpt2', n_layer: 12, n_embd: 768, n_head: 12, n_positions: 1024, vocab_size: 50257,
  activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true,
};

export function gpt2SmallShapes(layers = 12, d = 768, vocab = 50257, ctx = 1024): Map<string, number[]> {
  const shapes = new Map<string, number[]>([['transformer.wte.weight', [vocab, d]], ['transformer.wpe.weight', [ctx, d]]]);
  for (let l = 0; l < layers; l++) {
    const p = `transformer.h.${l}.`;
    shapes.set(`${p}ln_1.weight`, [d]); shapes.set(`${p}ln_1.bias`, [d]);
    shapes.set(`${p}attn.c_attn.weight`, [d, 3 * d]); shapes.set(`${p}attn.c_attn.bias`, [3 * d]);
    shapes.set(`${p}attn.c_proj.weight`, [d, d]); shapes.set(`${p}attn.c_proj.bias`, [d]);
    shapes.set(`${p}ln_2.weight`, [d]); shapes.set(`${p}ln_2.bias`, [d]);
    shapes.set(`${p}mlp.c_fc.weight`, [d, 4 * d]); shapes.set(`${p}mlp.c_fc.bias`, [4 * d]);
    shapes.set(`${p}mlp.c_proj.weight`, [4 * d, d]); shapes.set(`${p}mlp.c_proj.bias`, [d]);
  }
  shapes.set('transformer.ln_f.weight', [d]); shapes.set('transformer.ln_f.bias', [d]);
  return shapes;
}

/** Random-init GPT-2 of the given size (defaults: GPT-2 small). Norm weights 1, biases 0, matrices N(0, 0.02). */
export function buildGpt2(backend: Backend, overrides: Partial<typeof GPT2_SMALL_CONFIG> = {}, seed = 0): HookedTransformer {
  const raw = { ...GPT2_SMALL_CONFIG, ...overrides };
  const config = gpt2Config(raw);
  const rng = new Rng(seed);
  const shapes = gpt2SmallShapes(raw.n_layer, raw.n_embd, raw.vocab_size, raw.n_positions);
  const tensors = new Map<string, Tensor>();
  for (const [name, shape] of shapes) {
    const isNormWeight = /ln_[12f]\.weight$/.test(name);
    const t = shape.length === 1
      ? (isNormWeight ? full(shape, 1, { backend }) : zeros(shape, { backend }))
      : randn(shape, { rng, std: 0.02, backend });
    tensors.set(name, t);
  }
  const params = gpt2Params({ names: [...shapes.keys()], description: 'random GPT-2', get: (n) => tensors.get(n) as Tensor }, config);
  return new HookedTransformer(config, params);
}
