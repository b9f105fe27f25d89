// dissect cache: run a model once and save its activations — every hook point (or the ones
// --names selects) under TransformerLens names, plus `logits` and `input_ids` — to a safetensors
// file that numpy / torch / safetensors users can open directly.

import { writeSafetensors, type TensorToWrite } from '../../index.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../flags.js';
import { parseIdRows, selectHookNames } from '../hook-names.js';
import { MODEL_DETAILS, MODEL_FLAGS, missingTokenizer, openModel } from '../model-flags.js';
import { formatBytes } from '../progress.js';

export const cacheCommand = defineCommand({
  name: 'cache',
  summary: 'Run a model and write its activations (TransformerLens hook names) and logits to safetensors.',
  positionals: ['model'],
  flags: {
    ids: { type: 'string', placeholder: 'IDS', description: 'token ids: rows split by ";", ids by "," (e.g. "1,2,3;4,5,6")' },
    text: { type: 'string', placeholder: 'TEXT', description: "a text to tokenize with the model's tokenizer (instead of --ids)" },
    names: { type: 'string', placeholder: 'NAMES', description: 'hook points to save: comma list of names and globs (default: all)' },
    out: { type: 'string', placeholder: 'FILE', description: 'the .safetensors file to write (required)' },
    ...MODEL_FLAGS,
  },
  details: `${MODEL_DETAILS}\n\n--names globs: '*' matches within one dot-separated part, '**' across parts, e.g.\n`
    + "'blocks.*.hook_resid_post' or 'blocks.0.**,**.hook_pattern'. Activations are float32 with TL shapes\n"
    + '([batch, pos, d_model], patterns [batch, head, query_pos, key_pos]); the file is written atomically.',
  async run({ positionals: [name], flags }, terminal, context) {
    if (flags.out === undefined) throw new UsageError('--out <file.safetensors> is required');
    if ((flags.ids === undefined) === (flags.text === undefined)) throw new UsageError('give exactly one of --ids and --text');
    const idRows = flags.ids !== undefined ? parseIdRows(flags.ids) : null;
    const { model, tokenizer } = await openModel(name, flags, terminal, context);
    try {
      let tokens: number[][];
      if (idRows !== null) {
        tokens = idRows;
      } else {
        if (tokenizer === null) missingTokenizer(name);
        tokens = [tokenizer.encode(flags.text as string)];
      }
      const names = flags.names !== undefined ? selectHookNames(flags.names, model.hookPoints) : undefined;
      const { logits, cache } = model.runWithCache(tokens, { names });
      const file: Record<string, TensorToWrite> = {
        input_ids: { dtype: 'I32', shape: [tokens.length, tokens[0].length], data: Int32Array.from(tokens.flat()) },
      };
      try {
        for (const [key, activation] of [...cache.entries(), ['logits', logits] as const]) {
          const data = activation.toArray();
          file[key] = { dtype: 'F32', shape: activation.shape, data: data instanceof Float32Array ? data : Float32Array.from(data) };
        }
      } finally {
        logits.dispose();
        cache.dispose();
      }
      await writeSafetensors(flags.out, file, { format: 'pt', producer: 'dissect' });
      const bytes = Object.values(file).reduce((sum, t) => sum + t.data.byteLength, 0);
      terminal.out(`wrote ${Object.keys(file).length} tensors (${formatBytes(bytes)}) to ${flags.out}\n`);
      return 0;
    } finally {
      model.dispose();
    }
  },
});
