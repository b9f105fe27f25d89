// dissect circuit: circuit discovery by edge attribution patching. Scores every edge of the model's
// graph (input, heads' q/k/v inputs and outputs, MLPs, logits) with EAP or EAP-IG on one prompt
// pair or an IOI dataset, keeps the top edges, runs the circuit with every other edge ablated to
// measure its faithfulness, and writes the scored graph as JSON and SVG.

import { writeFile } from 'node:fs/promises';
import {
  ALL_NAMES, ATTRIBUTION_METHODS, CircuitEvaluator, IOError, IOI_HELD_OUT_NAMES, Rng, attributeEdges, circuitHeads, circuitSvg,
  circuitToJson, endAttention, faithfulnessCurve, ioiCircuitExamples, ioiEvalSet, rankEdges, selectCircuit,
  type AttributionMethod, type CircuitExample, type HookedTransformer, type Tokenizer,
} from '../../index.js';
import { PROMPT_FLAGS, formatNumber, modelLabel, promptIds, singleToken } from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, missingTokenizer, openModel } from '../model-flags.js';
import { sweepProgress } from '../progress.js';
import { formatTable } from '../table.js';

const DATASETS = ['ioi'] as const;

async function writeText(path: string, content: string): Promise<void> {
  try {
    await writeFile(path, content);
  } catch (err) {
    throw new IOError(`cannot write '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

interface DatasetFlags {
  dataset?: string;
  n?: number;
  seed?: number;
  clean?: string;
  corrupt?: string;
  'clean-ids'?: string;
  'corrupt-ids'?: string;
  answer?: string;
  wrong?: string;
  'answer-id'?: number;
  'wrong-id'?: number;
  bos?: boolean;
}

/** IOI pairs over the held-out names (corrupted: three other names), or the one pair the flags give. */
function examplesFrom(flags: DatasetFlags, model: HookedTransformer, tokenizer: Tokenizer | null, name: string): CircuitExample[] {
  if (flags.dataset !== undefined) {
    if (!(DATASETS as readonly string[]).includes(flags.dataset)) throw new UsageError(`--dataset must be one of ${DATASETS.join(', ')}; got '${flags.dataset}'`);
    if (flags.clean !== undefined || flags['clean-ids'] !== undefined) throw new UsageError('give --dataset or --clean/--corrupt, not both');
    if (tokenizer === null) missingTokenizer(name);
    const n = flags.n ?? 32;
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--n must be a positive integer, got ${n}`);
    const seed = flags.seed ?? 0;
    return ioiCircuitExamples(tokenizer, ioiEvalSet(new Rng(seed), n, IOI_HELD_OUT_NAMES), { names: ALL_NAMES, seed });
  }
  const clean = promptIds({ textFlag: 'clean', idsFlag: 'clean-ids', text: flags.clean, ids: flags['clean-ids'], bos: flags.bos }, model, tokenizer, name);
  const corrupted = promptIds({ textFlag: 'corrupt', idsFlag: 'corrupt-ids', text: flags.corrupt, ids: flags['corrupt-ids'], bos: flags.bos }, model, tokenizer, name);
  if (clean.length !== corrupted.length) throw new UsageError(`the clean prompt has ${clean.length} tokens and the corrupted one ${corrupted.length}; circuit discovery needs equal lengths`);
  const answer = singleToken('answer', flags.answer, flags['answer-id'], model, tokenizer, name);
  const wrong = singleToken('wrong', flags.wrong, flags['wrong-id'], model, tokenizer, name);
  if (answer === undefined || wrong === undefined) throw new UsageError('give --answer and --wrong (or their -id forms): the metric is logit(answer) − logit(wrong)');
  return [{ clean, corrupted, answer, wrong }];
}

