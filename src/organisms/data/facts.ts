// Facts about a fictional world — countries with capitals and languages, people with occupations —
// each stated in several paraphrases. Some paraphrases are held out of training: recalling a fact
// from one of those shows it was stored as a fact about the subject, not memorised as a sentence.

import type { Rng } from '../../tensor/index.js';
import { fill, pick, templatePieces, type TextGenerator } from './generator.js';
import { ALL_NAMES, CAPITALS, COUNTRIES, LANGUAGES, OCCUPATIONS, SURNAMES } from './words.js';

export interface Fact {
  relation: 'capital' | 'language' | 'occupation';
  /** The subject as written ("Veloria", "Ada Brenner"). */
  subject: string;
  /** The answer, one word without a leading space. */
  answer: string;
}

/** The world's facts; fixed (not seeded), so the shipped model and the tests agree on them. */
export function worldFacts(): Fact[] {
  const facts: Fact[] = [];
  COUNTRIES.forEach((country, i) => {
    facts.push({ relation: 'capital', subject: country, answer: CAPITALS[i] });
    facts.push({ relation: 'language', subject: country, answer: LANGUAGES[(i * 5) % LANGUAGES.length] });
  });
  SURNAMES.forEach((surname, i) => {
    const first = ALL_NAMES[(i * 7 + 5) % ALL_NAMES.length];
    facts.push({ relation: 'occupation', subject: `${first} ${surname}`, answer: OCCUPATIONS[(i * 11) % OCCUPATIONS.length] });
  });
  return facts;
}

/** Paraphrases ending right before the answer ({X} is the subject); training ones then held-out ones. */
export const FACT_TEMPLATES: Readonly<Record<Fact['relation'], { train: string[]; heldOut: string[] }>> = {
  capital: {
    train: [
      'The capital of {X} is',
      'The capital city of {X} is',
      '{X} has its capital in',
      'Travelers to {X} often visit its capital,',
      'The government of {X} sits in its capital,',
    ],
    heldOut: ['In {X}, the capital is', 'The seat of power in {X} is its capital,'],
  },
  language: {
    train: [
      'The people of {X} speak',
      'The language of {X} is',
      'In {X}, most people speak',
      'Children in {X} learn to read and write in',
    ],
    heldOut: ['The official language of {X} is', 'If you travel to {X}, you will hear people speak'],
  },
  occupation: {
    train: [
      '{X} works as a',
      'By trade, {X} is a',
      '{X} earns a living as a',
      'Everyone in town knows {X}, the',
    ],
    heldOut: ['{X} has a job as a', 'The profession of {X} is that of a'],
  },
};

export function factPrompt(fact: Fact, template: string): string {
  return fill(template, { X: fact.subject });
}

/** Training statements of the facts (training paraphrases only). */
export function factGenerator(facts: readonly Fact[] = worldFacts()): TextGenerator {
  return {
    name: 'facts',
    sample(rng: Rng) {
      const fact = pick(rng, facts);
      return `${factPrompt(fact, pick(rng, FACT_TEMPLATES[fact.relation].train))} ${fact.answer}.`;
    },
    pieces() {
      const templates = Object.values(FACT_TEMPLATES).flatMap((t) => [...t.train, ...t.heldOut]).map((t) => `${t} {Y}.`);
      return templatePieces(templates, [...facts.map((f) => f.subject), ...facts.map((f) => f.answer)]);
    },
  };
}

/** Every (fact, held-out paraphrase) pair: the recall evaluation set. */
export function heldOutFactPrompts(facts: readonly Fact[] = worldFacts()): { prompt: string; answer: string; fact: Fact }[] {
  return facts.flatMap((fact) => FACT_TEMPLATES[fact.relation].heldOut.map((t) => ({ prompt: factPrompt(fact, t), answer: fact.answer, fact })));
}
