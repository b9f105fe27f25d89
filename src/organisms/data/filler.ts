// Filler: short generated stories in the world's vocabulary, so the model sees names, places and
// objects in ordinary prose (and the names IOI holds out still get trained embeddings).

import type { Rng } from '../../tensor/index.js';
import { fill, pick, pickTwo, templatePieces, type TextGenerator } from './generator.js';
import { ADJECTIVES, ANIMALS, COLORS, FEMALE_NAMES, FOODS, MALE_NAMES, OBJECTS, PLACES } from './words.js';

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
];

const ENDINGS = ['{P} went home in the evening.', '{N} was very {ADJ}.', '{P} went to sleep at night.', 'They all had a {ADJ} time.'];

export const fillerGenerator: TextGenerator = {
  name: 'filler',
  sample(rng: Rng) {
    const female = rng.int(0, 2) === 0;
    const [n, m] = female ? pickTwo(rng, FEMALE_NAMES) : pickTwo(rng, MALE_NAMES);
    const sentences = [pick(rng, OPENINGS)];
    const middles = rng.int(2, 5);
    for (let i = 0; i < middles; i++) sentences.push(pick(rng, MIDDLES));
    sentences.push(pick(rng, ENDINGS));
    return sentences.map((s) => fill(s, {
      N: n, M: m, P: female ? 'She' : 'He', PLACE: pick(rng, PLACES), ANIMAL: pick(rng, ANIMALS), ADJ: pick(rng, ADJECTIVES),
      OBJECT: pick(rng, OBJECTS), FOOD: pick(rng, FOODS), COLOR: pick(rng, COLORS),
    })).join(' ');
  },
  // Each sentence may open the document (no leading space) or follow another (a leading space).
  pieces: () => templatePieces([...OPENINGS, ...MIDDLES, ...ENDINGS].flatMap((t) => [t, `{X} ${t}`]), [
    ...FEMALE_NAMES, ...MALE_NAMES, 'She', 'He', ...PLACES, ...ANIMALS, ...ADJECTIVES, ...OBJECTS, ...FOODS, ...COLORS,
  ]),
};
