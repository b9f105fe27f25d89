// dissect edit: rewrite one fact with ROME. Computes (or reads from its cache) the second moment of
// the chosen MLP's keys over a corpus, applies the rank-one edit for "prompt + subject → new
// object", and prints how the model answers before and after: the prompt itself (efficacy), its
// paraphrases (generalisation), prompts about other subjects (specificity) and sampled text
// (fluency, perplexity). --out saves the edited model as a new Hugging Face folder.

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import {
  IOError, Rng, WORLD_4L, cachedKeyStatistics, causalTrace, evaluateEdit, findSubjectRange, indirectEffects, romeEdit, saveEditedModel,
  toTemplate, world, type EditEvaluation, type HookedTransformer, type RomeEdit, type Tokenizer,
} from '../../index.js';
import { formatNumber, quoted } from '../analysis-args.js';
import { defineCommand, type Command } from '../command.js';
import { DEFAULT_MODEL, UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, missingTokenizer, openModel } from '../model-flags.js';
import { sweepProgress } from '../progress.js';
import { formatTable } from '../table.js';
import type { Terminal } from '../terminal.js';

/** Repeatable flags: the parser takes each flag once, so repeats are joined with a NUL (no argument can contain one). */
const REPEATABLE = ['paraphrase', 'neighbour'];
const JOIN = '\u0000';

function joinRepeats(args: readonly string[]): string[] {
  const values = new Map<string, string[]>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      rest.push(...args.slice(i));
      break;
    }
    const name = REPEATABLE.find((n) => arg === `--${n}` || arg.startsWith(`--${n}=`));
    if (name === undefined || args.includes('--help') || args.includes('-h')) {
      rest.push(arg);
      continue;
    }
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value (TEXT)`);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  for (const [name, list] of values) rest.push(`--${name}`, list.join(JOIN));
  return rest;
}

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'dissect', 'key-statistics');
}

/**
 * world-4l's training mixture as documents in the model's own tokens: the recipe's rows are split at
 * the world's end-of-text marker and re-encoded (a checkpoint's vocabulary may predate the world's).
 */
function worldDocuments(tokenizer: Tokenizer, count: number, seed: number): number[][] {
  const spec = WORLD_4L.spec();
  const worldTokenizer = world().tokenizer;
  const eot = worldTokenizer.eosTokenId;
  const rng = new Rng(seed);
  const documents: number[][] = [];
  while (documents.length < count) {
    for (const row of spec.rows(rng, 8, spec.seqLen)) {
      let start = -1;
      row.forEach((id, i) => {
        if (id !== eot) return;
        // Only whole documents: from one marker to the next.
        if (start >= 0 && i > start + 1 && documents.length < count) {
          documents.push(tokenizer.encode(worldTokenizer.decode(row.slice(start + 1, i)), { addSpecialTokens: false }));
        }
        start = i;
      });
    }
  }
  return documents;
}

/** A text file's documents (blank-line separated paragraphs; a file without blank lines: its lines). */
async function fileDocuments(path: string, tokenizer: Tokenizer): Promise<number[][]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new IOError(`cannot read corpus '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const paragraphs = text.split(/\r?\n\s*\r?\n/);
  const pieces = (paragraphs.length > 1 ? paragraphs : text.split(/\r?\n/)).map((p) => p.trim()).filter((p) => p !== '');
  if (pieces.length === 0) throw new UsageError(`--corpus '${path}' has no text`);
  return pieces.map((p) => tokenizer.encode(p));
}

/** The greedy next token after `prompt`, as text (a neighbour's answer before the edit). */
function topToken(model: HookedTransformer, tokenizer: Tokenizer, prompt: string): string {
  const logits = model.forward([tokenizer.encode(prompt)], { logitPositions: 'last' });
  try {
    const id = logits.reshape(-1).argmax().item();
    return tokenizer.decode([id]);
  } finally {
    logits.dispose();
  }
}

/** The layer whose MLP, restored alone at the last subject token, brings back most of the answer. */
async function tracedLayer(model: HookedTransformer, tokenizer: Tokenizer, prompt: string, subject: string, signal: AbortSignal): Promise<number> {
  const tokens = tokenizer.encode(prompt);
  const range = findSubjectRange(tokenizer, tokens, subject);
  const trace = await causalTrace(model, { tokens, subject: range }, { kinds: ['mlp'], window: 1, signal });
  const effects = indirectEffects(trace, 'mlp').map((row) => row[range[1] - 1]);
  return effects.indexOf(Math.max(...effects));
}

function yesNo(flag: boolean): string {
  return flag ? 'yes' : 'no';
}

function fraction(flags: readonly boolean[]): string {
  return flags.length === 0 ? '–' : `${flags.filter(Boolean).length}/${flags.length}`;
}

