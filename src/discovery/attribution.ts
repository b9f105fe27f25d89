// Edge attribution patching (EAP; Syed et al. 2023) and EAP with integrated gradients (EAP-IG;
// Hanna et al. 2024, "Have Faith in Faithfulness"). Ablating edge u → v replaces what v reads from
// u, u's output z_u, by its ablated value z'_u (the corrupted prompt's, or the mean), and changes the
// metric L by about
//
//     score(u → v) = (z'_u − z_u) · ∂L/∂x_v        (x_v: v's input; summed over positions and d_model)
//
// EAP takes the gradient on the clean run: one forward and backward pass scores every edge. That is
// the first-order Taylor term, exact where L is linear in x_v and poor where attention saturates.
// EAP-IG averages the gradient over m runs whose input embeddings step from the ablated to the
// clean ones, x_emb(k) = z'_emb + (k/m)(z_emb − z'_emb) for k = 1..m (m = 1 is EAP). The
// 'activations' variant (Marks et al. 2024) instead steps one layer's writers at a time between
// their ablated and clean outputs, with the rest of the run clean, and scores that layer's edges
// from those runs: m passes per writer group.
//
// Scores are means over prompts, in the metric's units, signed as the reference implementation
// signs them: the estimated change of the metric when the edge alone is ablated (negative for an
// edge the clean behaviour needs when the metric is a logit difference). Rank by |score|.

