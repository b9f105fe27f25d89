// Indirect-object identification (Wang et al. 2022): two names are introduced, one (the subject S)
// is repeated, and the sentence ends where the other (the indirect object IO) is the only sensible
// next word: "When Mary and John went to the store, John gave a drink to" → " Mary". Templates
// are the paper's, in both orders: BABA ("Then, John and Mary ... John gave ... to") and ABBA.

import type { Rng } from '../../tensor/index.js';
import { fill, pick, pickTwo, templatePieces, type TextGenerator } from './generator.js';
import { ALL_NAMES, IOI_HELD_OUT_NAMES, IOI_TRAIN_NAMES, OBJECTS, PLACES } from './words.js';

/** {A} is the first-mentioned name, {B} the second; the subject slot is always the repeated {S}. */
export const IOI_TEMPLATES = [
  'When {A} and {B} went to the {PLACE}, {S} gave a {OBJECT} to',
  'Then, {A} and {B} went to the {PLACE}. {S} gave a {OBJECT} to',
  'Then, {A} and {B} had a lot of fun at the {PLACE}. {S} gave a {OBJECT} to',
  'Then, {A} and {B} were working at the {PLACE}. {S} decided to give a {OBJECT} to',
  'Then, {A} and {B} were thinking about going to the {PLACE}. {S} wanted to give a {OBJECT} to',
  'Then, {A} and {B} had a long argument, and afterwards {S} said to',
  'After {A} and {B} went to the {PLACE}, {S} gave a {OBJECT} to',
  'When {A} and {B} got a {OBJECT} at the {PLACE}, {S} decided to give it to',
  'When {A} and {B} got a {OBJECT} at the {PLACE}, {S} decided to give the {OBJECT} to',
  'While {A} and {B} were working at the {PLACE}, {S} gave a {OBJECT} to',
  'While {A} and {B} were commuting to the {PLACE}, {S} gave a {OBJECT} to',
  'After the lunch, {A} and {B} went to the {PLACE}. {S} gave a {OBJECT} to',
  'Afterwards, {A} and {B} went to the {PLACE}. {S} gave a {OBJECT} to',
  'Then, {A} and {B} had a long argument. Afterwards {S} said to',
  'The {PLACE} {A} and {B} went to had a {OBJECT}. {S} gave it to',
  'Friends {A} and {B} found a {OBJECT} at the {PLACE}. {S} gave it to',
];

export interface IoiPrompt {
  /** The sentence up to (not including) the indirect object. */
  prompt: string;
  /** The indirect object (the answer) and the subject, as words without a leading space. */
  io: string;
  s: string;
  /** ABBA: the IO is mentioned first; BABA: the subject is. */
  order: 'ABBA' | 'BABA';
  template: number;
}

/** A random IOI prompt over `names`. */
export function ioiPrompt(rng: Rng, names: readonly string[] = IOI_TRAIN_NAMES): IoiPrompt {
  const template = rng.int(0, IOI_TEMPLATES.length);
  const [io, s] = pickTwo(rng, names);
  const order = rng.int(0, 2) === 0 ? 'ABBA' : 'BABA';
  const [a, b] = order === 'ABBA' ? [io, s] : [s, io];
  const prompt = fill(IOI_TEMPLATES[template], { A: a, B: b, S: s, PLACE: pick(rng, PLACES), OBJECT: pick(rng, OBJECTS) });
  return { prompt, io, s, order, template };
}

/** IOI sentences for training: names the IOI evaluation holds out never appear. */
export const ioiGenerator: TextGenerator = {
  name: 'ioi',
  sample(rng) {
    const p = ioiPrompt(rng, IOI_TRAIN_NAMES);
    return `${p.prompt} ${p.io}.`;
  },
  pieces: () => [...templatePieces(IOI_TEMPLATES.map((t) => `${t} {IO}.`), [...ALL_NAMES, ...PLACES, ...OBJECTS])],
};

/** A fixed evaluation set over the held-out names. */
export function ioiEvalSet(rng: Rng, count: number, names: readonly string[] = IOI_HELD_OUT_NAMES): IoiPrompt[] {
  return Array.from({ length: count }, () => ioiPrompt(rng, names));
}
