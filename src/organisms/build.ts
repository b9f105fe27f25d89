// Building an organism end to end: train (resuming from checkpoints), measure, and write the
// shipped folder — a Hugging Face model directory with the world's tokenizer and a README.md model
// card (recipe, training time, eval numbers, known circuits) — or, for the superposition toy,
// safetensors + config.json. Node only.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import { writeSafetensors } from '../io/safetensors.js';
import type { HookedTransformer } from '../models/transformer.js';
import { ArgumentError } from '../util/errors.js';
import { closestMatches } from '../util/closest.js';
import { factRecallHeldOut, inductionMetrics, ioiHeldOut } from './evaluate.js';
import { TRANSFORMER_RECIPES, type TransformerRecipe } from './recipes.js';
import { saveModelFolder } from './save.js';
import {
  SUPERPOSITION_TOY, disposeSuperposition, importanceWeights, superpositionStats, trainSuperposition,
} from './superposition.js';
import { train, type TrainProgress } from './trainer.js';
import { WORLD_WORDS, world } from './world.js';

export const ORGANISM_NAMES: readonly string[] = [...TRANSFORMER_RECIPES.map((r) => r.name), 'superposition-toy'];

export interface BuildOptions {
  /** The folder the organism is written to. */
  out: string;
  /** Checkpoints (default `<out>/training`). */
  checkpointDir?: string;
  checkpointEvery?: number;
  /** Stop training after this step; the model is then written from that step (and can be resumed). */
  stopAt?: number;
  signal?: AbortSignal;
  backend?: Backend;
  onProgress?: (progress: TrainProgress) => void;
}

export interface BuildResult {
  folder: string;
  /** Training steps completed / planned (steps of all sweep members for the toy). */
  step: number;
  totalSteps: number;
  seconds: number;
  metrics: Record<string, number>;
}

function recipeNamed(name: string): TransformerRecipe | null {
  return TRANSFORMER_RECIPES.find((r) => r.name === name) ?? null;
}

