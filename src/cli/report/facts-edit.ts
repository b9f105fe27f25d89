// The ROME section of the facts report: rewrite one fictional capital at the layer causal tracing
// chose, and evaluate the model before and after (efficacy, paraphrases, neighbouring facts,
// fluency), each against a stated threshold. The edit is undone afterwards.

import {
  FACT_TEMPLATES, computeKeyStatistics, evaluateEdit, factPrompt, romeEdit, worldFacts, type EditEvaluation, type Fact,
} from '../../index.js';
import { tokenStrings } from '../analysis-args.js';
import { topToken, worldDocuments } from './facts-data.js';
import { fmt, num, pct, yesNo } from './format.js';
import { list, paragraph, table, type ReportSection } from './html.js';
import type { ReportSteps, ReportTarget } from './steps.js';

/** Thresholds of a successful edit: issue 8's done-when (efficacy ≥ 90% across the fact's paraphrases, ≥ 90% of neighbouring facts still correct). */
export const EDIT_THRESHOLDS = {
  /** Paraphrases whose greedy answer becomes the new object. */
  generalisation: 0.9,
  /** Neighbouring facts the model knew that keep their answer. */
  specificity: 0.9,
  /** Fluency: the n-gram entropy of sampled text keeps this share of its value... */
  entropyKept: 0.95,
  /** ... and the corpus perplexity grows by at most this factor. */
  perplexityGrowth: 1.05,
};

const EDIT_TEMPLATE = FACT_TEMPLATES.capital.train[0];

interface Choice {
  subject: Fact;
  target: string;
}

/** The first capital the model gets right in the edit prompt, moved to another country's capital the model does not already give. */
function chooseEdit(target: ReportTarget): Choice {
  const { model, tokenizer } = target;
  const capitals = worldFacts().filter((f) => f.relation === 'capital');
  const knows = (f: Fact) => tokenStrings([topToken(model, tokenizer, factPrompt(f, EDIT_TEMPLATE))], tokenizer)[0] === ` ${f.answer}`;
  const subject = capitals.find(knows) ?? capitals[0];
  const next = capitals.slice(capitals.indexOf(subject) + 1).concat(capitals).find((f) => f.answer !== subject.answer) as Fact;
  return { subject, target: ` ${next.answer}` };
}