import { SweepProgress } from '../analysis/sweep-runtime.js';
import type { Metric } from '../analysis/metrics.js';
import type { HookedTransformer } from '../models/transformer.js';
import { concat, noGrad, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../util/errors.js';
import { DEFAULT_BATCH_SIZE, batchMetric, exampleBatches, type CircuitExample, type CircuitRunOptions, type ExampleBatch } from './dataset.js';
import { buildGraph, type ComputeGraph } from './graph.js';
import { groupRows, readerGroups, upstreamOf, writerGroups, type HookGroup } from './graph-hooks.js';
import { broadcastMeans, meanWriterOutputs, readerGradients, runMetric, runWriters, type WriterOutputs } from './writer-runs.js';

export type AttributionMethod = 'eap' | 'eap-ig' | 'eap-ig-activations';
export const ATTRIBUTION_METHODS: readonly AttributionMethod[] = ['eap', 'eap-ig', 'eap-ig-activations'];

export interface EdgeAttributionOptions extends CircuitRunOptions {
  /** Default 'eap-ig'. */
  method?: AttributionMethod;
  /** Integrated-gradient steps m (default 5; ignored by 'eap'). */
  steps?: number;
}

export interface EdgeScores {
  readonly graph: ComputeGraph;
  /** One per edge, in graph.edges order: estimated metric change when that edge alone is ablated (mean per prompt). */
  readonly scores: Float64Array;
  readonly method: AttributionMethod;
  /** Gradient evaluations per writer (1 for EAP). */
  readonly steps: number;
  readonly ablation: 'corrupted' | 'mean';
  readonly metric: string;
  /** Prompt pairs scored. */
  readonly examples: number;
  /** The metric averaged over the clean prompts and over the corrupted prompts. */
  readonly baselines: { readonly clean: number; readonly corrupted: number };
}

const DEFAULT_STEPS = 5;

/** Scores every edge of the model's graph on the prompt pairs. */
export async function attributeEdges(model: HookedTransformer, examples: readonly CircuitExample[],
  options: EdgeAttributionOptions = {}): Promise<EdgeScores> {
  const method = options.method ?? 'eap-ig';
  if (!ATTRIBUTION_METHODS.includes(method)) throw new ArgumentError(`method must be one of ${ATTRIBUTION_METHODS.join(', ')}; got '${String(method)}'`);
  const steps = method === 'eap' ? 1 : options.steps ?? DEFAULT_STEPS;
  if (!Number.isInteger(steps) || steps < 1) throw new ArgumentError(`steps must be a positive integer, got ${steps}`);
  const ablation = options.ablation ?? 'corrupted';
  if (ablation !== 'corrupted' && ablation !== 'mean') throw new ArgumentError(`ablation must be 'corrupted' or 'mean', got '${String(ablation)}'`);
  const metricSpec = options.metric ?? 'logit-diff';
  const graph = buildGraph(model.config);
  const writers = writerGroups(graph);
  const readers = readerGroups(graph);
  const batches = exampleBatches(examples, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const gradientPasses = method === 'eap-ig-activations' ? steps * writers.length : steps;
  const progress = new SweepProgress((ablation === 'mean' ? 1 : 0) * batches.length + batches.length * (2 + gradientPasses), options);
  const means = ablation === 'mean' ? await meanWriterOutputs(model, writers, batches, metricSpec, progress) : null;
  const matrix = new Float64Array(graph.writers * graph.inputs.length); // [writer, input]
  let clean = 0;
  let corrupted = 0;
  try {
    for (const batch of batches) {
      const metric = batchMetric(metricSpec, batch);
      const size = batch.clean.length;
      const cleanRun = runWriters(model, batch.clean, writers, metric);
      let ablatedRun: WriterOutputs | null = null;
      try {
        ablatedRun = means === null ? runWriters(model, batch.corrupted, writers, metric) : meanRun(model, batch, writers, means, metric);
        await progress.advance(2);
        clean += size * cleanRun.value;
        corrupted += size * ablatedRun.value;
        const pass = { model, graph, batch, metric, writers, readers, clean: cleanRun, ablated: ablatedRun, steps, progress };
        const product = method === 'eap-ig-activations' ? await activationsIntegratedProduct(pass) : await inputIntegratedProduct(pass);
        for (let i = 0; i < matrix.length; i++) matrix[i] += size * product[i];
      } finally {
        cleanRun.dispose();
        ablatedRun?.dispose();
      }
    }
  } finally {
    if (means !== null) for (const t of means) t.dispose();
  }
  const total = examples.length;
  const scores = Float64Array.from(graph.edges, (e) => matrix[e.from * graph.inputs.length + e.to] / total);
  const metricName = typeof metricSpec === 'function' ? 'custom' : metricSpec;
  return { graph, scores, method, steps, ablation, metric: metricName, examples: total, baselines: { clean: clean / total, corrupted: corrupted / total } };
}

/** Mean ablation's writer outputs for a batch; its value is the metric on the corrupted prompts. */
function meanRun(model: HookedTransformer, batch: ExampleBatch, writers: readonly HookGroup[], means: readonly Tensor[], metric: Metric): WriterOutputs {
  const outputs = broadcastMeans(means, writers, batch.clean.length, batch.clean[0].length);
  return { outputs, value: runMetric(model, batch.corrupted, metric), dispose: () => { for (const t of outputs) t.dispose(); } };
}

interface BatchPass {
  readonly model: HookedTransformer;
  readonly graph: ComputeGraph;
  readonly batch: ExampleBatch;
  readonly metric: Metric;
  readonly writers: readonly HookGroup[];
  readonly readers: readonly HookGroup[];
  readonly clean: WriterOutputs;
  readonly ablated: WriterOutputs;
  readonly steps: number;
  readonly progress: SweepProgress;
}

/** (ablated − clean) of the given writer groups as rows [writers, batch·pos·d_model] (the caller owns it). */
function differenceRows(pass: BatchPass, groups: readonly number[]): Tensor {
  return noGrad(() => tidy(() => concat(groups.map((g) => groupRows(pass.ablated.outputs[g].sub(pass.clean.outputs[g]), pass.writers[g])), 0)));
}

/** Adds Σ (rows · columns) / steps into `into` ([writer, input]) for the writers rows[i] stands for. */
function addProducts(pass: BatchPass, into: Float64Array, rows: Tensor, firstWriter: number, columns: readonly Tensor[]): void {
  const inputs = pass.graph.inputs.length;
  const count = rows.shape[0];
  pass.readers.forEach((reader, r) => {
    const upstream = upstreamOf(pass.graph, reader);
    const used = Math.min(count, upstream - firstWriter);
    if (used <= 0) return;
    const block = noGrad(() => tidy(() => rows.narrow(0, 0, used).matmul(columns[r]).toArray())); // [used, reader.count]
    for (let w = 0; w < used; w++) {
      for (let j = 0; j < reader.count; j++) into[(firstWriter + w) * inputs + reader.first + j] += block[w * reader.count + j] / pass.steps;
    }
  });
}

/** Sums gradient columns over passes (the caller owns the result). */
function accumulate(sum: Tensor[] | null, next: Tensor[]): Tensor[] {
  if (sum === null) return next;
  const added = noGrad(() => tidy(() => sum.map((t, i) => t.add(next[i]))));
  for (const t of [...sum, ...next]) t.dispose();
  return added;
}

/** EAP (steps = 1: the clean run) and EAP-IG over the input embedding. */
async function inputIntegratedProduct(pass: BatchPass): Promise<Float64Array> {
  const product = new Float64Array(pass.graph.writers * pass.graph.inputs.length);
  const allWriters = pass.writers.map((_, g) => g);
  let columns: Tensor[] | null = null;
  const rows = differenceRows(pass, allWriters);
  try {
    for (let k = 1; k <= pass.steps; k++) {
      let next: Tensor[];
      if (k === pass.steps) {
        next = readerGradients(pass.model, { tokens: pass.batch.clean }, pass.metric, pass.readers);
      } else {
        const cleanInput = pass.clean.outputs[0];
        const ablatedInput = pass.ablated.outputs[0];
        const resid = noGrad(() => tidy(() => ablatedInput.add(cleanInput.sub(ablatedInput).mul(k / pass.steps))));
        try {
          next = readerGradients(pass.model, { resid }, pass.metric, pass.readers);
        } finally {
          resid.dispose();
        }
      }
      columns = accumulate(columns, next);
      await pass.progress.advance(1);
    }
    addProducts(pass, product, rows, 0, columns as Tensor[]);
  } finally {
    rows.dispose();
    if (columns !== null) for (const t of columns) t.dispose();
  }
  return product;
}

/** EAP-IG over activations: each writer group stepped from ablated to clean in turn, the rest clean. */
async function activationsIntegratedProduct(pass: BatchPass): Promise<Float64Array> {
  const product = new Float64Array(pass.graph.writers * pass.graph.inputs.length);
  for (let g = 0; g < pass.writers.length; g++) {
    const group = pass.writers[g];
    const rows = differenceRows(pass, [g]);
    let columns: Tensor[] | null = null;
    try {
      for (let k = 1; k <= pass.steps; k++) {
        const alpha = k / pass.steps;
        const interpolate = {
          name: group.hook,
          fn: () => pass.ablated.outputs[g].add(pass.clean.outputs[g].sub(pass.ablated.outputs[g]).mul(alpha)),
        };
        columns = accumulate(columns, readerGradients(pass.model, { tokens: pass.batch.clean }, pass.metric, pass.readers, k === pass.steps ? [] : [interpolate]));
        await pass.progress.advance(1);
      }
      addProducts(pass, product, rows, group.first, columns as Tensor[]);
    } finally {
      rows.dispose();
      if (columns !== null) for (const t of columns) t.dispose();
    }
  }
  return product;
}
