// Llama, Mistral, Qwen2 and Gemma share one checkpoint layout: separate q/k/v/o projections
// (nn.Linear, [out, in]), k/v with nKvHeads heads (grouped-query attention), RMSNorm without bias,
// and a gated MLP (gate_proj, up_proj, down_proj). Differences live in the config (biases, tying,
// Gemma's (1 + w) norms and √d embedding scale).
import type { ModelConfig } from '../config.js';
import type { BlockParams, TransformerParams } from '../params.js';
import { WeightReader, detectPrefix, type WeightSource } from '../weight-reader.js';

export function llamaParams(source: WeightSource, c: ModelConfig): TransformerParams {
  const prefix = detectPrefix(source, 'embed_tokens.weight', ['model.', '']);
  const w = new WeightReader(source, prefix);
  const d = c.dModel;
  const qDim = c.nHeads * c.dHead;
  const kvDim = c.nKvHeads * c.dHead;
  const blocks: BlockParams[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const p = `layers.${l}.`;
    blocks.push({
      ln1: w.norm(`${p}input_layernorm`, d, false),
      attn: {
        qkv: {
          kind: 'separate',
          q: w.linear(`${p}self_attn.q_proj`, d, qDim, c.qkvBias),
          k: w.linear(`${p}self_attn.k_proj`, d, kvDim, c.qkvBias),
          v: w.linear(`${p}self_attn.v_proj`, d, kvDim, c.qkvBias),
        },
        out: w.linear(`${p}self_attn.o_proj`, qDim, d, c.attnOutBias),
      },
      ln2: w.norm(`${p}post_attention_layernorm`, d, false),
      mlp: {
        in: w.linear(`${p}mlp.up_proj`, d, c.dMlp, c.mlpBias),
        gate: w.linear(`${p}mlp.gate_proj`, d, c.dMlp, c.mlpBias),
        out: w.linear(`${p}mlp.down_proj`, c.dMlp, d, c.mlpBias),
      },
    });
  }
  const embed = w.take('embed_tokens.weight', [c.dVocab, d]);
  const head = new WeightReader(source, '');
  // Untied means lm_head must be there: never fall back to the embedding silently.
  const untied = !c.tiedEmbeddings;
  return {
    embed,
    posEmbed: null,
    blocks,
    lnFinal: w.norm('norm', d, false),
    unembed: untied ? head.linear('lm_head', d, c.dVocab, false) : { weight: embed, bias: null, transposed: true },
    named: new Map([...w.named, ...head.named]),
  };
}
