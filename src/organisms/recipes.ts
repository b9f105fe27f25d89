// The organisms' recipes: architecture, data mixture and optimisation of each model we ship.
// Changing a recipe changes the model it produces; the shipped README.md cards record the
// recipe each checkpoint came from.

import type { RawConfig } from '../models/arch/hf-config.js';
import type { TrainSpec } from './trainer.js';
import { WORLD_CONTEXT, world } from './world.js';

export interface TransformerRecipe {
  readonly name: string;
  readonly summary: string;
  /** What the model is known to compute, for its model card. */
  readonly knownCircuits: string;
  /**
   * How far each evaluation metric of a rerun may be from the card's (absolute) and still count as
   * reproducing it — for reruns whose arithmetic differs (another backend or build); the native
   * backend reproduces the card exactly.
   */
  readonly tolerance: Readonly<Record<string, number>>;
  /** What `dissect train` measures on the trained model for its card besides the evaluation. */
  readonly cardChecks: readonly ('head detection' | 'ioi patching' | 'causal tracing' | 'fact location')[];
  /**
   * The MLP layers whose output at the last subject token holds the facts, as causal tracing of
   * the shipped model found (its card shows the trace); `dissect validate` checks the peak is there.
   */
  readonly factLayers?: readonly number[];
  spec(): TrainSpec;
}

function llamaConfig(overrides: RawConfig): RawConfig {
  const { files } = world();
  return {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    vocab_size: files.vocabSize,
    max_position_embeddings: WORLD_CONTEXT,
    hidden_act: 'silu',
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    attention_bias: false,
    mlp_bias: false,
    initializer_range: 0.02,
    tie_word_embeddings: true,
    bos_token_id: files.endOfTextId,
    eos_token_id: files.endOfTextId,
    ...overrides,
  };
}

/** MLP tensors (GPT-2's mlp.c_fc/c_proj, Llama's mlp.gate/up/down_proj): zero and frozen in attention-only models. */
const isMlp = (name: string) => name.includes('.mlp.');

export const WORLD_4L: TransformerRecipe = {
  name: 'world-4l',
  summary: '4-layer Llama-architecture model of a synthetic world: IOI sentences, facts about fictional countries and people, short stories, repeated spans',
  knownCircuits: 'Trained for indirect-object identification, factual recall of capitals, languages and occupations (stated in '
    + 'many paraphrases, paragraphs and stories; the paraphrases the evaluation uses are never trained on), and induction on repeated '
    + 'spans. IOI: an S-inhibition-like head attends from the last position to the repeated name (S2) and a later name mover attends '
    + 'to the indirect object and copies it (Validation names them). Facts: looked up by the first MLP at the last subject token, '
    + 'then moved to the last position by attention (Where the facts are). Induction: previous-token heads feed induction heads.',
  tolerance: {
    induction_second_half_loss: 0.1, best_induction_head_score: 0.15, best_previous_token_head_score: 0.15,
    ioi_mean_logit_diff_held_out_names: 1.5, ioi_accuracy_held_out_names: 0.05, fact_recall_top1_held_out_paraphrases: 0.06, final_loss: 0.1,
  },
  cardChecks: ['ioi patching', 'causal tracing', 'fact location'],
  factLayers: [0],
  spec() {
    const corpus = world().corpus({ ioi: 4, facts: 5, filler: 1, induction: 1.5 });
    return {
      name: 'world-4l',
      modelConfig: llamaConfig({
        hidden_size: 128, intermediate_size: 384, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 4,
      }),
      seed: 4,
      schedule: { lr: 2e-3, minLr: 1e-4, warmupSteps: 100, totalSteps: 6000 },
      batchSize: 16,
      seqLen: WORLD_CONTEXT,
      weightDecay: 0.1,
      gradClip: 1,
      rows: (rng, batch, seqLen) => corpus.rows(rng, batch, seqLen),
    };
  },
};

export const ATTN_ONLY_2L: TransformerRecipe = {
  name: 'attn-only-2l',
  summary: '2-layer attention-only transformer (Llama layout, MLPs zero and frozen) trained on the world mixture: induction heads in layer 1 fed by previous-token heads in layer 0',
  knownCircuits: 'Previous-token heads in layer 0 write "the token before me" into each position; induction heads in layer 1 '
    + 'use it (K-composition) to attend from the current token to the token after its previous occurrence and copy it.',
  tolerance: { induction_second_half_loss: 0.3, best_induction_head_score: 0.15, best_previous_token_head_score: 0.15, final_loss: 0.1 },
  cardChecks: ['head detection'],
  spec() {
    // What did not form induction heads (measured): the GPT-2 layout (learned absolute positions)
    // at d_model 64 on repeated spans, alone or with stories (2,500-4,000 steps) and at d_model 128
    // (1,500 steps), and the Llama layout at d_model 64/128 on repeated spans only (2,500 steps) —
    // all stall on the "copy any earlier token" plateau. The world mixture (IOI, facts, stories,
    // spans) with rotary positions escapes it after ~1,500 steps.
    // Every setting is spelled out here rather than derived from WORLD_4L, so retuning world-4l
    // does not silently change this model (the world's generators and tokenizer are shared: a
    // change to src/organisms/data changes both recipes, and both shipped models are retrained).
    // The MLP tensors exist (so transformers loads the folder) but are zero and frozen.
    const corpus = world().corpus({ ioi: 4, facts: 3, filler: 1.5, induction: 1.5 });
    return {
      name: 'attn-only-2l',
      modelConfig: llamaConfig({
        hidden_size: 128, intermediate_size: 16, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 4,
      }),
      seed: 4,
      schedule: { lr: 2e-3, minLr: 1e-4, warmupSteps: 100, totalSteps: 3000 },
      batchSize: 16,
      seqLen: WORLD_CONTEXT,
      weightDecay: 0.1,
      gradClip: 1,
      frozen: isMlp,
      rows: (rng, batch, seqLen) => corpus.rows(rng, batch, seqLen),
    };
  },
};

export const TRANSFORMER_RECIPES: readonly TransformerRecipe[] = [ATTN_ONLY_2L, WORLD_4L];
