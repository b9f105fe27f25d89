// The measurements of the facts report: recall of every fact in every paraphrase, causal traces of
// many facts, and the corpus ROME's key statistics are measured on — plain numbers out.

import {
  FACT_TEMPLATES, Rng, WORLD_4L, findSubjectRange, factPrompt, singleWordToken, tidy, world, worldFacts,
  type Fact, type HookedTransformer, type Tokenizer, type TracePrompt,
} from '../../index.js';

export const RELATIONS = ['capital', 'language', 'occupation'] as const satisfies readonly Fact['relation'][];

export interface TemplateRecall {
  relation: Fact['relation'];
  template: string;
  heldOut: boolean;
  /** Facts whose answer is the top-1 next token, of `count`. */
  hits: number;
  count: number;
}

/** Top-1 recall of every fact in every paraphrase (prompts batched by token length). */
export function recallByTemplate(model: HookedTransformer, tokenizer: Tokenizer): TemplateRecall[] {
  const facts = worldFacts();
  const jobs = RELATIONS.flatMap((relation) => {
    const t = FACT_TEMPLATES[relation];
    return [...t.train.map((template) => ({ template, heldOut: false })), ...t.heldOut.map((template) => ({ template, heldOut: true }))]
      .map((x) => ({ relation, ...x, facts: facts.filter((f) => f.relation === relation) }));
  });
  const prompts = jobs.flatMap((job, j) => job.facts.map((fact) => ({
    job: j, ids: tokenizer.encode(factPrompt(fact, job.template), { addSpecialTokens: false }), answer: singleWordToken(tokenizer, fact.answer),
  })));
  const hits = new Array<number>(jobs.length).fill(0);
  const byLength = new Map<number, number[]>();
  prompts.forEach((p, i) => byLength.set(p.ids.length, [...(byLength.get(p.ids.length) ?? []), i]));
  for (const indices of byLength.values()) {
    for (let start = 0; start < indices.length; start += 64) {
      const chunk = indices.slice(start, start + 64);
      const top = tidy(() => model.forward(chunk.map((i) => prompts[i].ids), { logitPositions: 'last' }).reshape(chunk.length, -1).argmax(1).toArray());
      chunk.forEach((i, b) => { if (top[b] === prompts[i].answer) hits[prompts[i].job]++; });
    }
  }
  return jobs.map((job, j) => ({ relation: job.relation, template: job.template, heldOut: job.heldOut, hits: hits[j], count: job.facts.length }));
}

export interface TracedFact extends TracePrompt {
  fact: Fact;
  prompt: string;
  answer: number;
}

/** The first `perRelation` facts of each relation, each in one training paraphrase (cycling through them). */
export function tracePrompts(tokenizer: Tokenizer, perRelation: number): TracedFact[] {
  const facts = worldFacts();
  return RELATIONS.flatMap((relation) => facts.filter((f) => f.relation === relation).slice(0, perRelation).map((fact, i) => {
    const templates = FACT_TEMPLATES[relation].train;
    const prompt = factPrompt(fact, templates[i % templates.length]);
    const tokens = tokenizer.encode(prompt);
    return { fact, prompt, tokens, subject: findSubjectRange(tokenizer, tokens, fact.subject), answer: singleWordToken(tokenizer, fact.answer) };
  }));
}

/**
 * world-4l's training mixture as documents in the model's own tokens: the recipe's rows split at
 * the end-of-text marker and re-encoded as text (the world's current vocabulary may differ from the
 * checkpoint's).
 */
export function worldDocuments(tokenizer: Tokenizer, count: number, seed: number): number[][] {
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
        if (start >= 0 && i > start + 1 && documents.length < count) {
          documents.push(tokenizer.encode(worldTokenizer.decode(row.slice(start + 1, i)), { addSpecialTokens: false }));
        }
        start = i;
      });
    }
  }
  return documents;
}

/** The greedy next token after `prompt`. */
export function topToken(model: HookedTransformer, tokenizer: Tokenizer, prompt: string): number {
  return tidy(() => model.forward([tokenizer.encode(prompt)], { logitPositions: 'last' }).reshape(-1).argmax().item());
}
