// GPT-2. Quirks: Conv1D layers store weights [in, out] (x @ W, no transpose); q, k, v are fused
// in c_attn as [q | k | v] along the output axis; learned absolute positions; the unembedding is
// the token embedding unless an lm_head is stored. Hub checkpoints of GPT2LMHeadModel prefix names
// with 'transformer.', those of GPT2Model do not.
import type { ModelConfig } from '../config.js';
import type { BlockParams, TransformerParams } from '../params.js';
import { WeightReader, detectPrefix, type WeightSource } from '../weight-reader.js';

export function gpt2Params(source: WeightSource, c: ModelConfig): TransformerParams {
  const prefix = detectPrefix(source, 'wte.weight', ['transformer.', '']);
  const w = new WeightReader(source, prefix);
  const d = c.dModel;
  const blocks: BlockParams[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const p = `h.${l}.`;
    blocks.push({
      ln1: w.norm(`${p}ln_1`, d, true),
      attn: {
        qkv: { kind: 'fused-blocks', linear: w.conv1d(`${p}attn.c_attn`, d, 3 * d) },
        out: w.conv1d(`${p}attn.c_proj`, d, d),
      },
      ln2: w.norm(`${p}ln_2`, d, true),
      mlp: { in: w.conv1d(`${p}mlp.c_fc`, d, c.dMlp), gate: null, out: w.conv1d(`${p}mlp.c_proj`, c.dMlp, d) },
    });
  }
  const embed = w.take('wte.weight', [c.dVocab, d]);
  const head = new WeightReader(source, '');
  // Untied means lm_head must be there: never fall back to the embedding silently.
  const untied = !c.tiedEmbeddings;
  return {
    embed,
    posEmbed: w.take('wpe.weight', [c.nCtx, d]),
    blocks,
    lnFinal: w.norm('ln_f', d, true),
    unembed: untied ? head.linear('lm_head', d, c.dVocab, false) : { weight: embed, bias: null, transposed: true },
    named: new Map([...w.named, ...head.named]),
  };
}
