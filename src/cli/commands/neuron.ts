// dissect neuron: one MLP neuron as a key-value memory — the contexts in a corpus where it fires
// hardest (its key side), and the tokens its output weights push up and down through the
// unembedding (its value side).

import { readFile } from 'node:fs/promises';
import {
  IOError, arrangeFigures, barChartFigure, fitTextStart, neuronValueTokens, topActivatingExamples, visibleToken,
  type NeuronExample, type TokenScore, type Tokenizer,
} from '../../index.js';
import { OUTPUT_FLAGS, PROMPT_FLAGS, formatNumber, modelLabel, promptIds, quoted, tokenStrings } from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { figureFormat, writeFigure } from '../figure-file.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, openModel } from '../model-flags.js';
import { sweepProgress } from '../progress.js';
import { clip, formatTable } from '../table.js';

/** One token row per non-empty line of the corpus, cut to the model's context. */
async function corpusRows(path: string, tokenizer: Tokenizer | null, nCtx: number, name: string, bos: number | null): Promise<number[][]> {
  if (tokenizer === null) throw new UsageError(`'${name}' has no tokenizer.json to read --corpus with; pass --tokenizer <tokenizer.json>`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new IOError(`cannot read corpus '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const encode = (line: string) => {
    const ids = tokenizer.encode(line);
    return (bos !== null && ids[0] !== bos ? [bos, ...ids] : ids).slice(0, nCtx);
  };
  const rows = text.split(/\r?\n/).filter((line) => line.trim() !== '').map(encode).filter((r) => r.length > 0);
  if (rows.length === 0) throw new UsageError(`--corpus '${path}' has no text (one example per line)`);
  return rows;
}

function bosOf(id: number | null): number {
  if (id === null) throw new UsageError("--bos: this model's config names no BOS token");
  return id;
}

/** The context of an example as text, the activating token in «guillemets». */
function contextText(example: NeuronExample, tokenizer: Tokenizer | null): string {
  const strings = tokenStrings(example.context, tokenizer);
  const at = example.position - example.contextStart;
  return strings.map((s, i) => (i === at ? `«${s}»` : s)).join(tokenizer === null ? ' ' : '').replace(/\n/g, '↵');
}

export const neuronCommand = defineCommand({
  name: 'neuron',
  summary: 'An MLP neuron: its top-activating contexts and the tokens its output promotes and suppresses.',
  positionals: ['model'],
  flags: {
    layer: { type: 'integer', placeholder: 'L', description: 'the MLP layer (required)' },
    neuron: { type: 'integer', placeholder: 'N', description: 'the neuron index in that layer (required)' },
    corpus: { type: 'string', placeholder: 'FILE', description: 'a text file to scan, one example per line' },
    ...PROMPT_FLAGS,
    top: { type: 'integer', placeholder: 'K', description: 'top-activating contexts to show (default 10)' },
    vocab: { type: 'integer', placeholder: 'K', description: 'promoted and suppressed tokens to show each (default 10)' },
    context: { type: 'integer', placeholder: 'N', description: 'tokens of context before the activating token (default 8)' },
    ...OUTPUT_FLAGS,
    ...MODEL_FLAGS,
  },
  details: 'The activation is blocks.L.mlp.hook_post (the input to W_out). The vocabulary view is the neuron\'s row of W_out\n'
    + `through ln_final's weight and the unembedding: the direct effect on the logits per unit of activation.\n${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    if (flags.layer === undefined || flags.neuron === undefined) throw new UsageError('neuron needs --layer and --neuron');
    const sources = [flags.corpus, flags.text, flags.ids].filter((s) => s !== undefined).length;
    if (sources !== 1) throw new UsageError('give exactly one of --corpus, --text and --ids');
    const k = flags.top ?? 10;
    const vocabK = flags.vocab ?? 10;
    const before = flags.context ?? 8;
    if (k < 1 || vocabK < 1 || before < 0) throw new UsageError('--top and --vocab must be at least 1, --context at least 0');
    if (flags.out !== undefined) figureFormat(flags.out);
    const { model, tokenizer, location } = await openModel(name, flags, terminal, context);
    try {
      const c = model.config;
      if (flags.layer < 0 || flags.layer >= c.nLayers) throw new UsageError(`--layer ${flags.layer} is out of range 0..${c.nLayers - 1}`);
      if (flags.neuron < 0 || flags.neuron >= c.dMlp) throw new UsageError(`--neuron ${flags.neuron} is out of range 0..${c.dMlp - 1} (d_mlp ${c.dMlp})`);
      const rows = flags.corpus !== undefined
        ? await corpusRows(flags.corpus, tokenizer, c.nCtx, name, flags.bos ? bosOf(c.bosTokenId) : null)
        : [promptIds({ textFlag: 'text', idsFlag: 'ids', text: flags.text, ids: flags.ids, bos: flags.bos }, model, tokenizer, name)];
      const progress = sweepProgress(terminal, 'scanning');
      let examples: NeuronExample[];
      try {
        [examples] = topActivatingExamples(model, rows, flags.layer, flags.neuron, {
          k, window: { before, after: 2 }, onProgress: progress.onProgress, signal: context.signal,
        });
      } finally {
        progress.finish();
      }
      const vocab = neuronValueTokens(model, flags.layer, flags.neuron, { k: vocabK });
      vocab.value.dispose();
      const named = (scores: TokenScore[]) => {
        const strings = tokenStrings(scores.map((s) => s.token), tokenizer);
        return scores.map((s, i) => ({ id: s.token, token: strings[i], value: s.value }));
      };
      const top = named(vocab.top);
      const bottom = named(vocab.bottom);
      const label = `L${flags.layer}N${flags.neuron}`;

      if (flags.json) {
        terminal.out(`${JSON.stringify({
          layer: flags.layer, neuron: flags.neuron, rows: rows.length,
          examples: examples.map((e) => ({
            row: e.row, position: e.position, activation: e.activation, context_start: e.contextStart,
            context_ids: e.context, context_tokens: tokenStrings(e.context, tokenizer),
          })),
          top, bottom,
        })}\n`);
      } else {
        terminal.out([
          `neuron ${label}: top ${examples.length} activations over ${rows.length} row(s); the activating token in «»`,
          formatTable(['rank', 'activation', 'row:pos', 'context'], examples.map((e, i) => [
            String(i + 1), formatNumber(e.activation), `${e.row}:${e.position}`, clip(contextText(e, tokenizer), 80),
          ]), { align: ['right', 'right', 'right', 'left'] }),
          '',
          'output weights through the unembedding (logit change per unit of activation)',
          formatTable(['promoted', 'logit', 'suppressed', 'logit'], top.map((t, i) => [
            quoted(t.token), formatNumber(t.value), quoted(bottom[i].token), formatNumber(bottom[i].value),
          ]), { align: ['left', 'right', 'left', 'right'] }),
        ].join('\n') + '\n');
      }

      if (flags.out !== undefined) {
        const vocabEntries = [...top, ...[...bottom].reverse()];
        await writeFigure(flags.out, arrangeFigures([
          barChartFigure({
            title: 'top-activating contexts',
            labels: examples.map((e) => fitTextStart(contextText(e, tokenizer), 250, 12)),
            values: examples.map((e) => e.activation),
            valueAxisLabel: 'activation (mlp.hook_post)',
            plotWidth: 300,
          }),
          barChartFigure({
            title: 'promoted and suppressed tokens',
            labels: vocabEntries.map((t) => visibleToken(t.token)),
            values: vocabEntries.map((t) => t.value),
            valueAxisLabel: 'logit change per unit activation',
            plotWidth: 300,
          }),
        ], { direction: 'row', title: `Neuron ${label} · ${modelLabel(name, location)}`, subtitle: `${rows.length} row(s) scanned · activating token in «»` }));
        if (!flags.json) terminal.out(`wrote ${flags.out}\n`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});
