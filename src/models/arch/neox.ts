// GPT-NeoX (Pythia). Quirks: query_key_value is an nn.Linear whose output is laid out per head as
// [head][q | k | v][d_head] (not [q | k | v] as GPT-2); post_attention_layernorm feeds the MLP
// even with the parallel residual; the unembedding is embed_out, untied.
import type { ModelConfig } from '../config.js';
import type { BlockParams, TransformerParams } from '../params.js';
import { WeightReader, detectPrefix, type WeightSource } from '../weight-reader.js';

export function neoxParams(source: WeightSource, c: ModelConfig): TransformerParams {
  const prefix = detectPrefix(source, 'embed_in.weight', ['gpt_neox.', '']);
  const w = new WeightReader(source, prefix);
  const d = c.dModel;
  const blocks: BlockParams[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const p = `layers.${l}.`;
    blocks.push({
      ln1: w.norm(`${p}input_layernorm`, d, true),
      attn: {
        qkv: { kind: 'fused-per-head', linear: w.linear(`${p}attention.query_key_value`, d, 3 * d, c.qkvBias) },
        out: w.linear(`${p}attention.dense`, d, d, c.attnOutBias),
      },
      ln2: w.norm(`${p}post_attention_layernorm`, d, true),
      mlp: {
        in: w.linear(`${p}mlp.dense_h_to_4h`, d, c.dMlp, c.mlpBias),
        gate: null,
        out: w.linear(`${p}mlp.dense_4h_to_h`, c.dMlp, d, c.mlpBias),
      },
    });
  }
  const embed = w.take('embed_in.weight', [c.dVocab, d]);
  const head = new WeightReader(source, '');
  const untied = !c.tiedEmbeddings || head.has('embed_out.weight');
  return {
    embed,
    posEmbed: null,
    blocks,
    lnFinal: w.norm('final_layer_norm', d, true),
    unembed: untied ? head.linear('embed_out', d, c.dVocab, false) : { weight: embed, bias: null, transposed: true },
    named: new Map([...w.named, ...head.named]),
  };
}