function report(before: EditEvaluation, after: EditEvaluation, target: string, original: string): string {
  const rows = [
    [`P(${quoted(target)}) at the prompt`, formatNumber(before.efficacy.pTarget), formatNumber(after.efficacy.pTarget)],
    [`P(${quoted(original)}) at the prompt`, formatNumber(before.efficacy.pOriginal ?? NaN), formatNumber(after.efficacy.pOriginal ?? NaN)],
    ['efficacy: new object is top-1', yesNo(before.efficacy.top1), yesNo(after.efficacy.top1)],
    ['generalisation: paraphrases, new top-1', fraction(before.paraphrases.map((p) => p.top1)), fraction(after.paraphrases.map((p) => p.top1))],
    ['specificity: neighbours keep their answer', fraction(before.neighbours.map((n) => n.kept)), fraction(after.neighbours.map((n) => n.kept))],
    ['fluency: n-gram entropy of samples', formatNumber(before.fluency?.ngramEntropy ?? NaN), formatNumber(after.fluency?.ngramEntropy ?? NaN)],
    ['perplexity of corpus text', formatNumber(before.perplexity ?? NaN), formatNumber(after.perplexity ?? NaN)],
  ];
  const lines = [formatTable(['', 'before', 'after'], rows)];
  if (after.paraphrases.length) {
    lines.push('', 'paraphrases: P(new) before → after');
    after.paraphrases.forEach((p, i) => lines.push(`  ${p.top1 ? '✓' : '✗'} ${quoted(p.prompt)}  ${formatNumber(before.paraphrases[i].pTarget)} → ${formatNumber(p.pTarget)}`));
  }
  if (after.neighbours.length) {
    lines.push('', 'neighbours: P(their answer) before → after');
    after.neighbours.forEach((n, i) => lines.push(`  ${n.kept ? '✓' : '✗'} ${quoted(n.prompt)} → ${quoted(n.answer)}  ${formatNumber(before.neighbours[i].pAnswer)} → ${formatNumber(n.pAnswer)}`));
  }
  return lines.join('\n');
}

