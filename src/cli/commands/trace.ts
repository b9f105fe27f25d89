// dissect trace: causal tracing (ROME). Corrupt the subject's token embeddings with noise, then
// restore one hidden state at a time from the clean run — the residual stream, an MLP output or an
// attention output at each layer × token — and show how much of the answer's probability comes back.

import {
  TRACE_KINDS, causalTrace, findSubjectRange, indirectEffects, traceFigure, type CausalTraceResult, type TraceKind,
} from '../../index.js';
import { OUTPUT_FLAGS, PROMPT_FLAGS, formatNumber, modelLabel, promptIds, quoted, singleToken, tableFormatter, tokenStrings } from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { figureFormat, writeFigure } from '../figure-file.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, missingTokenizer, openModel } from '../model-flags.js';
import { sweepProgress } from '../progress.js';
import { formatTable } from '../table.js';

const KINDS = [...TRACE_KINDS, 'all'] as const;

/** The strongest restoration of one kind: its layer, position and indirect effect. */
function strongest(trace: CausalTraceResult, kind: TraceKind): { layer: number; position: number; effect: number } {
  let best = { layer: 0, position: 0, effect: -Infinity };
  indirectEffects(trace, kind).forEach((row, layer) => row.forEach((effect, position) => {
    if (effect > best.effect) best = { layer, position, effect };
  }));
  return best;
}

export const traceCommand = defineCommand({
  name: 'trace',
  summary: 'Causal tracing: corrupt the subject, restore one state per layer × token, find where a fact is recalled.',
  positionals: ['model'],
  flags: {
    prompt: { type: 'string', placeholder: 'TEXT', description: 'the factual prompt, e.g. "The capital of Veloria is" (required)' },
    subject: { type: 'string', placeholder: 'TEXT', description: 'the subject as it appears in the prompt, e.g. "Veloria" (required)' },
    answer: { type: 'string', placeholder: 'TOKEN', description: "the answer token, e.g. \" Tarsk\" (default: the model's top prediction)" },
    'answer-id': { type: 'integer', placeholder: 'ID', description: 'the answer as a token id' },
    bos: PROMPT_FLAGS.bos,
    kind: { type: 'string', placeholder: 'KIND', description: 'what is restored: resid, mlp, attn or all (default all)' },
    samples: { type: 'integer', placeholder: 'N', description: 'noise samples averaged (default 10)' },
    noise: { type: 'number', placeholder: 'X', description: 'noise std as a multiple of the subject embeddings\' std (default 3)' },
    'noise-std': { type: 'number', placeholder: 'S', description: 'the noise std itself (instead of --noise)' },
    window: { type: 'integer', placeholder: 'W', description: 'MLP/attention outputs are restored for W layers around each layer (default 10; 1 = one layer)' },
    seed: { type: 'integer', placeholder: 'S', description: 'seed of the noise (default 1)' },
    ...OUTPUT_FLAGS,
    ...MODEL_FLAGS,
  },
  details: 'Cells show P(answer) with that state restored; the corrupted run is the floor, the clean run the ceiling.\n'
    + 'Subject tokens are marked with *. Restoring before the subject changes nothing (those states were never corrupted).\n'
    + `${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    if (flags.prompt === undefined || flags.subject === undefined) throw new UsageError('--prompt and --subject are required');
    const kindFlag = (flags.kind ?? 'all') as (typeof KINDS)[number];
    if (!KINDS.includes(kindFlag)) throw new UsageError(`--kind must be one of ${KINDS.join(', ')}; got '${flags.kind}'`);
    if (flags.noise !== undefined && flags['noise-std'] !== undefined) throw new UsageError('give --noise or --noise-std, not both');
    if (flags.out !== undefined) figureFormat(flags.out);
    const kinds: TraceKind[] = kindFlag === 'all' ? [...TRACE_KINDS] : [kindFlag];
    const { model, tokenizer, location } = await openModel(name, flags, terminal, context);
    try {
      if (tokenizer === null) missingTokenizer(name);
      const tokens = promptIds({ textFlag: 'prompt', idsFlag: 'ids', text: flags.prompt, bos: flags.bos }, model, tokenizer, name);
      let subject: readonly [number, number];
      try {
        subject = findSubjectRange(tokenizer, tokens, flags.subject);
      } catch (err) {
        throw new UsageError(`--subject: ${(err as Error).message}`);
      }
      const answer = singleToken('answer', flags.answer, flags['answer-id'], model, tokenizer, name);
      const progress = sweepProgress(terminal, 'tracing');
      let trace: CausalTraceResult;
      try {
        trace = await causalTrace(model, { tokens, subject, answer }, {
          kinds, samples: flags.samples, noiseScale: flags.noise, noiseStd: flags['noise-std'], window: flags.window, seed: flags.seed,
          onProgress: progress.onProgress, signal: context.signal,
        });
      } finally {
        progress.finish();
      }
      const strings = tokenStrings(tokens, tokenizer);
      const answerText = tokenStrings([trace.answer], tokenizer)[0];
      if (flags.json) {
        terminal.out(`${JSON.stringify({
          prompt: flags.prompt, subject: flags.subject, tokens, token_strings: strings, subject_range: trace.subject,
          answer: trace.answer, answer_string: answerText, high_score: trace.highScore, low_score: trace.lowScore,
          correct: trace.correct, noise_std: trace.noiseStd, samples: trace.samples,
          grids: Object.fromEntries(kinds.map((k) => [k, {
            window: trace.grids[k]?.window, scores: trace.grids[k]?.scores, indirect_effects: indirectEffects(trace, k), strongest: strongest(trace, k),
          }])),
        })}\n`);
      } else {
        const lines = [
          `P(${quoted(answerText)}): clean run ${formatNumber(trace.highScore)}, subject corrupted ${formatNumber(trace.lowScore)}`
            + ` (${trace.samples} samples, noise std ${formatNumber(trace.noiseStd)})${trace.correct ? '' : ' — the answer is not the clean top prediction'}`,
        ];
        const format = tableFormatter(kinds.flatMap((k) => trace.grids[k]?.scores.flat() ?? []));
        for (const kind of kinds) {
          const grid = trace.grids[kind];
          if (grid === undefined) continue;
          const best = strongest(trace, kind);
          lines.push('', `restoring ${kind}${kind === 'resid' || grid.window === 1 ? '' : ` (window of ${grid.window} layers)`}: P(answer) per token (rows) × layer (columns);`
            + ` strongest: layer ${best.layer} at ${quoted(strings[best.position])} (position ${best.position}), +${formatNumber(best.effect)}`);
          const rows = strings.map((s, p) => [`${p} ${quoted(s)}${p >= subject[0] && p < subject[1] ? '*' : ''}`, ...grid.scores.map((row) => format(row[p]))]);
          lines.push(formatTable(['token', ...grid.scores.map((_, l) => `L${l}`)], rows));
        }
        terminal.out(`${lines.join('\n')}\n`);
      }
      if (flags.out !== undefined) {
        const figure = traceFigure(trace, {
          tokenStrings: strings, answer: answerText, kinds,
          title: `Causal tracing · ${modelLabel(name, location)}`,
          subtitle: `${flags.prompt} → ${answerText} · clean ${formatNumber(trace.highScore)}, corrupted ${formatNumber(trace.lowScore)}`
            + ` · ${trace.samples} noise samples, σ = ${formatNumber(trace.noiseStd)}`,
        });
        await writeFigure(flags.out, figure);
        if (!flags.json) terminal.out(`wrote ${flags.out}\n`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});
