// dissect steer: activation steering — add coefficient × v to the residual stream at one layer
// while generating, with v the difference of the residual streams of two contrasting prompts
// ("Love" − "Hate") or read from a file. Prints the unsteered and steered continuations side by
// side (same sampling settings and seed), and which next-token probabilities moved most.

import {
  barChartFigure, contrastVector, generate, samplingPlan, steeringHook, tidy, visibleToken,
  type GenerateOptions, type Hook, type HookedTransformer, type ResidualPoint, type Tokenizer,
} from '../../index.js';
import { OUTPUT_FLAGS, decodeText, formatNumber, modelLabel, quoted, tokenStrings } from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { figureFormat, writeFigure } from '../figure-file.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, missingTokenizer, openModel } from '../model-flags.js';
import { readSteeringVector, writeSteeringVector } from '../steering-vector-file.js';
import { formatTable, wrapText } from '../table.js';

const POINTS: readonly ResidualPoint[] = ['resid_pre', 'resid_mid', 'resid_post'];
const COLUMN_WIDTH = 38;

interface TokenShift { id: number; token: string; delta: number }

/** The k tokens whose next-token probability the hook raises most, and the k it lowers most. */
function nextTokenShifts(model: HookedTransformer, tokenizer: Tokenizer, ids: number[], hook: Hook, k: number): { up: TokenShift[]; down: TokenShift[] } {
  return tidy(() => {
    const base = model.forward([ids], { logitPositions: 'last' }).softmax(-1);
    const steered = model.runWithHooks([ids], [hook], { logitPositions: 'last' }).softmax(-1);
    const delta = steered.sub(base).reshape(-1);
    const read = (largest: boolean) => {
      const top = delta.topk(Math.min(k, model.config.dVocab), -1, { largest });
      const values = top.values.toArray();
      const tokens = Array.from(top.indices.toArray());
      const strings = tokenStrings(tokens, tokenizer);
      return tokens.map((id, i) => ({ id, token: strings[i], delta: values[i] }));
    };
    return { up: read(true), down: read(false) };
  });
}

/** Two texts in columns under their headers, wrapped to COLUMN_WIDTH. */
function sideBySide(left: string, right: string, headers: [string, string]): string {
  const a = wrapText(left, COLUMN_WIDTH);
  const b = wrapText(right, COLUMN_WIDTH);
  const rows = [headers, ['─'.repeat(COLUMN_WIDTH), '─'.repeat(COLUMN_WIDTH)],
    ...Array.from({ length: Math.max(a.length, b.length) }, (_, i) => [a[i] ?? '', b[i] ?? ''])];
  return rows.map(([l, r]) => `${l.padEnd(COLUMN_WIDTH)} │ ${r}`.trimEnd()).join('\n');
}