export async function editSection(target: ReportTarget, layer: number, settings: { documents: number; romeSteps: number; seed: number },
  steps: ReportSteps): Promise<{ section: ReportSection; data: unknown }> {
  const { model, tokenizer } = target;
  const { subject, target: newObject } = chooseEdit(target);
  const facts = worldFacts();
  const prompt = factPrompt(subject, EDIT_TEMPLATE);
  const corpus = worldDocuments(tokenizer, settings.documents, settings.seed);
  const otherCapitals = facts.filter((f) => f.relation === 'capital' && f.subject !== subject.subject && ` ${f.answer}` !== newObject);
  const sameSubject = facts.filter((f) => f.subject === subject.subject && f.relation !== 'capital');
  const neighbourFacts = [
    ...otherCapitals.map((f) => ({ fact: f, template: EDIT_TEMPLATE, kind: 'other country' })),
    ...sameSubject.flatMap((f) => FACT_TEMPLATES[f.relation].train.slice(0, 3).map((template) => ({ fact: f, template, kind: 'same country' }))),
  ];
  const spec = {
    prompt, target: newObject, original: ` ${subject.answer}`,
    paraphrases: [...FACT_TEMPLATES.capital.train, ...FACT_TEMPLATES.capital.heldOut].filter((t) => t !== EDIT_TEMPLATE).map((t) => factPrompt(subject, t)),
    neighbours: neighbourFacts.map((n) => ({ prompt: factPrompt(n.fact, n.template), answer: ` ${n.fact.answer}` })),
    generationPrompts: [prompt, `One day, Tom went on a trip to ${subject.subject}.`, 'Then, Mary and John went to the park.'],
    corpus: corpus.slice(0, 100), seed: settings.seed,
  };

  const statsStep = await steps.run(`key statistics of layer ${layer}'s MLP over ${corpus.length} world documents`, (control) => computeKeyStatistics(model, layer, corpus, control));
  const editStep = await steps.run(`ROME edit "${prompt}" → "${newObject.trim()}", evaluated before and after`, async (control) => {
    const before = await evaluateEdit(model, tokenizer, spec);
    const edit = await romeEdit(model, tokenizer, { prompt: EDIT_TEMPLATE.replace('{X}', '{}'), subject: subject.subject, target: newObject }, {
      layer, statistics: statsStep.value, steps: settings.romeSteps, context: { seed: settings.seed }, signal: control.signal,
      onStep: (s) => control.onProgress(s.step + 1, settings.romeSteps),
    });
    try {
      const after = await evaluateEdit(model, tokenizer, spec);
      return { before, after, weight: edit.weightName, steps: edit.valueSteps.length, contexts: edit.prefixes.length, finalProbability: edit.valueSteps.at(-1)?.targetProbability ?? Number.NaN };
    } finally {
      edit.undo();
    }
  });
  const { before, after } = editStep.value;
  const known = before.neighbours.map((n, i) => (n.kept ? i : -1)).filter((i) => i >= 0);
  const keptShare = (e: EditEvaluation, kind: string) => {
    const idx = known.filter((i) => neighbourFacts[i].kind === kind);
    return { kept: idx.filter((i) => e.neighbours[i].kept).length, of: idx.length };
  };
  // Specificity as ROME's neighbourhood score: facts about OTHER subjects. The edited subject's other
  // facts are reported beside it but not held to the threshold: the update rewrites the value the
  // subject's key retrieves, and in world-4l all of a country's facts are read from that one key.
  const neighbourIdx = known.filter((i) => neighbourFacts[i].kind === 'other country');
  const specificity = neighbourIdx.length ? neighbourIdx.filter((i) => after.neighbours[i].kept).length / neighbourIdx.length : Number.NaN;
  const entropyRatio = (after.fluency?.ngramEntropy ?? Number.NaN) / (before.fluency?.ngramEntropy ?? Number.NaN);
  const perplexityRatio = (after.perplexity ?? Number.NaN) / (before.perplexity ?? Number.NaN);
  const checks = [
    { name: 'efficacy', criterion: 'the new object is the top-1 answer to the edited prompt', value: after.efficacy.top1 ? 1 : 0, shown: yesNo(after.efficacy.top1), met: after.efficacy.top1, before: yesNo(before.efficacy.top1) },
    { name: 'generalisation', criterion: `≥ ${pct(EDIT_THRESHOLDS.generalisation)} of ${spec.paraphrases.length} paraphrases answer the new object`, value: after.generalisation, shown: pct(after.generalisation), met: after.generalisation >= EDIT_THRESHOLDS.generalisation, before: pct(before.generalisation) },
    { name: 'specificity', criterion: `≥ ${pct(EDIT_THRESHOLDS.specificity)} of the ${neighbourIdx.length} neighbouring facts (other countries) the model knew keep their answer`, value: specificity, shown: pct(specificity), met: specificity >= EDIT_THRESHOLDS.specificity, before: '100%' },
    { name: 'fluency (entropy)', criterion: `n-gram entropy of sampled text keeps ≥ ${pct(EDIT_THRESHOLDS.entropyKept)} of its value`, value: after.fluency?.ngramEntropy ?? Number.NaN, shown: fmt(after.fluency?.ngramEntropy ?? Number.NaN), met: entropyRatio >= EDIT_THRESHOLDS.entropyKept, before: fmt(before.fluency?.ngramEntropy ?? Number.NaN) },
    { name: 'fluency (perplexity)', criterion: `corpus perplexity grows by at most ${pct(EDIT_THRESHOLDS.perplexityGrowth - 1)}`, value: after.perplexity ?? Number.NaN, shown: fmt(after.perplexity ?? Number.NaN), met: perplexityRatio <= EDIT_THRESHOLDS.perplexityGrowth, before: fmt(before.perplexity ?? Number.NaN) },
  ];
  const otherKept = keptShare(after, 'other country');
  const sameKept = keptShare(after, 'same country');
  const section: ReportSection = {
    id: 'rome',
    title: `Rewriting a fact with ROME: "${prompt}" → "${newObject.trim()}"`,
    claim: 'A rank-one update of the MLP that causal tracing points at rewrites one fact: the model gives the new object in the edited prompt and in its paraphrases, keeps the facts of other subjects, and stays fluent.',
    method: `ROME (Meng et al. 2022) on layer ${layer}'s MLP down projection (${editStep.value.weight}). The key k* is the MLP's input at the subject's last token, averaged over ${editStep.value.contexts} contexts the model generates; the value v* is optimised (${editStep.value.steps} steps) so that the prompts give "${newObject.trim()}" while "${subject.subject} is a" keeps its prediction; the update W + Λ(C⁻¹k*)ᵀ uses the second moment C of the MLP's inputs over ${corpus.length} documents of the world. The model is evaluated before and after (greedy answers), then the edit is undone.`,
    blocks: [
      table({
        caption: 'Each criterion of a successful edit, before and after.',
        header: ['criterion', 'threshold', 'before', 'after', 'met'],
        rows: checks.map((c) => [c.name, c.criterion, c.before, num(c.value, c.shown), c.met ? 'met' : 'not met']),
      }),
      table({
        caption: `P(new object) and P(original object "${subject.answer}") in the edited prompt and each paraphrase; ✓ = the greedy answer is the new object.`,
        header: ['prompt', 'P(new) before', 'P(new) after', `P("${subject.answer}") after`, 'new object top-1'],
        rows: [after.efficacy, ...after.paraphrases].map((p, i) => {
          const b = i === 0 ? before.efficacy : before.paraphrases[i - 1];
          return [p.prompt, num(b.pTarget), num(p.pTarget), num(p.pOriginal ?? Number.NaN), p.top1 ? '✓' : '✗'];
        }),
      }),
      table({
        caption: 'Neighbouring facts the model knew before the edit: other countries\' capitals, and other facts about the same country.',
        header: ['prompt', 'answer', 'P(answer) before', 'P(answer) after', `P("${newObject.trim()}") after`, 'kept'],
        rows: known.map((i) => [after.neighbours[i].prompt, after.neighbours[i].answer.trim(), num(before.neighbours[i].pAnswer), num(after.neighbours[i].pAnswer), num(after.neighbours[i].pTarget), after.neighbours[i].kept ? '✓' : '✗']),
      }),
      paragraph('Text sampled after the edit (top-5 sampling), for the fluency measure:'),
      list((after.fluency?.texts ?? []).map((t) => `“${t}”`)),
    ],
    verdict: {
      status: checks.every((c) => c.met) ? 'met' : checks.some((c) => c.met) ? 'partly' : 'not met',
      text: `${checks.filter((c) => c.met).length} of ${checks.length} criteria met${checks.every((c) => c.met) ? '' : ` (missed: ${checks.filter((c) => !c.met).map((c) => c.name).join(', ')})`}. `
        + `P("${newObject.trim()}") in the edited prompt ${fmt(before.efficacy.pTarget)} → ${fmt(after.efficacy.pTarget)}; other countries keep their capitals ${otherKept.kept}/${otherKept.of}; ${subject.subject}'s other facts kept ${sameKept.kept}/${sameKept.of}.`,
    },
    seconds: statsStep.seconds + editStep.seconds,
  };
  return {
    section,
    data: {
      layer, subject, newObject, prompt, weight: editStep.value.weight, statisticsTokens: statsStep.value.count, documents: corpus.length,
      valueSteps: editStep.value.steps, finalProbability: editStep.value.finalProbability,
      checks: checks.map(({ name, value, met }) => ({ name, value, met })), before, after, thresholds: EDIT_THRESHOLDS, knownNeighbours: known.length,
    },
  };
}
