// dissect sae dashboard: feature dashboards of an SAE — scan a corpus with the model and the SAE,
// then write one HTML page and one JSON file per feature, and an index over them.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  FEATURE_RANKINGS, IOError, LOGIT_EFFECT_METHOD, Rng, WORLD_4L, dashboardFileNames, dashboardIndex, dashboardIndexHtml,
  featureDashboard, featureDashboardHtml, featureLogitEffects, loadSAE, scanFeatures, topFeatures, world,
  type DashboardExample, type DashboardSource, type FeatureRanking, type FeatureStatistics, type HookedTransformer, type SparseAutoencoder, type Tokenizer,
} from '../../index.js';
import { formatNumber, modelLabel, tokenStrings } from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, openModel } from '../model-flags.js';
import { sweepProgress } from '../progress.js';
import { clip, formatTable } from '../table.js';

const DEFAULT_TOKENS = 32_768;

function parseFeatureList(text: string): number[] {
  const ids = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (ids.length === 0 || ids.some((id) => !Number.isInteger(id) || id < 0)) {
    throw new UsageError(`--features expects feature indices separated by commas (e.g. 0,5,17), got '${text}'`);
  }
  return [...new Set(ids)];
}

/** Rows of a text file, one example per non-empty line, BOS first when the SAE was trained with one, until `tokens` tokens. */
async function fileRows(path: string, tokenizer: Tokenizer | null, model: HookedTransformer, bos: number | null, tokens: number): Promise<number[][]> {
  if (tokenizer === null) throw new UsageError('the model has no tokenizer.json to read --corpus with; pass --tokenizer <tokenizer.json>');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new IOError(`cannot read corpus '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const rows: number[][] = [];
  let total = 0;
  for (const line of text.split(/\r?\n/)) {
    if (total >= tokens) break;
    if (line.trim() === '') continue;
    const ids = tokenizer.encode(line);
    const row = (bos !== null && ids[0] !== bos ? [bos, ...ids] : ids).slice(0, Math.min(model.config.nCtx, tokens - total));
    if (row.length === 0) continue;
    rows.push(row);
    total += row.length;
  }
  if (rows.length === 0) throw new UsageError(`--corpus '${path}' has no text (one example per line)`);
  return rows;
}

/** Rows of world-4l's training mixture (packed documents, each after <|endoftext|>), for models that speak the world's vocabulary. */
function worldRows(tokenizer: Tokenizer | null, model: HookedTransformer, seqLen: number, tokens: number, seed: number): number[][] {
  const worldTokenizer = world().tokenizer;
  const sample = Array.from({ length: Math.min(worldTokenizer.vocabSize, 64) }, (_, i) => i);
  const speaksWorld = tokenizer !== null && tokenizer.vocabSize === worldTokenizer.vocabSize && model.config.dVocab >= worldTokenizer.vocabSize
    && sample.every((id) => tokenizer.idToToken(id) === worldTokenizer.idToToken(id));
  if (!speaksWorld) throw new UsageError("this model's vocabulary is not the synthetic world's: give a corpus with --corpus FILE (one example per line)");
  const length = Math.min(seqLen, model.config.nCtx);
  const count = Math.max(1, Math.ceil(tokens / length));
  // The recipe's rows hold seqLen + 1 tokens (inputs and shifted targets); the scan needs inputs only.
  return WORLD_4L.spec().rows(new Rng(seed), count, length - 1);
}

/** A few tokens around an example's token, which is in «guillemets». */
function contextText(example: DashboardExample): string {
  const start = Math.max(0, example.focus - 8);
  const tokens = example.tokens.slice(start, example.focus + 3).map((t, i) => (start + i === example.focus ? `«${t}»` : t));
  return clip(tokens.join('').replace(/\n/g, '↵'), 60);
}

export const saeDashboardCommand = defineCommand({
  name: 'sae dashboard',
  summary: "Feature dashboards of an SAE: each feature's top and sampled contexts, histogram and logit effects, as HTML and JSON.",
  positionals: ['model'],
  flags: {
    sae: { type: 'string', placeholder: 'DIR', description: 'the SAE: a folder in SAELens format, cfg.json + sae_weights.safetensors (required)' },
    features: { type: 'string', placeholder: 'LIST', description: 'features to show, e.g. 0,5,17' },
    top: { type: 'integer', placeholder: 'N', description: 'or: the N features that rank highest by --rank' },
    rank: { type: 'string', placeholder: 'BY', description: `with --top: ${FEATURE_RANKINGS.join(', ')} (default density: the features that fire most often)` },
    corpus: { type: 'string', placeholder: 'FILE', description: "text to scan, one example per line (default: world-4l's training mixture, for models with its vocabulary)" },
    tokens: { type: 'integer', placeholder: 'N', description: `tokens to scan (default ${DEFAULT_TOKENS})` },
    'seq-len': { type: 'integer', placeholder: 'L', description: 'row length of the default corpus (default: the model context, at most 128)' },
    examples: { type: 'integer', placeholder: 'K', description: 'top-activating contexts per feature (default 20)' },
    seed: { type: 'integer', placeholder: 'S', description: 'seed of the default corpus and of the interval sampling (default 0)' },
    out: { type: 'string', placeholder: 'DIR', description: 'folder to write index.html, index.json and feature-<n>.html/.json into (required)' },
    json: { type: 'boolean', description: 'print the index as JSON instead of a table' },
    ...MODEL_FLAGS,
  },
  details: 'Activations are the SAE\'s encoding of its hook (cfg.json hook_name); tokens equal to the model\'s BOS id are left out of\n'
    + 'the statistics (they still show in contexts). Logit effects are the decoder row\'s direct path to the logits through\n'
    + `ln_final's weight and W_U (see the JSON's logit_effects.method). Open <out>/index.html in a browser.\n${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    if (flags.sae === undefined) throw new UsageError('sae dashboard needs --sae <folder of a SAELens-format SAE>');
    if (flags.out === undefined) throw new UsageError('sae dashboard needs --out <folder for the pages>');
    if ((flags.features === undefined) === (flags.top === undefined)) throw new UsageError('give exactly one of --features and --top');
    const requested = flags.features === undefined ? null : parseFeatureList(flags.features);
    const rank = (flags.rank ?? 'density') as FeatureRanking;
    if (!FEATURE_RANKINGS.includes(rank)) throw new UsageError(`--rank must be one of ${FEATURE_RANKINGS.join(', ')}, got '${flags.rank}'`);
    if (flags.rank !== undefined && flags.top === undefined) throw new UsageError('--rank goes with --top');
    const tokens = flags.tokens ?? DEFAULT_TOKENS;
    for (const [flag, value] of [['top', flags.top], ['tokens', tokens], ['seq-len', flags['seq-len']], ['examples', flags.examples]] as const) {
      if (value !== undefined && value < 1) throw new UsageError(`--${flag} must be at least 1, got ${value}`);
    }
    if (flags['seq-len'] !== undefined && flags.corpus !== undefined) throw new UsageError('--seq-len is for the default corpus; --corpus rows are its lines');
    const seed = flags.seed ?? 0;

    const { model, tokenizer, location } = await openModel(name, flags, terminal, context);
    let sae: SparseAutoencoder | null = null;
    try {
      sae = (await loadSAE(flags.sae, { backend: model.backend, signal: context.signal })).sae;
      const dSae = sae.cfg.d_sae;
      for (const f of requested ?? []) if (f >= dSae) throw new UsageError(`--features: ${f} is out of range 0..${dSae - 1} (d_sae ${dSae})`);
      const bos = model.config.bosTokenId;
      const rows = flags.corpus !== undefined
        ? await fileRows(flags.corpus, tokenizer, model, sae.cfg.prepend_bos === false ? null : bos, tokens)
        : worldRows(tokenizer, model, flags['seq-len'] ?? 128, tokens, seed);
      const excluded = bos === null ? [] : [bos];

      const progress = sweepProgress(terminal, 'scanning');
      let stats: FeatureStatistics[];
      try {
        stats = await scanFeatures(model, sae, rows, {
          features: requested ?? undefined, topK: flags.examples ?? 20, excludeTokens: excluded, seed,
          onProgress: progress.onProgress, signal: context.signal,
        });
      } finally {
        progress.finish();
      }
      const chosen = requested === null ? topFeatures(stats, flags.top as number, rank) : stats;
      if (chosen.length === 0) throw new UsageError(`no feature of the SAE fired on the ${rows.length} row(s) scanned`);

      const strings = (ids: readonly number[]) => tokenStrings(ids, tokenizer);
      const source: DashboardSource = {
        model: modelLabel(name, location),
        sae: { hook_name: sae.cfg.hook_name, d_in: sae.cfg.d_in, d_sae: dSae, architecture: sae.cfg.architecture, path: flags.sae },
        corpus: {
          name: flags.corpus !== undefined ? basename(flags.corpus) : "world-4l's training mixture", rows: rows.length, tokens: chosen[0].tokens, excluded_token_ids: excluded,
        },
      };
      const effects = featureLogitEffects(model, sae, chosen.map((s) => s.feature), 10);
      const dashboards = chosen.map((s, i) => featureDashboard(s, rows, strings, source,
        effects === null ? null : { effects: effects[i], method: LOGIT_EFFECT_METHOD }));
      const index = dashboardIndex(dashboards, source);

      try {
        await mkdir(flags.out, { recursive: true });
        for (const d of dashboards) {
          const files = dashboardFileNames(d.feature);
          await writeFile(join(flags.out, files.json), `${JSON.stringify(d, null, 1)}\n`);
          await writeFile(join(flags.out, files.html), featureDashboardHtml(d, { indexHref: 'index.html' }));
        }
        await writeFile(join(flags.out, 'index.json'), `${JSON.stringify(index, null, 1)}\n`);
        await writeFile(join(flags.out, 'index.html'), dashboardIndexHtml(index));
      } catch (err) {
        throw new IOError(`cannot write into '${flags.out}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }

      if (flags.json) {
        terminal.out(`${JSON.stringify(index)}\n`);
      } else {
        terminal.out([
          `${dashboards.length} feature dashboard(s) of ${sae.cfg.hook_name} over ${source.corpus.tokens} tokens (${rows.length} rows)`,
          formatTable(['feature', 'density', 'max', 'mean', 'strongest context'], index.features.map((f) => [
            String(f.feature), `${formatNumber(f.density * 100)}%`, formatNumber(f.max_activation),
            f.mean_activation === null ? '–' : formatNumber(f.mean_activation), f.top_example === null ? '' : contextText(f.top_example),
          ]), { align: ['right', 'right', 'right', 'right', 'left'] }),
          `wrote ${join(flags.out, 'index.html')} and ${dashboards.length} feature page(s)`,
        ].join('\n') + '\n');
      }
      return 0;
    } finally {
      sae?.dispose();
      model.dispose();
    }
  },
});
