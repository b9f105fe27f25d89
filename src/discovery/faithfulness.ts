// Running a circuit: the clean prompt, with every edge NOT in the circuit carrying the sender's
// ablated output instead of its output in this run. A reader's input is the sum of what earlier
// writers wrote, so this is exact with one correction per reader:
//
//     x_v = x_v(this run) + Σ_{u → v ablated} (z'_u − z_u(this run))
//
// where z_u(this run) is recorded as the run reaches u (upstream ablations change it, and the
// correction must swap out what v really received). With no edge ablated this is the clean run,
// with every edge ablated the corrupted run (or, for mean ablation, the mean-ablated model).
// Faithfulness = (metric(circuit) − metric(empty circuit)) / (metric(clean) − metric(empty circuit)).

import type { Metric } from '../analysis/metrics.js';
import { SweepProgress } from '../analysis/sweep-runtime.js';
import type { Hook } from '../hooks/hook-set.js';
import type { HookedTransformer } from '../models/transformer.js';
import { metricValue } from '../analysis/metrics.js';
import { noGrad, tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../util/errors.js';
import type { EdgeScores } from './attribution.js';
import { circuitFromEdges, rankEdges, type Circuit } from './circuit.js';
import { DEFAULT_BATCH_SIZE, batchMetric, exampleBatches, type CircuitExample, type CircuitRunOptions, type ExampleBatch } from './dataset.js';
import { buildGraph, type ComputeGraph } from './graph.js';
import { readerGroups, withHeadAxis, writerGroups, type HookGroup } from './graph-hooks.js';
import { broadcastMeans, meanWriterOutputs, runMetric, runWriters, type WriterOutputs } from './writer-runs.js';

export interface CircuitEvaluation {
  /** The metric with only the circuit's edges clean (mean per prompt). */
  readonly value: number;
  /** (value − empty) / (clean − empty): 1 = the whole model's behaviour, 0 = none of it. */
  readonly faithfulness: number;
  readonly edgeCount: number;
}

/**
 * Holds the ablated writer outputs of a dataset so that many circuits can be run on it (one forward
 * pass per batch each). Dispose it when done.
 */
export class CircuitEvaluator {
  /** The metric on the clean prompts (the full circuit). */
  readonly clean: number;
  /** The metric with every edge ablated (the corrupted prompts' metric under corrupted ablation). */
  readonly empty: number;
  private disposed = false;

  private constructor(
    private readonly model: HookedTransformer,
    readonly graph: ComputeGraph,
    private readonly batches: readonly ExampleBatch[],
    private readonly metrics: readonly Metric[],
    private readonly ablated: readonly WriterOutputs[],
    clean: number,
    empty: number | null,
    private readonly control: CircuitRunOptions,
  ) {
    this.clean = clean;
    this.empty = empty ?? this.runCircuit(new Uint8Array(graph.edges.length));
  }

  static async create(model: HookedTransformer, examples: readonly CircuitExample[], options: CircuitRunOptions = {}): Promise<CircuitEvaluator> {
    const ablation = options.ablation ?? 'corrupted';
    if (ablation !== 'corrupted' && ablation !== 'mean') throw new ArgumentError(`ablation must be 'corrupted' or 'mean', got '${String(ablation)}'`);
    const graph = buildGraph(model.config);
    const writers = writerGroups(graph);
    const batches = exampleBatches(examples, options.batchSize ?? DEFAULT_BATCH_SIZE);
    const metricSpec = options.metric ?? 'logit-diff';
    const metrics = batches.map((b) => batchMetric(metricSpec, b));
    const progress = new SweepProgress(batches.length * (ablation === 'mean' ? 3 : 2), options);
    const means = ablation === 'mean' ? await meanWriterOutputs(model, writers, batches, metricSpec, progress) : null;
    const ablated: WriterOutputs[] = [];
    let clean = 0;
    let corrupted = 0;
    try {
      for (const [i, batch] of batches.entries()) {
        if (means === null) {
          const run = runWriters(model, batch.corrupted, writers, metrics[i]);
          ablated.push(run);
          corrupted += batch.clean.length * run.value;
        } else {
          const outputs = broadcastMeans(means, writers, batch.clean.length, batch.clean[0].length);
          ablated.push({ outputs, value: Number.NaN, dispose: () => { for (const t of outputs) t.dispose(); } });
        }
        clean += batch.clean.length * runMetric(model, batch.clean, metrics[i]);
        await progress.advance(2);
      }
    } catch (err) {
      for (const run of ablated) run.dispose();
      throw err;
    } finally {
      if (means !== null) for (const t of means) t.dispose();
    }
    const n = examples.length;
    return new CircuitEvaluator(model, graph, batches, metrics, ablated, clean / n, means === null ? corrupted / n : null, options);
  }

  /** Runs the circuit on every batch. */
  async evaluate(circuit: Circuit): Promise<CircuitEvaluation> {
    if (this.disposed) throw new ArgumentError('this CircuitEvaluator was disposed');
    if (circuit.graph.edges.length !== this.graph.edges.length) throw new ArgumentError('the circuit belongs to a different model graph');
    this.control.signal?.throwIfAborted();
    const value = this.runCircuit(circuit.edges);
    await new Promise<void>((resolve) => setTimeout(resolve, 0)); // let an abort arrive between circuits
    const span = this.clean - this.empty;
    return { value, faithfulness: span === 0 ? Number.NaN : (value - this.empty) / span, edgeCount: circuit.edgeCount };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const run of this.ablated) run.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The metric (mean per prompt) with the edges where `kept` is 0 ablated. */
  private runCircuit(kept: Uint8Array): number {
    const writers = writerGroups(this.graph);
    const readers = readerGroups(this.graph);
    let total = 0;
    this.batches.forEach((batch, i) => {
      const hooks = circuitHooks(this.graph, writers, readers, kept, this.ablated[i].outputs);
      total += batch.clean.length * noGrad(() => tidy(() => metricValue(this.metrics[i], this.model.forward(batch.clean, {
        hooks, logitPositions: this.metrics[i].logitPositions ?? 'all',
      }))));
    });
    return total / this.batches.reduce((n, b) => n + b.clean.length, 0);
  }
}

/**
 * Hooks that record the writers some ablated edge leaves and correct each reader some ablated edge
 * enters. Only those hooks are added, so layers the circuit keeps whole run the fused computation.
 */
function circuitHooks(graph: ComputeGraph, writers: readonly HookGroup[], readers: readonly HookGroup[], kept: Uint8Array,
  ablated: readonly Tensor[]): Hook[] {
  // ablatedInto[input][writer] = 1 where the edge exists and is not kept.
  const ablatedInto = graph.inputs.map(() => new Uint8Array(graph.writers));
  graph.edges.forEach((e, i) => { if (!kept[i]) ablatedInto[e.to][e.from] = 1; });
  const needed = new Set<number>(); // writer groups some ablated edge leaves
  const current = new Map<number, Tensor>();
  const hooks: Hook[] = [];
  for (const reader of readers) {
    const inputs = Array.from({ length: reader.count }, (_, j) => ablatedInto[reader.first + j]);
    const sources = writers.map((w, g) => ({ w, g })).filter(({ w }) => inputs.some((row) => row.subarray(w.first, w.first + w.count).some((v) => v)));
    if (sources.length === 0) continue;
    for (const { g } of sources) needed.add(g);
    // [count, writers in group] per source: which writer's difference enters which input.
    const masks = sources.map(({ w }) => Float32Array.from({ length: reader.count * w.count }, (_, k) => inputs[Math.floor(k / w.count)][w.first + (k % w.count)]));
    hooks.push({
      name: reader.hook,
      fn: (activation) => {
        let update: Tensor | null = null;
        sources.forEach(({ w, g }, s) => {
          const difference = withHeadAxis(ablated[g], w).sub(withHeadAxis(current.get(g) as Tensor, w)); // [batch, pos, n, d]
          const mask = tensor(masks[s], [reader.count, w.count], { dtype: activation.dtype, backend: activation.backend });
          const term = mask.matmul(difference); // [batch, pos, count, d]
          update = update === null ? term : update.add(term);
        });
        const correction = update as unknown as Tensor;
        return activation.add(reader.perHead ? correction : correction.squeeze(2));
      },
    });
  }
  for (const g of needed) hooks.unshift({ name: writers[g].hook, fn: (activation) => { current.set(g, activation); } });
  return hooks;
}

export interface FaithfulnessPoint extends CircuitEvaluation {
  /** Edges selected by |score| before pruning. */
  readonly topN: number;
}

/** Faithfulness of the top-n circuits (pruned) for each n, on an evaluator's dataset. */
export async function faithfulnessCurve(evaluator: CircuitEvaluator, scores: EdgeScores, edgeCounts?: readonly number[],
  onProgress?: (done: number, total: number) => void): Promise<FaithfulnessPoint[]> {
  const counts = edgeCounts ?? defaultEdgeCounts(scores.graph.edges.length);
  const ranked = rankEdges(scores.scores);
  const points: FaithfulnessPoint[] = [];
  for (const [i, topN] of counts.entries()) {
    if (!Number.isInteger(topN) || topN < 0) throw new ArgumentError(`edge counts must be non-negative integers, got ${topN}`);
    const mask = new Uint8Array(ranked.length);
    for (const e of ranked.slice(0, topN)) mask[e] = 1;
    points.push({ topN, ...(await evaluator.evaluate(circuitFromEdges(scores.graph, mask))) });
    onProgress?.(i + 1, counts.length);
  }
  return points;
}

/** 0, then roughly geometric steps up to every edge. */
export function defaultEdgeCounts(total: number): number[] {
  const counts = new Set<number>([0]);
  for (let n = 1; n < total; n = Math.ceil(n * 1.6)) counts.add(n);
  counts.add(total);
  return [...counts];
}

/** Runs one circuit on the prompt pairs (builds and disposes an evaluator). */
export async function evaluateCircuit(model: HookedTransformer, examples: readonly CircuitExample[], circuit: Circuit,
  options: CircuitRunOptions = {}): Promise<CircuitEvaluation & { clean: number; empty: number }> {
  const evaluator = await CircuitEvaluator.create(model, examples, options);
  try {
    const result = await evaluator.evaluate(circuit);
    return { ...result, clean: evaluator.clean, empty: evaluator.empty };
  } finally {
    evaluator.dispose();
  }
}
