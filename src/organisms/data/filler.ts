// Filler: short generated stories in the world's vocabulary, so the model sees names, places and
// objects in ordinary prose (and the names IOI holds out still get trained embeddings). Some
// sentences exist for the words of the held-out fact paraphrases (" travel", " official", " seat",
// " power", " profession"), in contexts that are not facts: a word no training text contains keeps
// its random embedding, and no paraphrase using it can be recalled. They share slots with a
// synonym the fact paraphrases do use (profession / job, official / main, travel / go, power /
// government), so the two words occur in the same contexts and get similar embeddings — the
// synonymy a pretrained model brings to a paraphrase it never saw.

import type { Rng } from '../../tensor/index.js';
import { fill, pick, pickTwo, templatePieces, type TextGenerator } from './generator.js';
import { ADJECTIVES, ANIMALS, COLORS, FEMALE_NAMES, FOODS, MALE_NAMES, OBJECTS, OCCUPATIONS, PLACES } from './words.js';

const OPENINGS = [
  'One day, {N} went to the {PLACE}.',
  'In the morning, {N} walked to the {PLACE}.',
  '{N} lived near the {PLACE}.',
  'Once upon a time, {N} and {M} visited the {PLACE}.',
];

const MIDDLES = [
  '{P} saw a {ADJ} {ANIMAL}.',
  'The {ANIMAL} was {ADJ}.',
  '{P} found a {COLOR} {OBJECT} near the {PLACE}.',
  '{N} ate some {FOOD} with {M}.',
  '{M} asked {N} about the {OBJECT}.',
  'It was a {ADJ} day at the {PLACE}.',
  '{P} bought {FOOD} at the market.',
  '{N} and {M} played with a {COLOR} ball.',
  'The {ANIMAL} ran to the {PLACE}.',
  '{P} gave the {ANIMAL} some {FOOD}.',
  '{N} and {M} liked to {GO} to the {PLACE}.',
  '{P} took a seat near the {OBJECT}.',
  'The old king lost the {POWER} of the land.',
  'An official came to the {PLACE} to see {N}.',
  '{N} walked to the {MAIN} gate of the {PLACE}.',
  '{N} wanted to become a {OCCUPATION} one day.',
  '{N} chose a {JOB} and became a {OCCUPATION}.',
  '{N} talked to a {OCCUPATION} about {Q} {JOB}.',
  '{N} found a {JOB} at the {PLACE}.',
  '{N} liked {Q} {JOB} at the {PLACE}.',
];

/** Slots a held-out paraphrase's word shares with its synonym (see the comment at the top). */
const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  JOB: ['job', 'profession'], MAIN: ['main', 'official'], GO: ['go', 'travel'], POWER: ['power', 'government'],
};

const ENDINGS = ['{P} went home in the evening.', '{N} was very {ADJ}.', '{P} went to sleep at night.', 'They all had a {ADJ} time.'];

export const fillerGenerator: TextGenerator = {
  name: 'filler',
  sample(rng: Rng) {
    const female = rng.int(0, 2) === 0;
    const [n, m] = female ? pickTwo(rng, FEMALE_NAMES) : pickTwo(rng, MALE_NAMES);
    const occupation = pick(rng, OCCUPATIONS);
    const sentences = [pick(rng, OPENINGS)];
    const middles = rng.int(2, 5);
    for (let i = 0; i < middles; i++) sentences.push(pick(rng, MIDDLES));
    sentences.push(pick(rng, ENDINGS));
    return sentences.map((s) => fill(s, {
      ...Object.fromEntries(Object.entries(SYNONYMS).map(([slot, words]) => [slot, pick(rng, words)])),
      N: n, M: m, P: female ? 'She' : 'He', Q: female ? 'her' : 'his', OCCUPATION: occupation,
      PLACE: pick(rng, PLACES), ANIMAL: pick(rng, ANIMALS), ADJ: pick(rng, ADJECTIVES),
      OBJECT: pick(rng, OBJECTS), FOOD: pick(rng, FOODS), COLOR: pick(rng, COLORS),
    })).join(' ');
  },
  // Each sentence may open the document (no leading space) or follow another (a leading space).
  pieces: () => templatePieces([...OPENINGS, ...MIDDLES, ...ENDINGS].flatMap((t) => [t, `{X} ${t}`]), [
    ...FEMALE_NAMES, ...MALE_NAMES, 'She', 'He', 'her', 'his', ...OCCUPATIONS, ...Object.values(SYNONYMS).flat(),
    ...PLACES, ...ANIMALS, ...ADJECTIVES, ...OBJECTS, ...FOODS, ...COLORS,
  ]),
};