const editCommandSpec = defineCommand({
  name: 'edit',
  summary: 'ROME: rewrite one fact with a rank-one edit of an MLP, and show the model before and after.',
  positionals: ['model'],
  flags: {
    prompt: { type: 'string', placeholder: 'TEXT', description: 'the prompt, with the subject in it or "{}" where it goes (required)' },
    subject: { type: 'string', placeholder: 'TEXT', description: 'the subject, e.g. "Veloria" (required)' },
    new: { type: 'string', placeholder: 'TEXT', description: 'the new object, leading space included, e.g. " Brellin" (required)' },
    old: { type: 'string', placeholder: 'TEXT', description: "the current object (default: the model's top prediction)" },
    layer: { type: 'integer', placeholder: 'L', description: 'the MLP layer to edit (default: where causal tracing finds the fact)' },
    paraphrase: { type: 'string', placeholder: 'TEXT', description: 'a paraphrase of the prompt, for generalisation (repeatable)' },
    neighbour: { type: 'string', placeholder: 'TEXT', description: 'a prompt about another subject whose answer must not change (repeatable)' },
    corpus: { type: 'string', placeholder: 'FILE', description: "text for the keys' statistics (default for world-4l: its training mixture)" },
    documents: { type: 'integer', placeholder: 'N', description: 'world-4l documents for the statistics (default 1000)' },
    'stats-dir': { type: 'string', placeholder: 'DIR', description: 'cache of key statistics (default ~/.cache/dissect/key-statistics)' },
    steps: { type: 'integer', placeholder: 'N', description: 'optimisation steps for the value (default 100)' },
    clamp: { type: 'number', placeholder: 'F', description: 'the value may move at most F × its norm (default 1)' },
    'kl-factor': { type: 'number', placeholder: 'F', description: 'weight of keeping "<subject> is a" unchanged (default 0.0625)' },
    seed: { type: 'integer', placeholder: 'S', description: 'seed of the sampled contexts and generations (default 0)' },
    out: { type: 'string', placeholder: 'DIR', description: 'save the edited model there as a Hugging Face folder' },
    json: { type: 'boolean', description: 'print the results as JSON' },
    ...MODEL_FLAGS,
  },
  details: 'Example: dissect edit --prompt "The capital of Veloria is" --subject Veloria --new " Brellin" \\\n'
    + '  --paraphrase "In Veloria, the capital is" --neighbour "The capital of Marrowind is" --out edited-4l\n'
    + 'Other models need --corpus FILE (plain text; paragraphs or lines are documents). Statistics are cached by model, layer and corpus.\n'
    + `${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    if (flags.prompt === undefined || flags.subject === undefined || flags.new === undefined) throw new UsageError('--prompt, --subject and --new are required');
    const { model, tokenizer, location } = await openModel(name, flags, terminal, context);
    try {
      if (tokenizer === null) missingTokenizer(name);
      let template: string;
      try {
        template = toTemplate(flags.prompt, flags.subject);
      } catch (err) {
        throw new UsageError(`--prompt: ${(err as Error).message}`);
      }
      const prompt = template.replace('{}', flags.subject.trim());
      const isWorld = resolve(name) === resolve(DEFAULT_MODEL) || basename(resolve(location.folder)) === 'world-4l';
      if (flags.corpus === undefined && !isWorld) throw new UsageError('--corpus FILE is needed: a text corpus for the statistics of the MLP keys');
      const seed = flags.seed ?? 0;
      const corpus = flags.corpus !== undefined ? await fileDocuments(flags.corpus, tokenizer) : worldDocuments(tokenizer, flags.documents ?? 1000, seed);
      const layer = flags.layer ?? await tracedLayer(model, tokenizer, prompt, flags.subject, context.signal);
      if (!Number.isInteger(layer) || layer < 0 || layer >= model.config.nLayers) throw new UsageError(`--layer must be 0..${model.config.nLayers - 1}, got ${layer}`);

      const statsProgress = sweepProgress(terminal, `key statistics, layer ${layer}`);
      let statistics: Awaited<ReturnType<typeof cachedKeyStatistics>>;
      try {
        statistics = await cachedKeyStatistics(model, layer, corpus, { cacheDir: flags['stats-dir'] ?? cacheDir(), onProgress: statsProgress.onProgress, signal: context.signal });
      } finally {
        statsProgress.finish();
      }
      const original = flags.old ?? topToken(model, tokenizer, prompt);
      const paraphrases = flags.paraphrase?.split(JOIN) ?? [];
      const neighbourPrompts = flags.neighbour?.split(JOIN) ?? [];
      const spec = {
        prompt, target: flags.new, original, paraphrases,
        neighbours: neighbourPrompts.map((p) => ({ prompt: p, answer: topToken(model, tokenizer, p) })),
        generationPrompts: [prompt, ...paraphrases.slice(0, 4)], corpus: corpus.slice(0, 50), seed,
      };
      const before = await evaluateEdit(model, tokenizer, spec);
      const progress = sweepProgress(terminal, 'optimising the value');
      const steps = flags.steps ?? 100;
      let edit: RomeEdit;
      try {
        edit = await romeEdit(model, tokenizer, { prompt: template, subject: flags.subject, target: flags.new }, {
          layer, statistics, steps, clampNormFactor: flags.clamp, klFactor: flags['kl-factor'], context: { seed }, signal: context.signal,
          onStep: (s) => progress.onProgress(s.step + 1, steps),
        });
      } finally {
        progress.finish();
      }
      const after = await evaluateEdit(model, tokenizer, spec);
      if (flags.out !== undefined) {
        await saveEditedModel(model, flags.out, {
          source: location.folder,
          metadata: { rome_edit: JSON.stringify({ prompt: template, subject: flags.subject, target: flags.new, layer, weight: edit.weightName }) },
        });
      }
      const last = edit.valueSteps[edit.valueSteps.length - 1];
      if (flags.json) {
        terminal.out(`${JSON.stringify({
          request: edit.request, layer, weight: edit.weightName, original, contexts: edit.prefixes.length,
          statistics: { tokens: statistics.count, cached: statistics.fromCache, path: statistics.path },
          value_steps: edit.valueSteps, before, after, saved: flags.out ?? null,
        })}\n`);
      } else {
        terminal.out(`${[
          `edit: ${quoted(prompt)} → ${quoted(flags.new)} (was ${quoted(original)}), MLP down projection of layer ${layer} (${edit.weightName})`,
          `key statistics: ${statistics.count} tokens${statistics.fromCache ? ' (cached)' : ''} · k* over ${edit.prefixes.length} contexts`
            + ` · v* after ${edit.valueSteps.length} steps (P(new) ${formatNumber(last.targetProbability)} in the optimisation)`,
          '',
          report(before, after, flags.new, original),
          '',
          flags.out !== undefined ? `saved the edited model to ${flags.out}` : 'not saved (pass --out DIR to save the edited model)',
        ].join('\n')}\n`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});

/** `edit` with repeatable --paraphrase and --neighbour. */
export const editCommand: Command = {
  name: editCommandSpec.name,
  summary: editCommandSpec.summary,
  help: () => editCommandSpec.help(),
  execute: (args: readonly string[], terminal: Terminal, context) => editCommandSpec.execute(joinRepeats(args), terminal, context),
};
