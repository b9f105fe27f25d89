// Where the subject of a factual prompt sits among its tokens. Causal tracing corrupts those
// tokens; ROME reads and writes the MLP at the last of them.
//
// Two ways in, as in ROME's code: find the subject's characters in an already tokenized prompt
// (find_token_range), or build the prompt from a template so the subject's tokens are known by
// construction (get_words_idxs_in_templates): the text before the subject, the subject with a
// leading space, and the text after it are tokenized separately and joined, so a tokenizer that
// attaches spaces to the following word sees the subject as it would in running text.

import type { Tokenizer } from '../io/tokenizer.js';
import { ArgumentError } from '../util/errors.js';

/** Token positions [start, end) of the subject (end exclusive). */
export type SubjectRange = readonly [start: number, end: number];

/** The placeholder for the subject in prompt templates ('The capital of {} is'). */
export const SUBJECT_SLOT = '{}';

/**
 * The tokens of `tokens` that spell the first occurrence of `subject` (ROME's find_token_range):
 * every token overlapping the subject's characters in the decoded prompt.
 */
export function findSubjectRange(tokenizer: Tokenizer, tokens: readonly number[], subject: string): SubjectRange {
  const wanted = subject.trim();
  if (wanted === '') throw new ArgumentError('the subject is empty');
  const pieces = tokens.map((id) => tokenizer.decode([id]));
  const whole = pieces.join('');
  const at = whole.indexOf(wanted);
  if (at < 0) throw new ArgumentError(`the subject '${wanted}' does not occur in the prompt '${whole}'`);
  let start = -1;
  let end = -1;
  let offset = 0;
  pieces.forEach((piece, i) => {
    offset += piece.length;
    if (start < 0 && offset > at) start = i;
    if (end < 0 && offset >= at + wanted.length) end = i + 1;
  });
  return [start, end];
}

/** A template with exactly one subject slot, split around it. */
function splitTemplate(template: string): { before: string; after: string } {
  const at = template.indexOf(SUBJECT_SLOT);
  if (at < 0 || template.indexOf(SUBJECT_SLOT, at + SUBJECT_SLOT.length) >= 0) {
    throw new ArgumentError(`a prompt template needs exactly one '${SUBJECT_SLOT}' where the subject goes, got '${template}'`);
  }
  return { before: template.slice(0, at), after: template.slice(at + SUBJECT_SLOT.length) };
}

/** A prompt given as text with the subject in it becomes a template ('The capital of {} is'). */
export function toTemplate(prompt: string, subject: string): string {
  if (prompt.includes(SUBJECT_SLOT)) return prompt;
  const at = prompt.indexOf(subject.trim());
  if (subject.trim() === '' || at < 0) throw new ArgumentError(`the subject '${subject}' does not occur in the prompt '${prompt}'`);
  return `${prompt.slice(0, at)}${SUBJECT_SLOT}${prompt.slice(at + subject.trim().length)}`;
}

export interface SubjectPrompt {
  tokens: number[];
  subject: SubjectRange;
}

/**
 * Tokens of `template` with `subject` in its slot, and where the subject's tokens are. The first
 * piece gets the tokenizer's special tokens (a BOS where the tokenizer adds one).
 */
export function encodeWithSubject(tokenizer: Tokenizer, template: string, subject: string): SubjectPrompt {
  const { before, after } = splitTemplate(template);
  const word = subject.trim();
  if (word === '') throw new ArgumentError('the subject is empty');
  // A space before the slot belongs to the subject (" Veloria"), as tokenizers see running text.
  const spaced = before.endsWith(' ');
  const head = spaced ? before.slice(0, -1) : before;
  const subjectText = spaced ? ` ${word}` : word;
  // An empty head still gets the tokenizer's special prefix (a BOS where it adds one).
  const headIds = tokenizer.encode(head, { addSpecialTokens: true });
  const subjectIds = tokenizer.encode(subjectText, { addSpecialTokens: false });
  if (subjectIds.length === 0) throw new ArgumentError(`the subject '${word}' has no tokens`);
  const tail = after === '' ? [] : tokenizer.encode(after, { addSpecialTokens: false });
  const tokens = [...headIds, ...subjectIds, ...tail];
  const subjectStart = headIds.length;
  return { tokens, subject: [subjectStart, subjectStart + subjectIds.length] };
}
