// Building an organism end to end: train (resuming from checkpoints), measure, and write the
// shipped folder — a Hugging Face model directory with the world's tokenizer and a README.md model
// card (recipe, training time, eval numbers, known circuits) — or, for the superposition toy,
// safetensors + config.json. Node only.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { defaultBackend } from '../backend/registry.js';
import type { Backend } from '../backend/types.js';
import { writeSafetensors } from '../io/safetensors.js';
import type { HookedTransformer } from '../models/transformer.js';
import { ArgumentError } from '../util/errors.js';
import { closestMatches } from '../util/closest.js';
import { modelCard, toyCard } from './card.js';
import { FACT_TEMPLATES, type Fact } from './data/facts.js';
import { factRecallHeldOut, inductionMetrics, ioiHeldOut } from './evaluate.js';
import { factLocation, type FactLocation } from './fact-location.js';
import { TRANSFORMER_RECIPES, type TransformerRecipe } from './recipes.js';
import { saveModelFolder } from './save.js';
import {
  SUPERPOSITION_TOY, disposeSuperposition, importanceWeights, superpositionStats, trainSuperposition,
} from './superposition.js';
import { train, type TrainProgress } from './trainer.js';
import { headDetectionCheck } from './validate.js';
import type { ValidationCheck } from './validate-check.js';
import { ioiPatchingCheck } from './validate-ioi.js';
import { causalTracingCheck } from './validate-tracing.js';
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
  const backend = options.backend ?? defaultBackend();
  // The machine's load during the run goes on the card: on shared cores it, not the recipe, sets the time.
  const loads: number[] = [];
  const checkpointDir = options.checkpointDir ?? join(options.out, 'training');
  const result = await train(spec, {
    backend, checkpointDir,
    checkpointEvery: options.checkpointEvery, stopAt: options.stopAt, signal: options.signal,
    onProgress: (p) => {
      if (p.step % 25 === 0) loads.push(loadavg()[0]);
      options.onProgress?.(p);
    },
  });
  const { model } = result;
  try {
    const loadFile = join(checkpointDir, 'load-samples.json');
    const allLoads = [...await readLoadSamples(loadFile), ...loads];
    await writeFile(loadFile, `${JSON.stringify(allLoads)}\n`);
    const metrics = evaluateOrganism(model);
    metrics.final_loss = mean(result.losses.slice(-20));
    const { files, tokenizer } = world();
    const checks: ValidationCheck[] = [];
    const facts: FactLocation[] = [];
    for (const check of recipe.cardChecks) {
      if (check === 'head detection') checks.push(headDetectionCheck(model, tokenizer, recipe.name));
      else if (check === 'ioi patching') checks.push(await ioiPatchingCheck(model, tokenizer, { organism: recipe.name }));
      else if (check === 'causal tracing') checks.push(await causalTracingCheck(model, tokenizer, { factLayers: recipe.factLayers ?? [], organism: recipe.name }));
      else for (const [relation, templates] of Object.entries(FACT_TEMPLATES)) {
        for (const template of [templates.train[0], ...templates.heldOut]) facts.push(await factLocation(model, tokenizer, relation as Fact['relation'], template));
      }
    }
    const training = {
      steps: result.step, seconds: result.seconds, meanLoad: allLoads.length > 0 ? mean(allLoads) : null,
      cores: availableParallelism(), backend: backend.name, threads: backend.threads,
    };
    await saveModelFolder(model, spec.modelConfig, options.out, {
      tokenizer: files.tokenizer,
      tokenizerConfig: { ...files.tokenizerConfig, model_max_length: model.config.nCtx },
      readme: modelCard(recipe, training, metrics, checks, facts),
    });
    return { folder: options.out, step: result.step, totalSteps: spec.schedule.totalSteps, seconds: result.seconds, metrics };
  } finally {
    model.dispose();
  }
}

/** Load averages sampled by earlier runs of a resumed build (none for a fresh one). */
async function readLoadSamples(path: string): Promise<number[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const values = JSON.parse(text) as unknown;
  return Array.isArray(values) ? values.filter((v): v is number => typeof v === 'number') : [];
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
