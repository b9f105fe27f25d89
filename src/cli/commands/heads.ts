// dissect heads: score every attention head as a previous-token, duplicate-token and induction
// head (TransformerLens's head detector) on a prompt, or by default on repeated random tokens —
// the standard probe, where an induction head attends to the token after the current one's
// earlier occurrence.

import {
  HEAD_KINDS, arrangeFigures, headScores, heatmapFigure, repeatedRandomTokens, sequentialScale, type HeadKind,
} from '../../index.js';
import { OUTPUT_FLAGS, PROMPT_FLAGS, formatNumber, modelLabel, promptIds, tokenStrings } from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { figureFormat, writeFigure } from '../figure-file.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, openModel } from '../model-flags.js';
import { formatTable } from '../table.js';

const KIND_TITLES: Record<HeadKind, string> = {
  previous_token: 'previous-token',
  duplicate_token: 'duplicate-token',
  induction: 'induction',
};

export const headsCommand = defineCommand({
  name: 'heads',
  summary: 'Score every attention head as previous-token, duplicate-token and induction head.',
  positionals: ['model'],
  flags: {
    ...PROMPT_FLAGS,
    random: { type: 'boolean', description: 'probe with random tokens repeated twice (the default without --text/--ids)' },
    'seq-len': { type: 'integer', placeholder: 'N', description: 'length of the random segment (default 20; rows are BOS + 2N tokens)' },
    batch: { type: 'integer', placeholder: 'B', description: 'random rows to average over (default 4)' },
    seed: { type: 'integer', placeholder: 'S', description: 'seed of the random tokens (default 0)' },
    'exclude-bos': { type: 'boolean', description: 'ignore attention to position 0' },
    'exclude-current-token': { type: 'boolean', description: "ignore each query's attention to itself" },
    ...OUTPUT_FLAGS,
    ...MODEL_FLAGS,
  },
  details: "A head's score is the share of its attention (summed over queries) that lands where the pattern says: 1 = all of it.\n"
    + `${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    const prompt = flags.text !== undefined || flags.ids !== undefined;
    if (prompt && (flags.random || flags['seq-len'] !== undefined || flags.batch !== undefined || flags.seed !== undefined)) {
      throw new UsageError('--random, --seq-len, --batch and --seed choose random tokens; leave them out with --text or --ids');
    }
    const seqLen = flags['seq-len'] ?? 20;
    const batch = flags.batch ?? 4;
    if (seqLen < 1) throw new UsageError(`--seq-len must be at least 1, got ${seqLen}`);
    if (batch < 1) throw new UsageError(`--batch must be at least 1, got ${batch}`);
    if (flags.out !== undefined) figureFormat(flags.out);
    const { model, tokenizer, location } = await openModel(name, flags, terminal, context);
    try {
      const c = model.config;
      const rows = prompt
        ? [promptIds({ textFlag: 'text', idsFlag: 'ids', text: flags.text, ids: flags.ids, bos: flags.bos }, model, tokenizer, name)]
        : repeatedRandomTokens(model, { length: seqLen, batch, seed: flags.seed ?? 0 });
      const options = { excludeBos: flags['exclude-bos'] ?? false, excludeCurrentToken: flags['exclude-current-token'] ?? false };
      const names = Array.from({ length: c.nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
      const { logits, cache } = model.runWithCache(rows, { names, logitPositions: 'last' });
      const scores = {} as Record<HeadKind, number[][]>;
      try {
        for (const kind of HEAD_KINDS) {
          const t = headScores(model, cache, rows, kind, options);
          const data = t.toArray();
          t.dispose();
          scores[kind] = Array.from({ length: c.nLayers }, (_, l) => Array.from(data.subarray(l * c.nHeads, (l + 1) * c.nHeads)));
        }
      } finally {
        logits.dispose();
        cache.dispose();
      }
      const probe = prompt ? `the prompt (${rows[0].length} tokens)` : `${batch} rows of ${seqLen} random tokens repeated twice (seed ${flags.seed ?? 0})`;

      if (flags.json) {
        terminal.out(`${JSON.stringify({ tokens: rows, exclude_bos: options.excludeBos, exclude_current_token: options.excludeCurrentToken, scores })}\n`);
      } else {
        const table = formatTable(['head', ...HEAD_KINDS], Array.from({ length: c.nLayers * c.nHeads }, (_, i) => {
          const [l, h] = [Math.floor(i / c.nHeads), i % c.nHeads];
          return [`L${l}H${h}`, ...HEAD_KINDS.map((kind) => formatNumber(scores[kind][l][h]))];
        }));
        const best = HEAD_KINDS.map((kind) => {
          let top = { score: -Infinity, label: 'none' };
          scores[kind].forEach((row, l) => row.forEach((score, h) => {
            if (score > top.score) top = { score, label: `L${l}H${h}` };
          }));
          return `${kind} ${top.label} (${formatNumber(top.score)})`;
        });
        const shown = prompt ? `\ntokens: ${tokenStrings(rows[0], tokenizer).map((t) => JSON.stringify(t)).join(' ')}` : '';
        terminal.out(`head scores on ${probe}${shown}\n${table}\nstrongest: ${best.join(', ')}\n`);
      }

      if (flags.out !== undefined) {
        const panels = HEAD_KINDS.map((kind) => heatmapFigure({
          title: `${KIND_TITLES[kind]} score`,
          values: scores[kind],
          rowLabels: scores[kind].map((_, l) => String(l)),
          columnLabels: Array.from({ length: c.nHeads }, (_, h) => String(h)),
          rowAxisLabel: 'layer',
          columnAxisLabel: 'head',
          scale: sequentialScale(scores[kind], { min: 0, max: 1 }),
          legendLabel: 'share of attention',
        }));
        await writeFigure(flags.out, arrangeFigures(panels, {
          direction: 'row',
          title: `Attention head scores · ${modelLabel(name, location)} · ${probe}`,
        }));
        if (!flags.json) terminal.out(`wrote ${flags.out}\n`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});
