// Causal tracing on world-4l (Meng et al. 2022, src/editing): with the subject's embeddings
// corrupted by noise, restoring one layer's MLP output at one position brings the answer back most
// at the last subject token, in the layers the model card names as holding the facts.

import { causalTraceMany, findSubjectRange, traceSummary, type TracePrompt } from '../editing/index.js';
import type { Tokenizer } from '../io/tokenizer.js';
import type { HookedTransformer } from '../models/transformer.js';
import { ArgumentError } from '../util/errors.js';
import { FACT_TEMPLATES, factPrompt, worldFacts, type Fact } from './data/facts.js';
import { wordToken } from './evaluate.js';
import { fmt, type ValidationCheck } from './validate-check.js';

export interface TracingCheckOptions {
  /** The MLP layers whose output at the last subject token should carry the facts (the card states them). */
  factLayers: readonly number[];
  /** Subjects traced per relation (default 8), with the relation's first training paraphrase. */
  subjectsPerRelation?: number;
  organism?: string;
}

/** Fact prompts of the first training paraphrase of each relation, as causal tracing takes them. */
export function tracePrompts(tokenizer: Tokenizer, subjectsPerRelation: number): TracePrompt[] {
  const relations = Object.keys(FACT_TEMPLATES) as Fact['relation'][];
  return relations.flatMap((relation) => worldFacts().filter((f) => f.relation === relation).slice(0, subjectsPerRelation).map((fact) => {
    const tokens = tokenizer.encode(factPrompt(fact, FACT_TEMPLATES[relation].train[0]), { addSpecialTokens: false });
    return { tokens, subject: findSubjectRange(tokenizer, tokens, fact.subject), answer: wordToken(tokenizer, fact.answer) };
  }));
}

/**
 * Traces MLP outputs (window 1: one layer at a time, the model is 4 layers deep) on fact prompts
 * the model answers correctly, averaged by token role as ROME's Figure 2. Passes when the largest
 * mean effect of any role and layer is at the last subject token (ties with the first subject token
 * count: for one-token subjects they are the same position), in one of `factLayers`.
 */
export async function causalTracingCheck(model: HookedTransformer, tokenizer: Tokenizer, options: TracingCheckOptions): Promise<ValidationCheck> {
  const { factLayers, subjectsPerRelation = 8, organism = 'world-4l' } = options;
  if (factLayers.length === 0) throw new ArgumentError('causalTracingCheck needs the layers expected to hold the facts');
  const traces = await causalTraceMany(model, tracePrompts(tokenizer, subjectsPerRelation), { kinds: ['mlp'], window: 1 });
  const summary = traceSummary(traces, 'mlp');
  const row = (group: string) => summary.effects[summary.groups.indexOf(group as (typeof summary.groups)[number])];
  const lastSubject = row('last subject token');
  const peakLayer = lastSubject.indexOf(Math.max(...lastSubject));
  const peak = lastSubject[peakLayer];
  const elsewhere = summary.groups.filter((g) => g !== 'last subject token' && g !== 'first subject token')
    .map((g) => ({ group: g, best: Math.max(...row(g).filter((v) => !Number.isNaN(v))) }))
    .filter((g) => Number.isFinite(g.best));
  const strongestElsewhere = elsewhere.reduce((a, b) => (b.best > a.best ? b : a), { group: 'none' as string, best: -Infinity });
  const numbers: Record<string, number> = {
    prompts_traced: traces.length, prompts_correct: summary.prompts, high_score: summary.highScore, low_score: summary.lowScore,
    peak_layer: peakLayer, peak_effect: peak, strongest_elsewhere: strongestElsewhere.best,
  };
  lastSubject.forEach((v, l) => { numbers[`mlp${l}_at_last_subject_token`] = v; });
  const pass = summary.prompts > 0 && summary.totalEffect > 0 && peak >= strongestElsewhere.best && factLayers.includes(peakLayer);
  return {
    organism,
    method: 'causal tracing',
    status: pass ? 'pass' : 'fail',
    summary: `MLP restoration (window 1) on ${summary.prompts} of ${traces.length} fact prompts answered correctly, P(answer) clean ${fmt(summary.highScore)} / `
      + `subject noised ${fmt(summary.lowScore)}; effect at the last subject token by layer ${lastSubject.map(fmt).join(' ')}, peak MLP${peakLayer}; `
      + `strongest elsewhere ${fmt(strongestElsewhere.best)} (${strongestElsewhere.group}); expected the peak at the last subject token in MLP ${factLayers.join('/')}`,
    numbers,
  };
}
