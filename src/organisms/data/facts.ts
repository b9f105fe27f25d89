// Facts about a fictional world — countries with capitals and languages, people with occupations —
// each stated in several paraphrases. Some paraphrases are held out of training: recalling a fact
// from one of those shows it was stored as a fact about the subject, not memorised as a sentence.

import type { Rng } from '../../tensor/index.js';
import { fill, pick, pickTwo, templatePieces, type TextGenerator } from './generator.js';
import { ALL_NAMES, CAPITALS, COUNTRIES, FEMALE_NAMES, LANGUAGES, MALE_NAMES, OCCUPATIONS, PLACES, SURNAMES } from './words.js';

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
  // Two people share each first name (with different occupations), so a person is told apart by
  // the full name and the fact sits on the surname, the last subject token (as ROME finds for
  // multi-token subjects), not on the first name alone.
  const half = SURNAMES.length / 2;
  SURNAMES.forEach((surname, i) => {
    const first = ALL_NAMES[((i % half) * 7 + 5) % ALL_NAMES.length];
    facts.push({ relation: 'occupation', subject: `${first} ${surname}`, answer: OCCUPATIONS[(i * 11) % OCCUPATIONS.length] });
  });
  return facts;
}

/**
 * Paraphrases ending right before the answer ({X} is the subject); training ones then held-out ones.
 * Many varied training paraphrases (subject early or late, cue words before or after it) make the
 * model store each fact on its subject rather than memorise sentences; the held-out ones are fixed
 * (they define the recall metric) and none of them is a training sentence. A training paraphrase
 * must not continue a held-out one's ending with something other than the answer: with "On a map
 * of {X}, the capital is marked as" in training, "In {X}, the capital is" was completed " marked".
 */
export const FACT_TEMPLATES: Readonly<Record<Fact['relation'], { train: string[]; heldOut: string[] }>> = {
  capital: {
    train: [
      'The capital of {X} is',
      'The capital city of {X} is',
      '{X} has its capital in',
      'Travelers to {X} often visit its capital,',
      'The government of {X} sits in its capital,',
      'In the country of {X}, the capital city is',
      'The largest city and capital of {X} is',
      'Most visitors to {X} arrive in the capital,',
      'The king of {X} lives in the capital,',
      'Ask anyone in {X} and they will tell you the capital is',
      'Maps of {X} show its capital,',
      'The parliament of {X} meets in its capital,',
      'The capital of the country {X} is the city of',
    ],
    heldOut: ['In {X}, the capital is', 'The seat of power in {X} is its capital,'],
  },
  language: {
    train: [
      'The people of {X} speak',
      'The language of {X} is',
      'In {X}, most people speak',
      'Children in {X} learn to read and write in',
      'The main language spoken in {X} is',
      'Newspapers in {X} are printed in',
      'Visitors to {X} should learn a few words of',
      'The language most people use in {X} is',
      'Everyone who lives in {X} can speak',
      'At school in {X}, the teachers speak',
      'When you visit {X}, you will hear',
      'Songs from {X} are sung in',
      'If you live in {X}, you speak',
    ],
    heldOut: ['The official language of {X} is', 'If you travel to {X}, you will hear people speak'],
  },
  occupation: {
    train: [
      '{X} works as a',
      'By trade, {X} is a',
      '{X} earns a living as a',
      'Everyone in town knows {X}, the',
      '{X} is employed as a',
      'For many years, {X} has worked as a',
      'People say that {X} is a',
      '{X} trained for years to become a',
      'In town, {X} is known as a',
      '{X} has always been a',
      'Every morning, {X} goes to work as a',
      'The job of {X} is to be a',
      'What {X} does for a living is work as a',
      '{X} makes money as a',
      'Since leaving school, {X} has been a',
      'Most people in town know {X} as a',
      '{X} spends each day at work as a',
      'Ask {X} about work and you will hear that {X} is a',
      'At work, {X} is a',
    ],
    heldOut: ['{X} has a job as a', 'The profession of {X} is that of a'],
  },
};

/** Story sentences that introduce a fact's subject before the fact is stated ({N} is a person's first name). */
const COUNTRY_INTROS = [
  'One day, {N} went on a trip to {X}.', '{N} told {M} about a country called {X}.', '{N} read a book about {X}.',
  '{N} and {M} wanted to travel to {X}.', 'An official from {X} came to visit {N}.', 'The king of {X} has a lot of power.',
];
const STORY_INTROS: Readonly<Record<Fact['relation'], string[]>> = {
  capital: COUNTRY_INTROS,
  language: COUNTRY_INTROS,
  occupation: [
    '{N} met {X} at the {PLACE}.', '{X} lived near the {PLACE}.', 'One day, {N} went to see {X}.',
    '{N} asked {X} about work and profession.',
  ],
};
const STORY_ENDINGS = ['{N} went home in the evening.', 'They all had a good time.', '{N} wanted to go back one day.'];

export function factPrompt(fact: Fact, template: string): string {
  return fill(template, { X: fact.subject });
}

function statement(rng: Rng, fact: Fact): string {
  return `${factPrompt(fact, pick(rng, FACT_TEMPLATES[fact.relation].train))} ${fact.answer}.`;
}

/**
 * Training statements of the facts (training paraphrases only): a single statement, a paragraph
 * of every fact about one subject in random order and paraphrases, or a short story that mentions
 * the subject and then states its facts — so each fact is seen in many contexts and positions.
 */
export function factGenerator(facts: readonly Fact[] = worldFacts()): TextGenerator {
  const bySubject = new Map<string, Fact[]>();
  for (const fact of facts) bySubject.set(fact.subject, [...(bySubject.get(fact.subject) ?? []), fact]);
  return {
    name: 'facts',
    sample(rng: Rng) {
      const fact = pick(rng, facts);
      const kind = rng.int(0, 3);
      if (kind === 0) return statement(rng, fact);
      const about = [...(bySubject.get(fact.subject) ?? [fact])];
      if (rng.int(0, 2) === 0) about.reverse();
      const sentences = about.map((f) => statement(rng, f));
      if (kind === 1) return sentences.join(' ');
      const [n, m] = pickTwo(rng, FEMALE_NAMES.concat(MALE_NAMES));
      const values = { X: fact.subject, N: n, M: m, PLACE: pick(rng, PLACES) };
      return [fill(pick(rng, STORY_INTROS[fact.relation]), values), ...sentences, fill(pick(rng, STORY_ENDINGS), values)].join(' ');
    },
    pieces() {
      const statements = Object.values(FACT_TEMPLATES).flatMap((t) => [...t.train, ...t.heldOut]).map((t) => `${t} {Y}.`);
      const stories = [...Object.values(STORY_INTROS).flat(), ...STORY_ENDINGS];
      // Each sentence may open the document (no leading space) or follow another (a leading space).
      const templates = [...statements, ...stories].flatMap((t) => [t, `{Z} ${t}`]);
      return templatePieces(templates, [...facts.map((f) => f.subject), ...facts.map((f) => f.answer), ...FEMALE_NAMES, ...MALE_NAMES, ...PLACES]);
    },
  };
}

/** Every (fact, held-out paraphrase) pair: the recall evaluation set. */
export function heldOutFactPrompts(facts: readonly Fact[] = worldFacts()): { prompt: string; answer: string; fact: Fact }[] {
  return facts.flatMap((fact) => FACT_TEMPLATES[fact.relation].heldOut.map((t) => ({ prompt: factPrompt(fact, t), answer: fact.answer, fact })));
}
