// `dissect report facts`: where the model keeps its facts and whether one can be rewritten —
// recall in held-out paraphrases, causal tracing averaged over many facts (Meng et al. 2022,
// Figure 2), and one ROME edit with its evaluation.

import {
  TRACE_KINDS, arrangeFigures, causalTraceMany, heatmapFigure, sequentialScale, strongestEffect, traceSummary, traceSummaryFigure,
  traceTokenLabels, visibleToken, type CausalTraceResult, type TraceKind, type TraceSummary,
} from '../../index.js';
import { tokenStrings } from '../analysis-args.js';
import { editSection } from './facts-edit.js';
import { RELATIONS, recallByTemplate, tracePrompts } from './facts-data.js';
import { fmt, num, pct } from './format.js';
import { figure, paragraph, table, type ReportDocument, type ReportSection } from './html.js';
import { lineChartFigure } from './line-chart.js';
import type { ReportSteps, ReportTarget } from './steps.js';

export interface FactsSettings {
  /** Facts traced per relation. */
  perRelation: number;
  /** Noise samples per traced prompt. */
  samples: number;
  /** World documents for the key statistics of the edited MLP. */
  documents: number;
  /** Optimisation steps of the ROME value. */
  romeSteps: number;
  seed: number;
}

export const FACTS_STEPS = 4;

/** world-4l's recall target (its card): top-1 on held-out paraphrases. */
export const RECALL_TARGET = 0.9;

const KIND_NAMES: Record<TraceKind, string> = { resid: 'residual stream', mlp: 'MLP output', attn: 'attention output' };

/** One trace as three panels (tokens × layers), titled short enough to sit side by side. */
function exampleFigure(trace: CausalTraceResult, strings: readonly string[], answer: string, title: string) {
  const rows = traceTokenLabels(strings, trace.subject);
  const panels = TRACE_KINDS.map((kind) => {
    const grid = trace.grids[kind]?.scores ?? [];
    const values = trace.tokens.map((_, p) => grid.map((row) => row[p])); // [pos][layer]
    return heatmapFigure({
      title: `restoring ${kind === 'resid' ? 'state' : kind === 'mlp' ? 'MLP' : 'attention'}`, values, rowLabels: rows,
      columnLabels: grid.map((_, l) => String(l)), rowAxisLabel: 'token', columnAxisLabel: 'layer',
      scale: sequentialScale(values, { min: Math.min(trace.lowScore, ...values.flat()), max: Math.max(trace.highScore, ...values.flat()) }),
      legendLabel: `P(${visibleToken(answer)})`,
    });
  });
  return arrangeFigures(panels, { direction: 'row', title, subtitle: `clean run ${fmt(trace.highScore)}, subject corrupted ${fmt(trace.lowScore)} (mean of ${trace.samples} noise samples)` });
}

function groupRow(summary: TraceSummary, group: string): number[] {
  return summary.effects[summary.groups.indexOf(group as TraceSummary['groups'][number])];
}