export const circuitCommand = defineCommand({
  name: 'circuit',
  summary: 'Circuit discovery: score every edge with EAP / EAP-IG, keep the top ones, measure faithfulness.',
  positionals: ['model'],
  flags: {
    clean: { type: 'string', placeholder: 'TEXT', description: 'the clean prompt' },
    corrupt: { type: 'string', placeholder: 'TEXT', description: 'the corrupted prompt (the same number of tokens)' },
    'clean-ids': { type: 'string', placeholder: 'IDS', description: 'the clean prompt as token ids' },
    'corrupt-ids': { type: 'string', placeholder: 'IDS', description: 'the corrupted prompt as token ids' },
    answer: { type: 'string', placeholder: 'TOKEN', description: 'the clean answer, one token (e.g. " Mary")' },
    wrong: { type: 'string', placeholder: 'TOKEN', description: 'the distractor, one token (e.g. " John")' },
    'answer-id': { type: 'integer', placeholder: 'ID', description: 'the answer as a token id' },
    'wrong-id': { type: 'integer', placeholder: 'ID', description: 'the distractor as a token id' },
    bos: PROMPT_FLAGS.bos,
    dataset: { type: 'string', placeholder: 'NAME', description: 'ioi: IOI prompt pairs from the synthetic world (instead of --clean/--corrupt)' },
    n: { type: 'integer', placeholder: 'N', description: 'prompt pairs drawn from --dataset (default 32)' },
    seed: { type: 'integer', placeholder: 'N', description: 'seed for --dataset (default 0)' },
    method: { type: 'string', placeholder: 'NAME', description: `${ATTRIBUTION_METHODS.join(', ')} (default eap-ig)` },
    steps: { type: 'integer', placeholder: 'N', description: 'integrated-gradient steps (default 5)' },
    metric: { type: 'string', placeholder: 'NAME', description: 'logit-diff (default) or prob (of the answer)' },
    ablation: { type: 'string', placeholder: 'KIND', description: 'what ablated edges carry: corrupted (default) or mean' },
    'top-n': { type: 'integer', placeholder: 'N', description: 'keep the N edges of largest |score| (default 10% of the edges)' },
    threshold: { type: 'number', placeholder: 'X', description: 'keep the edges with |score| ≥ X (instead of --top-n)' },
    curve: { type: 'boolean', description: 'also measure faithfulness against the number of edges kept' },
    out: { type: 'string', placeholder: 'FILE', description: 'write the scored graph and circuit as JSON' },
    svg: { type: 'string', placeholder: 'FILE', description: 'write the circuit as an SVG figure' },
    json: { type: 'boolean', description: 'print the JSON graph instead of the summary' },
    ...MODEL_FLAGS,
  },
  details: 'Edge scores estimate the change of the metric when the edge alone is ablated (negative: the edge supports the clean answer).\n'
    + 'Faithfulness = (metric(circuit) − metric(all ablated)) / (metric(clean) − metric(all ablated)).\n'
    + 'Examples:\n  dissect circuit --dataset ioi --n 32 --method eap-ig --top-n 48 --svg ioi.svg\n'
    + '  dissect circuit --clean "When Mary and John went to the store, John gave a drink to" \\\n'
    + '    --corrupt "When Anna and Tom went to the store, Max gave a drink to" --answer " Mary" --wrong " John"\n'
    + `${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    const method = (flags.method ?? 'eap-ig') as AttributionMethod;
    if (!ATTRIBUTION_METHODS.includes(method)) throw new UsageError(`--method must be one of ${ATTRIBUTION_METHODS.join(', ')}; got '${flags.method}'`);
    const metric = flags.metric ?? 'logit-diff';
    if (metric !== 'logit-diff' && metric !== 'prob') throw new UsageError(`--metric must be logit-diff or prob; got '${metric}'`);
    const ablation = flags.ablation ?? 'corrupted';
    if (ablation !== 'corrupted' && ablation !== 'mean') throw new UsageError(`--ablation must be corrupted or mean; got '${ablation}'`);
    if (flags['top-n'] !== undefined && flags.threshold !== undefined) throw new UsageError('give --top-n or --threshold, not both');
    if (flags['top-n'] !== undefined && flags['top-n'] < 0) throw new UsageError(`--top-n must be ≥ 0, got ${flags['top-n']}`);
    if (flags.steps !== undefined && flags.steps < 1) throw new UsageError(`--steps must be ≥ 1, got ${flags.steps}`);
    const { model, tokenizer, location } = await openModel(name, flags, terminal, context);
    try {
      const examples = examplesFrom(flags, model, tokenizer, name);
      const run = { metric, ablation, signal: context.signal } as const;
      let progress = sweepProgress(terminal, `scoring edges (${method})`);
      const started = performance.now();
      const scores = await attributeEdges(model, examples, { ...run, method, steps: flags.steps, onProgress: progress.onProgress }).finally(() => progress.finish());
      const scoringSeconds = (performance.now() - started) / 1000;
      const total = scores.graph.edges.length;
      const selection = flags.threshold !== undefined ? { threshold: flags.threshold } : { topN: flags['top-n'] ?? Math.round(0.1 * total) };
      const circuit = selectCircuit(scores, selection);
      progress = sweepProgress(terminal, 'running the circuit');
      const evaluator = await CircuitEvaluator.create(model, examples, { ...run, onProgress: progress.onProgress }).finally(() => progress.finish());
      let evaluation;
      let curve;
      try {
        evaluation = { ...(await evaluator.evaluate(circuit)), empty: evaluator.empty };
        if (flags.curve) {
          progress = sweepProgress(terminal, 'faithfulness curve');
          curve = await faithfulnessCurve(evaluator, scores, undefined, progress.onProgress).finally(() => progress.finish());
        }
      } finally {
        evaluator.dispose();
      }
      const label = modelLabel(name, location);
      const json = circuitToJson(scores, circuit, { model: label, evaluation, curve });
      if (flags.out !== undefined) await writeText(flags.out, `${JSON.stringify(json)}\n`);
      if (flags.svg !== undefined) {
        const source = flags.dataset !== undefined ? `${examples.length} ${flags.dataset.toUpperCase()} pairs` : 'one prompt pair';
        await writeText(flags.svg, circuitSvg(scores, circuit, {
          title: `Circuit · ${label} · ${method.toUpperCase()}${method === 'eap' ? '' : ` (${scores.steps} steps)`}`,
          subtitle: `${circuit.edgeCount} of ${total} edges · faithfulness ${formatNumber(evaluation.faithfulness)} · ${metric} · ${source}`,
        }));
      }
      if (flags.json) {
        terminal.out(`${JSON.stringify(json)}\n`);
        return 0;
      }
      const attention = endAttention(model, examples);
      const heads = circuitHeads(circuit).map(({ layer, head }) => {
        const a = attention[layer * model.config.nHeads + head];
        return [`L${layer}H${head}`, formatNumber(a.toAnswer), formatNumber(a.toWrong)];
      });
      const top = rankEdges(scores.scores).slice(0, 15).map((e) => [scores.graph.edges[e].id, formatNumber(scores.scores[e]), circuit.edges[e] ? 'yes' : 'pruned']);
      const lines = [
        `${method.toUpperCase()} on ${examples.length} prompt pair(s) (edges scored in ${scoringSeconds.toFixed(2)} s), ${metric}: clean ${formatNumber(evaluator.clean)}, all edges ablated ${formatNumber(evaluator.empty)}`,
        `circuit: ${circuit.edgeCount} of ${total} edges (${formatNumber((100 * circuit.edgeCount) / total)}%), faithfulness ${formatNumber(evaluation.faithfulness)}`,
        '', 'strongest edges', formatTable(['edge', 'score', 'in circuit'], top),
        '', 'heads in the circuit: attention from the last position to the answer / the distractor',
        formatTable(['head', '→ answer', '→ distractor'], heads),
      ];
      if (curve) lines.push('', 'faithfulness by edges kept', formatTable(['top n', 'edges', 'faithfulness'], curve.map((p) => [String(p.topN), String(p.edgeCount), formatNumber(p.faithfulness)])));
      for (const [flag, path] of [['out', flags.out], ['svg', flags.svg]] as const) if (path !== undefined) lines.push(`wrote ${path}${flag === 'out' ? ' (JSON)' : ''}`);
      terminal.out(`${lines.join('\n')}\n`);
      return 0;
    } finally {
      model.dispose();
    }
  },
});