export async function buildOrganism(name: string, options: BuildOptions): Promise<BuildResult> {
  if (name === 'superposition-toy') return buildSuperpositionToy(options);
  const recipe = recipeNamed(name);
  if (recipe === null) {
    const close = closestMatches(name, ORGANISM_NAMES);
    throw new ArgumentError(`no organism recipe '${name}'; recipes: ${ORGANISM_NAMES.join(', ')}${close.length ? ` (did you mean ${close.join(' or ')}?)` : ''}`);
  }
  const spec = recipe.spec();
  const result = await train(spec, {
    backend: options.backend, checkpointDir: options.checkpointDir ?? join(options.out, 'training'),
    checkpointEvery: options.checkpointEvery, stopAt: options.stopAt, signal: options.signal, onProgress: options.onProgress,
  });
  const { model } = result;
  try {
    const metrics = evaluateOrganism(model);
    metrics.final_loss = mean(result.losses.slice(-20));
    const { files } = world();
    await saveModelFolder(model, spec.modelConfig, options.out, {
      tokenizer: files.tokenizer,
      tokenizerConfig: { ...files.tokenizerConfig, model_max_length: model.config.nCtx },
      readme: modelCard(recipe, result.step, result.seconds, metrics),
    });
    return { folder: options.out, step: result.step, totalSteps: spec.schedule.totalSteps, seconds: result.seconds, metrics };
  } finally {
    model.dispose();
  }
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

/** The numbers a model card reports: induction for every organism, IOI and facts too (near chance for models not trained on them). */
export function evaluateOrganism(model: HookedTransformer): Record<string, number> {
  const { tokenizer, files } = world();
  const pool = WORLD_WORDS.map((w) => tokenizer.encode(` ${w}`, { addSpecialTokens: false })[0]);
  const span = Math.min(24, Math.floor((model.config.nCtx - 1) / 2));
  const induction = inductionMetrics(model, pool, { length: span, batch: 16, seed: 99, bos: files.endOfTextId });
  const best = (scores: number[][]) => Math.max(...scores.map((heads) => Math.max(...heads)));
  const ioi = ioiHeldOut(model, tokenizer);
  const facts = factRecallHeldOut(model, tokenizer);
  return {
    induction_first_half_loss: induction.firstHalfLoss,
    induction_second_half_loss: induction.secondHalfLoss,
    best_induction_head_score: best(induction.inductionScores),
    best_previous_token_head_score: best(induction.previousTokenScores),
    ioi_mean_logit_diff_held_out_names: ioi.meanLogitDiff,
    ioi_accuracy_held_out_names: ioi.accuracy,
    fact_recall_top1_held_out_paraphrases: facts.top1,
  };
}

function modelCard(recipe: TransformerRecipe, steps: number, seconds: number, metrics: Record<string, number>): string {
  const spec = recipe.spec();
  const { rows: _rows, frozen, ...settings } = spec;
  const lines = Object.entries(metrics).map(([k, v]) => `| ${k} | ${v.toFixed(4)} |`);
  return `# ${recipe.name}

${recipe.summary}.

A model organism of [dissect](../../README.md): trained from scratch by \`dissect train ${recipe.name} --out DIR\`
(src/organisms/recipes.ts), so its mechanism is known and it can serve as ground truth. Loads with
\`transformers.AutoModelForCausalLM.from_pretrained\` and with dissect's \`loadModel\`.

## Known circuits

${recipe.knownCircuits}

## Recipe

\`\`\`json
${JSON.stringify({ ...settings, frozen: frozen ? 'MLP tensors (zero, excluded from the optimiser)' : 'none' }, null, 2)}
\`\`\`

Data: the synthetic world of src/organisms/data (seeded; the batch of step s depends only on (seed, s)).
Tokenizer: word-level (byte-level BPE with ignore_merges; unknown words fall back to bytes).

## Training

${steps} steps in ${(seconds / 60).toFixed(1)} min on the machine that built it (2 shared CPU cores, dissect's native backend).

## Evaluation

| metric | value |
|---|---|
${lines.join('\n')}

Induction metrics use 16 sequences of a random 24-word span repeated; IOI uses 256 prompts over the
12 names held out of IOI training; fact recall is top-1 over the whole vocabulary on paraphrases never
seen in training.
`;
}

async function buildSuperpositionToy(options: BuildOptions): Promise<BuildResult> {
  const config = SUPERPOSITION_TOY;
  const run = trainSuperposition(config, { backend: options.backend });
  try {
    const { nHidden: m, nFeatures: n } = config;
    const W = new Float32Array(config.sparsities.length * m * n);
    const b = new Float32Array(config.sparsities.length * n);
    run.models.forEach((model, i) => {
      W.set(model.W.toArray() as Float32Array, i * m * n);
      b.set(model.b.toArray() as Float32Array, i * n);
    });
    const stats = config.sparsities.map((_, i) => superpositionStats(W.subarray(i * m * n, (i + 1) * m * n), m, n));
    await mkdir(options.out, { recursive: true });
    await writeSafetensors(join(options.out, 'model.safetensors'), {
      W: { dtype: 'F32', shape: [config.sparsities.length, m, n], data: W },
      b_final: { dtype: 'F32', shape: [config.sparsities.length, n], data: b },
    }, { format: 'pt' });
    const json = {
      model_type: 'toy_superposition', n_instances: config.sparsities.length, n_features: n, n_hidden: m,
      feature_probability: config.sparsities.map((s) => 1 - s), sparsities: config.sparsities,
      importance: importanceWeights(config), steps: config.steps, batch_size: config.batchSize, lr: config.lr, seed: config.seed,
      final_losses: run.finalLosses,
    };
    await writeFile(join(options.out, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
    await writeFile(join(options.out, 'README.md'), toyCard(config.sparsities, stats, run.finalLosses, run.seconds));
    const metrics: Record<string, number> = {};
    config.sparsities.forEach((s, i) => { metrics[`represented_features_S${s}`] = stats[i].representedFeatures; });
    return { folder: options.out, step: config.steps * config.sparsities.length, totalSteps: config.steps * config.sparsities.length, seconds: run.seconds, metrics };
  } finally {
    disposeSuperposition(run.models);
  }
}

function toyCard(sparsities: readonly number[], stats: ReturnType<typeof superpositionStats>[], losses: readonly number[], seconds: number): string {
  const rows = sparsities.map((s, i) => `| ${s} | ${stats[i].representedFeatures} | ${stats[i].dimensionsPerFeature.toFixed(3)} | ${losses[i].toExponential(3)} |`);
  const c = SUPERPOSITION_TOY;
  return `# superposition-toy

Toy models of superposition (Elhage et al. 2022): ${c.nFeatures} sparse features, importance ${c.importanceDecay}^i,
compressed into ${c.nHidden} hidden dimensions, h = W x, x' = ReLU(Wᵀ h + b_final). One model per feature sparsity S
(a feature is zero with probability S, else uniform in [0, 1)). Not a transformer.

Files: model.safetensors holds W [instances, n_hidden, n_features] and b_final [instances, n_features];
config.json lists the sparsity of each instance. Built by \`dissect train superposition-toy --out DIR\`
(src/organisms/superposition.ts), AdamW lr ${c.lr}, batch ${c.batchSize}, ${c.steps} steps per model, seed ${c.seed};
${seconds.toFixed(0)} s on 2 shared CPU cores.

## Known result

Dense features (S = 0) get ${c.nHidden} orthogonal directions and the rest are dropped; as S grows, more features
than dimensions are represented (superposition; the paper finds them arranged in antipodal pairs, then pentagons).

| sparsity S | features with ‖W_i‖ > 0.5 | dimensions per feature (m / ‖W‖²_F) | final loss |
|---|---|---|---|
${rows.join('\n')}
`;
}
