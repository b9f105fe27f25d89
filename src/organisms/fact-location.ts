// Where a world model stores its facts: activation patching with the subject swapped. The clean
// prompt names a subject ("The capital of Veloria is"), the corrupted one another subject of the
// same relation with a different answer; restoring one component's clean output at one position
// and measuring logit(answer) − logit(other answer) shows which layers' MLPs at the last subject
// token hold the fact (ROME's "causal tracing" question, answered by patching instead of noise)
// and which attention layers move it to the last position.

import { logitDiff } from '../analysis/metrics.js';
import { activationPatching, metricBaselines } from '../analysis/patching.js';
import type { Tokenizer } from '../io/tokenizer.js';
import type { HookedTransformer } from '../models/transformer.js';
import { ArgumentError } from '../util/errors.js';
import { factPrompt, worldFacts, type Fact } from './data/facts.js';
import { wordToken } from './evaluate.js';

export interface FactLocation {
  relation: Fact['relation'];
  template: string;
  prompts: number;
  /** Mean logit(answer) − logit(other subject's answer), clean and corrupted. */
  clean: number;
  corrupted: number;
  /** [layer]: normalised effect (0 = corrupted, 1 = clean) of restoring mlp_out at the last subject token. */
  mlpAtSubject: number[];
  /** [layer]: the same for attn_out at the last position (moving the fact to where it is said). */
  attnAtEnd: number[];
  /** [layer]: the same for mlp_out at the last position. */
  mlpAtEnd: number[];
}

/**
 * Patching effects for one paraphrase of one relation: every subject of the relation against the
 * next subject (in the world's order) whose answer differs.
 */
export async function factLocation(model: HookedTransformer, tokenizer: Tokenizer, relation: Fact['relation'], template: string): Promise<FactLocation> {
  const facts = worldFacts().filter((f) => f.relation === relation);
  const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: false });
  const clean: number[][] = [];
  const corrupted: number[][] = [];
  const answers: number[] = [];
  const others: number[] = [];
  facts.forEach((fact, i) => {
    const other = facts[(i + 1) % facts.length];
    if (other.answer === fact.answer) return;
    clean.push(encode(factPrompt(fact, template)));
    corrupted.push(encode(factPrompt(other, template)));
    answers.push(wordToken(tokenizer, fact.answer));
    others.push(wordToken(tokenizer, other.answer));
  });
  const length = clean[0].length;
  if (clean.some((row) => row.length !== length) || corrupted.some((row) => row.length !== length)) {
    throw new ArgumentError(`factLocation: the subjects of '${relation}' tokenize to different lengths in '${template}'; patching needs equal lengths`);
  }
  const lastSubject = encode(`${template.split('{X}')[0]}${facts[0].subject}`).length - 1;
  const metric = logitDiff(answers, others);
  const inputs = { cleanTokens: clean, corruptedTokens: corrupted, metric };
  const base = metricBaselines(model, metric, inputs);
  const normalise = (v: number) => (v - base.corrupted) / (base.clean - base.corrupted);
  const sweep = async (target: 'mlp_out' | 'attn_out') => {
    const result = await activationPatching(model, target, inputs);
    const values = result.values.toArray(); // [layer, pos]
    result.values.dispose();
    return (pos: number) => Array.from({ length: model.config.nLayers }, (_, l) => normalise(values[l * length + pos]));
  };
  const mlp = await sweep('mlp_out');
  const attn = await sweep('attn_out');
  return {
    relation, template, prompts: clean.length, clean: base.clean, corrupted: base.corrupted,
    mlpAtSubject: mlp(lastSubject), attnAtEnd: attn(length - 1), mlpAtEnd: mlp(length - 1),
  };
}
