// dissect generate: continue a prompt, streaming the new text to stdout as it is produced.

import { generate, samplingPlan, type GenerateOptions } from '../../index.js';
import { defineCommand } from '../command.js';
import { MODEL_DETAILS, MODEL_FLAGS, missingTokenizer, openModel } from '../model-flags.js';
import { TextStream } from '../text-stream.js';

export const generateCommand = defineCommand({
  name: 'generate',
  summary: 'Continue a prompt, streaming the generated text to stdout.',
  positionals: ['model', 'prompt'],
  flags: {
    'max-new-tokens': { type: 'integer', placeholder: 'N', description: 'tokens to generate at most (default 20)' },
    temperature: { type: 'number', placeholder: 'T', description: 'sample at this temperature (0 = greedy)' },
    'top-k': { type: 'integer', placeholder: 'K', description: 'sample among the K most likely tokens' },
    'top-p': { type: 'number', placeholder: 'P', description: 'sample among the most likely tokens holding probability P' },
    seed: { type: 'integer', placeholder: 'S', description: 'random seed, for reproducible samples (default 0)' },
    greedy: { type: 'boolean', description: 'always pick the most likely token (the default unless sampling options are given)' },
    'ignore-eos': { type: 'boolean', description: 'do not stop at the end-of-sequence token' },
    json: { type: 'boolean', description: 'print {"prompt_ids", "ids", "text", "finish_reason"} at the end instead of streaming' },
    ...MODEL_FLAGS,
  },
  details: MODEL_DETAILS,
  async run({ positionals: [name, prompt], flags }, terminal, context) {
    const sampling = { temperature: flags.temperature, topK: flags['top-k'], topP: flags['top-p'], greedy: flags.greedy };
    samplingPlan(sampling); // reject bad values before loading anything
    const { model, tokenizer } = await openModel(name, flags, terminal, context);
    try {
      if (tokenizer === null) missingTokenizer(name);
      const promptIds = tokenizer.encode(prompt);
      const eos = tokenizer.eosTokenId ?? model.config.eosTokenId;
      const options: GenerateOptions = {
        ...sampling,
        maxNewTokens: flags['max-new-tokens'],
        seed: flags.seed ?? 0,
        stopTokenIds: flags['ignore-eos'] || eos === null || eos === undefined ? [] : [eos],
        signal: context.signal,
      };
      if (flags.json) {
        const result = await generate(model, promptIds, options);
        const ids = result.tokens[0];
        terminal.out(`${JSON.stringify({
          prompt_ids: promptIds, ids, text: tokenizer.decode(ids, { skipSpecialTokens: true }), finish_reason: result.finishReasons[0],
        })}\n`);
        return 0;
      }
      let printed = false;
      const stream = new TextStream(tokenizer, promptIds, (text) => {
        printed ||= text !== '';
        terminal.out(text);
      });
      try {
        await generate(model, promptIds, { ...options, onToken: (t) => stream.push(t.token) });
      } finally {
        stream.finish();
        if (printed) terminal.out('\n'); // also after Ctrl-C, so the shell prompt starts on its own line
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});