export const steerCommand = defineCommand({
  name: 'steer',
  summary: 'Steer generation by adding a vector to the residual stream; compare with the unsteered text.',
  positionals: ['model'],
  flags: {
    prompt: { type: 'string', placeholder: 'TEXT', description: 'the prompt to continue (required)' },
    'pos-prompt': { type: 'string', placeholder: 'TEXT', description: 'the positive side of a contrast vector, e.g. "Love"' },
    'neg-prompt': { type: 'string', placeholder: 'TEXT', description: 'the negative side, e.g. "Hate"' },
    vector: { type: 'string', placeholder: 'FILE', description: 'a steering vector (.safetensors with one [d_model] tensor, or a .json array) instead' },
    'save-vector': { type: 'string', placeholder: 'FILE', description: 'write the vector used to FILE (.safetensors or .json)' },
    layer: { type: 'integer', placeholder: 'L', description: 'the layer whose residual stream is steered (required)' },
    point: { type: 'string', placeholder: 'POINT', description: 'resid_pre (default), resid_mid or resid_post of that layer' },
    coefficient: { type: 'number', placeholder: 'C', description: 'add C × vector (default 1)' },
    'max-new-tokens': { type: 'integer', placeholder: 'N', description: 'tokens to generate (default 20)' },
    temperature: { type: 'number', placeholder: 'T', description: 'sample at this temperature (default: greedy)' },
    'top-k': { type: 'integer', placeholder: 'K', description: 'sample among the K most likely tokens' },
    'top-p': { type: 'number', placeholder: 'P', description: 'sample among the most likely tokens holding probability P' },
    seed: { type: 'integer', placeholder: 'S', description: 'random seed, the same for both runs (default 0)' },
    shifts: { type: 'integer', placeholder: 'K', description: 'next-token probability changes to show each way (default 10)' },
    ...OUTPUT_FLAGS,
    ...MODEL_FLAGS,
  },
  details: 'The contrast vector is mean(residual of --pos-prompt) − mean(residual of --neg-prompt) at each prompt\'s last token.\n'
    + 'The vector is added at every position, in the prompt and in each generated token. Both runs generate\n'
    + `--max-new-tokens tokens (no stop at end-of-text), greedy unless a sampling option is given.\n${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    if (flags.prompt === undefined) throw new UsageError('steer needs --prompt');
    if (flags.layer === undefined) throw new UsageError('steer needs --layer');
    const contrast = flags['pos-prompt'] !== undefined || flags['neg-prompt'] !== undefined;
    if (contrast === (flags.vector !== undefined)) throw new UsageError('give --pos-prompt and --neg-prompt, or --vector FILE (one of the two)');
    if (contrast && (flags['pos-prompt'] === undefined || flags['neg-prompt'] === undefined)) throw new UsageError('a contrast vector needs both --pos-prompt and --neg-prompt');
    const point = (flags.point ?? 'resid_pre') as ResidualPoint;
    if (!POINTS.includes(point)) throw new UsageError(`--point must be one of ${POINTS.join(', ')}; got '${flags.point}'`);
    const k = flags.shifts ?? 10;
    if (k < 1) throw new UsageError(`--shifts must be at least 1, got ${k}`);
    const sampling = { temperature: flags.temperature, topK: flags['top-k'], topP: flags['top-p'] };
    samplingPlan(sampling);
    if (flags.out !== undefined) figureFormat(flags.out);
    const { model, tokenizer, location } = await openModel(name, flags, terminal, context);
    try {
      const c = model.config;
      if (tokenizer === null) missingTokenizer(name);
      if (flags.layer < 0 || flags.layer >= c.nLayers) throw new UsageError(`--layer ${flags.layer} is out of range 0..${c.nLayers - 1}`);
      const site = { layer: flags.layer, point };
      let vector: Float32Array;
      if (flags.vector !== undefined) {
        vector = await readSteeringVector(flags.vector);
        if (vector.length !== c.dModel) throw new UsageError(`--vector '${flags.vector}' has ${vector.length} values; this model's d_model is ${c.dModel}`);
      } else {
        const positive = tokenizer.encode(flags['pos-prompt'] as string);
        const negative = tokenizer.encode(flags['neg-prompt'] as string);
        if (positive.length === 0 || negative.length === 0) throw new UsageError('--pos-prompt and --neg-prompt must not be empty');
        const t = contrastVector(model, { ...site, positive: [positive], negative: [negative] });
        vector = Float32Array.from(t.toArray());
        t.dispose();
      }
      if (flags['save-vector'] !== undefined) {
        await writeSteeringVector(flags['save-vector'], vector, {
          layer: String(flags.layer), point, ...(contrast ? { pos_prompt: flags['pos-prompt'] as string, neg_prompt: flags['neg-prompt'] as string } : {}),
        });
      }
      if (vector.every((v) => v === 0)) {
        terminal.err(`dissect: warning: the steering vector is all zeros${contrast ? ` (the two prompts leave the same residual stream at their last token at layer ${flags.layer}; prompts that end differently, or a later layer, give a direction)` : ''}\n`);
      }
      const coefficient = flags.coefficient ?? 1;
      const hook = steeringHook(model, vector, { ...site, coefficient });
      const ids = tokenizer.encode(flags.prompt);
      const options: GenerateOptions = {
        ...sampling, maxNewTokens: flags['max-new-tokens'] ?? 20, seed: flags.seed ?? 0, stopTokenIds: [], signal: context.signal,
      };
      const plain = await generate(model, ids, options);
      const steered = await generate(model, ids, { ...options, hooks: [hook] });
      const decode = (tokens: number[]) => decodeText(tokens, tokenizer);
      const shifts = nextTokenShifts(model, tokenizer, ids, hook, k);
      const norm = Math.hypot(...vector);
      const source = contrast ? `${quoted(flags['pos-prompt'] as string)} − ${quoted(flags['neg-prompt'] as string)}` : flags.vector as string;

      if (flags.json) {
        terminal.out(`${JSON.stringify({
          prompt_ids: ids, layer: flags.layer, point, coefficient, vector_norm: norm,
          unsteered: { ids: plain.tokens[0], text: decode(plain.tokens[0]) },
          steered: { ids: steered.tokens[0], text: decode(steered.tokens[0]) },
          shifts,
        })}\n`);
      } else {
        const shiftRows = Array.from({ length: shifts.up.length }, (_, i) => [
          quoted(shifts.up[i].token), `+${formatNumber(shifts.up[i].delta)}`.replace('+-', '-'),
          quoted(shifts.down[i].token), formatNumber(shifts.down[i].delta),
        ]);
        terminal.out([
          `steering ${point} of layer ${flags.layer} by ${coefficient} × ${source.replace('−', '-')} (|v| = ${formatNumber(norm)})`,
          `prompt: ${flags.prompt}`,
          '',
          sideBySide(decode(plain.tokens[0]), decode(steered.tokens[0]), ['unsteered', `steered (×${coefficient})`]),
          '',
          'next-token probability change at the end of the prompt (steered - unsteered)',
          formatTable(['raised', 'Δp', 'lowered', 'Δp'], shiftRows, { align: ['left', 'right', 'left', 'right'] }),
        ].join('\n') + '\n');
      }

      if (flags.out !== undefined) {
        const entries = [...shifts.up, ...[...shifts.down].reverse()];
        await writeFigure(flags.out, barChartFigure({
          title: `Steering · ${modelLabel(name, location)}`,
          subtitle: `${coefficient} × (${source}) at layer ${flags.layer} ${point} · next token after ${quoted(flags.prompt)}`,
          labels: entries.map((e) => visibleToken(e.token)),
          values: entries.map((e) => e.delta),
          valueAxisLabel: 'change in next-token probability (steered − unsteered)',
        }));
        if (!flags.json) terminal.out(`wrote ${flags.out}\n`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});
