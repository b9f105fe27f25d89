// dissect tokenize: the ids a model's tokenizer gives a text, with each token as a person reads it.

import { defineCommand } from '../command.js';
import { MODEL_DETAILS, MODEL_FLAGS, openTokenizer } from '../model-flags.js';

export const tokenizeCommand = defineCommand({
  name: 'tokenize',
  summary: 'Show the token ids and per-token strings of a text.',
  positionals: ['model', 'text'],
  flags: {
    json: { type: 'boolean', description: 'print {"ids": [...], "tokens": [...]}' },
    'no-special-tokens': { type: 'boolean', description: 'do not add BOS/EOS the tokenizer would add' },
    tokenizer: MODEL_FLAGS.tokenizer,
    revision: MODEL_FLAGS.revision,
  },
  details: MODEL_DETAILS,
  async run({ positionals: [name, text], flags }, terminal, context) {
    const tokenizer = await openTokenizer(name, flags, terminal, context);
    const ids = tokenizer.encode(text, { addSpecialTokens: !flags['no-special-tokens'] });
    const tokens = tokenizer.tokenStrings(ids);
    if (flags.json) {
      terminal.out(`${JSON.stringify({ ids, tokens })}\n`);
      return 0;
    }
    const width = Math.max(1, ...ids.map((id) => String(id).length));
    ids.forEach((id, i) => terminal.out(`${String(i).padStart(4)}  ${String(id).padStart(width)}  ${JSON.stringify(tokens[i])}\n`));
    return 0;
  },
});
