// dissect attribute: direct logit attribution — how much each component (embeddings, every
// layer's attention and MLP output, or with --heads every attention head) writes directly into
// the logit of --answer (or the logit difference answer − wrong) at one position.

import {
  arrangeFigures, barChartFigure, decomposeResid, divergingScale, dispose, heatmapFigure, logitAttrs, stackHeadResults, tidy,
  type ActivationCache, type HookedTransformer, type LogitTarget, type Tensor,
} from '../../index.js';
import {
  OUTPUT_FLAGS, PROMPT_FLAGS, formatNumber, modelLabel, promptIds, quoted, singleToken, tokenStrings,
} from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { figureFormat, writeFigure } from '../figure-file.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, openModel } from '../model-flags.js';
import { formatTable } from '../table.js';

interface Attribution {
  labels: string[];
  values: number[];
  /** ln_final's bias and the unembedding bias on the target: no component's. */
  constant: number;
}

function attribution(model: HookedTransformer, cache: ActivationCache, stack: { stack: Tensor; labels: string[] }, target: LogitTarget, pos: number): Attribution {
  const result = logitAttrs(model, cache, stack.stack, target, { pos });
  try {
    return { labels: stack.labels, values: Array.from(result.attributions.toArray()), constant: result.constant.item() };
  } finally {
    dispose(result);
  }
}

export const attributeCommand = defineCommand({
  name: 'attribute',
  summary: 'Direct logit attribution: what each layer (or head) writes into the answer\'s logit.',
  positionals: ['model'],
  flags: {
    ...PROMPT_FLAGS,
    answer: { type: 'string', placeholder: 'TOKEN', description: 'the token to attribute, e.g. " Mary" (required, or --answer-id)' },
    wrong: { type: 'string', placeholder: 'TOKEN', description: 'attribute the logit difference answer − wrong instead' },
    'answer-id': { type: 'integer', placeholder: 'ID', description: 'the answer as a token id' },
    'wrong-id': { type: 'integer', placeholder: 'ID', description: 'the wrong token as a token id' },
    position: { type: 'integer', placeholder: 'P', description: 'the position whose next-token logits to explain (default -1, the last)' },
    heads: { type: 'boolean', description: 'also attribute to every attention head (layer × head)' },
    ...OUTPUT_FLAGS,
    ...MODEL_FLAGS,
  },
  details: 'Components use the final norm\'s statistics from the real run, so they sum (with the bias constant) to the model\'s logit.\n'
    + `${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    if (flags.out !== undefined) figureFormat(flags.out);
    const { model, tokenizer, location } = await openModel(name, flags, terminal, context);
    try {
      const c = model.config;
      const ids = promptIds({ textFlag: 'text', idsFlag: 'ids', text: flags.text, ids: flags.ids, bos: flags.bos }, model, tokenizer, name);
      const answer = singleToken('answer', flags.answer, flags['answer-id'], model, tokenizer, name);
      if (answer === undefined) throw new UsageError('attribute needs --answer (or --answer-id)');
      const wrong = singleToken('wrong', flags.wrong, flags['wrong-id'], model, tokenizer, name);
      const position = flags.position ?? -1;
      if (position < -ids.length || position >= ids.length) throw new UsageError(`--position ${position} is outside the prompt's ${ids.length} tokens`);
      const pos = position < 0 ? position + ids.length : position;
      const target: LogitTarget = wrong === undefined ? answer : { token: answer, against: wrong };

      const { logits, cache } = model.runWithCache([ids]);
      let components: Attribution;
      let heads: Attribution | null = null;
      let modelLogit: number;
      try {
        modelLogit = tidy(() => {
          const row = logits.select(1, pos).reshape(-1).toArray();
          return row[answer] - (wrong === undefined ? 0 : row[wrong]);
        });
        const decomposed = decomposeResid(model, cache, { pos });
        try {
          components = attribution(model, cache, decomposed, target, pos);
        } finally {
          decomposed.stack.dispose();
        }
        if (flags.heads) {
          const perHead = stackHeadResults(model, cache, { pos });
          try {
            heads = attribution(model, cache, perHead, target, pos);
          } finally {
            dispose(perHead);
          }
        }
      } finally {
        logits.dispose();
        cache.dispose();
      }
      const tokens = tokenStrings(ids, tokenizer);
      const answerString = tokenStrings([answer], tokenizer)[0];
      const wrongString = wrong === undefined ? null : tokenStrings([wrong], tokenizer)[0];
      const what = wrongString === null ? `logit(${quoted(answerString)})` : `logit(${quoted(answerString)}) − logit(${quoted(wrongString)})`;
      const total = components.values.reduce((a, b) => a + b, 0) + components.constant;

      if (flags.json) {
        terminal.out(`${JSON.stringify({
          input_ids: ids, tokens, position: pos,
          answer: { id: answer, token: answerString }, wrong: wrong === undefined ? null : { id: wrong, token: wrongString },
          components: components.labels.map((label, i) => ({ label, attribution: components.values[i] })),
          constant: components.constant, total, model_logit: modelLogit,
          ...(heads ? { heads: heads.labels.map((label, i) => ({ label, layer: Math.floor(i / c.nHeads), head: i % c.nHeads, attribution: heads.values[i] })) } : {}),
        })}\n`);
      } else {
        const lines = [
          `direct logit attribution of ${what.replace('−', '-')} at position ${pos} (${quoted(tokens[pos])})`,
          formatTable(['component', 'attribution'], [
            ...components.labels.map((label, i) => [label, formatNumber(components.values[i])]),
            ['(biases)', formatNumber(components.constant)],
          ]),
          `sum ${formatNumber(total)}; the model's ${wrong === undefined ? 'logit' : 'logit difference'}: ${formatNumber(modelLogit)}`,
        ];
        if (heads) {
          lines.push('', 'per head (layer × head; each layer\'s output bias is not a head\'s and is left out)');
          lines.push(formatTable(['layer', ...Array.from({ length: c.nHeads }, (_, h) => `H${h}`)],
            Array.from({ length: c.nLayers }, (_, l) => [String(l), ...heads.values.slice(l * c.nHeads, (l + 1) * c.nHeads).map(formatNumber)])));
        }
        terminal.out(`${lines.join('\n')}\n`);
      }

      if (flags.out !== undefined) {
        const panels = [barChartFigure({
          title: 'per component',
          labels: [...components.labels, '(biases)'],
          values: [...components.values, components.constant],
          valueAxisLabel: `contribution to ${what}`,
        })];
        if (heads) {
          const grid = Array.from({ length: c.nLayers }, (_, l) => heads.values.slice(l * c.nHeads, (l + 1) * c.nHeads));
          panels.push(heatmapFigure({
            title: 'per attention head',
            values: grid,
            rowLabels: grid.map((_, l) => String(l)),
            columnLabels: Array.from({ length: c.nHeads }, (_, h) => String(h)),
            rowAxisLabel: 'layer',
            columnAxisLabel: 'head',
            scale: divergingScale(grid),
            legendLabel: 'logit contribution',
          }));
        }
        await writeFigure(flags.out, arrangeFigures(panels, {
          direction: 'row',
          title: `Direct logit attribution · ${modelLabel(name, location)}`,
          subtitle: `${what} at position ${pos} (${quoted(tokens[pos])}) · sum ${formatNumber(total)} = the model's ${formatNumber(modelLogit)}`,
        }));
        if (!flags.json) terminal.out(`wrote ${flags.out}\n`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});