export async function factsReport(target: ReportTarget, settings: FactsSettings, steps: ReportSteps): Promise<ReportDocument> {
  const { model, tokenizer } = target;
  const sections: ReportSection[] = [];

  // 1. Recall.
  const recallStep = await steps.run('recall of every fact in every paraphrase', () => recallByTemplate(model, tokenizer));
  const recall = recallStep.value;
  const share = (rows: typeof recall) => rows.reduce((s, r) => s + r.hits, 0) / Math.max(1, rows.reduce((s, r) => s + r.count, 0));
  const heldOut = share(recall.filter((r) => r.heldOut));
  const trained = share(recall.filter((r) => !r.heldOut));
  sections.push({
    id: 'recall',
    title: 'The model recalls its facts in paraphrases it never saw',
    claim: `Facts are stored about their subject, not memorised as sentences: top-1 recall on held-out paraphrases of at least ${pct(RECALL_TARGET)}.`,
    method: `Every fact of the synthetic world (${RELATIONS.map((r) => `${recall.find((x) => x.relation === r)?.count ?? 0} ${r}s`).join(', ')}) in every paraphrase, training and held-out; a hit is the answer as the top-1 next token.`,
    blocks: [
      table({
        caption: 'Top-1 recall by relation and paraphrase (held-out paraphrases marked).',
        header: ['paraphrase', 'relation', 'held out', 'recalled', 'of', 'top-1'],
        rows: recall.map((r) => [r.template, r.relation, r.heldOut ? 'held out' : '', String(r.hits), String(r.count), num(r.hits / r.count, pct(r.hits / r.count))]),
      }),
      table({
        caption: 'Totals.',
        header: ['paraphrases', 'top-1 recall'],
        rows: [['training', num(trained, pct(trained))], ['held out', num(heldOut, pct(heldOut), true)]],
      }),
    ],
    verdict: {
      status: heldOut >= RECALL_TARGET ? 'met' : 'not met',
      text: `Held-out paraphrases: ${pct(heldOut)} top-1 (target ${pct(RECALL_TARGET)}); training paraphrases: ${pct(trained)}. The weakest held-out paraphrase is "${[...recall].filter((r) => r.heldOut).sort((a, b) => a.hits / a.count - b.hits / b.count)[0]?.template}".`,
    },
    seconds: recallStep.seconds,
  });

  // 2. Causal tracing.
  const prompts = tracePrompts(tokenizer, settings.perRelation);
  const traceStep = await steps.run(`causal tracing of ${prompts.length} facts`, (control) => causalTraceMany(model, prompts, {
    kinds: TRACE_KINDS, window: 1, samples: settings.samples, seed: settings.seed + 1, ...control,
  }));
  const traces = traceStep.value;
  const summaries = TRACE_KINDS.map((k) => traceSummary(traces, k));
  const [resid, mlp, attn] = summaries;
  const layers = mlp.effects[0].length;
  const bestMlp = strongestEffect(mlp);
  const bestAttn = strongestEffect(attn);
  const lastSubjectMlp = groupRow(mlp, 'last subject token');
  // With no correctly answered prompt the effects are NaN; edit layer 0 then (the verdicts say why).
  const editLayer = Math.max(0, lastSubjectMlp.indexOf(Math.max(...lastSubjectMlp)));
  const exampleIndex = Math.max(0, traces.findIndex((t, i) => t.correct && prompts[i].subject[1] - prompts[i].subject[0] > 1));
  const example = traces[exampleIndex];
  const perLayer = (group: string) => lineChartFigure({
    title: `at the ${group}`, series: summaries.map((s) => ({ name: KIND_NAMES[s.kind], points: groupRow(s, group).map((v, l) => [l, v] as const) })),
    xLabel: 'restored layer', yLabel: 'mean indirect effect on P(answer)', integerX: true, plotWidth: 340, plotHeight: 220,
  });
  const mlpAtSubject = bestMlp !== null && bestMlp.group === 'last subject token';
  const mlpNearSubject = Math.max(...lastSubjectMlp) >= 0.5 * (bestMlp?.effect ?? Infinity);
  sections.push({
    id: 'tracing',
    title: 'Causal tracing: where the facts are recalled',
    claim: 'As in GPT models (Meng et al. 2022): MLPs at the subject\'s last token carry the fact (a strong MLP indirect effect there), and attention moves it to the last token in later layers.',
    method: `${prompts.length} facts (${settings.perRelation} per relation, each in one training paraphrase). The subject's token embeddings get Gaussian noise (3 × their standard deviation, ${settings.samples} samples); then one hidden state at a time — the residual stream after a layer, one layer's MLP output or attention output (a window of 1 layer: the model has only ${layers}) at one position — is restored from the clean run. Indirect effect = P(answer) restored − P(answer) corrupted, averaged over the ${mlp.prompts} prompts the model answers correctly, by position group as in ROME.`,
    blocks: [
      figure(traceSummaryFigure(summaries, { title: `Causal tracing averaged over ${mlp.prompts} facts · ${target.label}`, subtitle: `clean P(answer) ${fmt(mlp.highScore)}, subject corrupted ${fmt(mlp.lowScore)}` }),
        'average causal traces', 'Mean indirect effect of restoring each kind of state, by token group (rows; the count of positions in brackets) and layer (columns). Red = restoring that state brings the answer back. The "middle subject tokens" row is empty when every subject has at most two tokens.'),
      figure(arrangeFigures([perLayer('last subject token'), perLayer('last token')], { direction: 'row', title: 'Indirect effect by layer' }),
        'indirect effect by layer', 'The rows of the figure above for the last subject token and the last token, one line per kind of state. ROME edits the MLP layer where the MLP line peaks at the last subject token.'),
      table({
        caption: 'Mean indirect effects by layer (from the averaged traces).',
        header: ['state', 'position', ...Array.from({ length: layers }, (_, l) => `layer ${l}`)],
        rows: summaries.flatMap((s) => ['first subject token', 'last subject token', 'last token'].map((g) => [KIND_NAMES[s.kind], g, ...groupRow(s, g).map((v) => num(v))])),
      }),
      figure(exampleFigure(example, tokenStrings(example.tokens, tokenizer), tokenStrings([example.answer], tokenizer)[0], `One fact: "${prompts[exampleIndex].prompt}" → ${prompts[exampleIndex].fact.answer}`), 'one causal trace', 'The same measurement for one prompt: P(answer) with each state restored (rows: tokens, subject tokens marked *; columns: layers). The corrupted run is the floor of the colour scale, the clean run its ceiling.'),
      paragraph(`Total effect (clean − corrupted P(answer), mean): ${fmt(mlp.totalEffect)}. The strongest MLP effect: ${bestMlp ? `${bestMlp.group}, layer ${bestMlp.layer} (${fmt(bestMlp.effect)})` : 'none'}; the strongest attention effect: ${bestAttn ? `${bestAttn.group}, layer ${bestAttn.layer} (${fmt(bestAttn.effect)})` : 'none'}; the residual stream at the last subject token carries ${fmt(Math.max(...groupRow(resid, 'last subject token')))} at most.`),
    ],
    verdict: {
      status: mlpAtSubject && bestAttn?.group === 'last token' ? 'met' : mlpNearSubject ? 'partly' : 'not met',
      text: `The MLP effect at the last subject token peaks at layer ${editLayer} (${fmt(lastSubjectMlp[editLayer])}); the strongest MLP effect overall is at the ${bestMlp?.group} (layer ${bestMlp?.layer}, ${fmt(bestMlp?.effect ?? Number.NaN)})`
        + `${mlpAtSubject ? '' : ', not at the last subject token'}. Attention matters most at the ${bestAttn?.group}, layer ${bestAttn?.layer}. `
        + `With ${layers} layers there is no "middle": the fact is read ${editLayer === 0 ? 'by the first MLP, right at the embedding' : `by the MLP of layer ${editLayer}`}.`,
    },
    seconds: traceStep.seconds,
  });

  // 3. ROME.
  const edit = await editSection(target, editLayer, settings, steps);
  sections.push(edit.section);

  return {
    title: `Facts in ${target.label}: where they live and how to change one`,
    lede: 'The synthetic world has fictional countries with capitals and languages, and people with occupations, each fact stated in many paraphrases. This report checks that the model recalls them in paraphrases it never saw, traces where the recall happens by corrupting the subject and restoring one state at a time (causal tracing), and rewrites one fact with ROME — a rank-one change of the MLP that causal tracing points at — then checks the edit generalises, stays specific and leaves the model fluent.',
    meta: [['settings', `${settings.perRelation} traced facts per relation, ${settings.samples} noise samples; ROME: ${settings.documents} documents of key statistics, ${settings.romeSteps} value steps; seed ${settings.seed}`]],
    sections,
    data: {
      kind: 'facts', settings,
      recall: { byTemplate: recall, heldOut, trained, target: RECALL_TARGET },
      tracing: {
        prompts: prompts.map((p) => ({ prompt: p.prompt, tokens: p.tokens, subject: p.subject, answer: p.answer })),
        summaries, bestMlp, bestAttn, editLayer,
        traces: traces.map((t) => ({ highScore: t.highScore, lowScore: t.lowScore, correct: t.correct })),
      },
      edit: edit.data,
    },
  };
}
