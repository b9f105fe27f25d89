// ROME (Meng et al. 2022): rewrite one fact by a rank-one change of one MLP's down projection
// (GPT-2's mlp.c_proj, GPT-NeoX's dense_4h_to_h, Llama's down_proj). Treating the projection W as
// a linear associative memory from keys (its input at the subject's last token) to values (its
// output), ROME inserts the association k* → v* while keeping W k for the keys the model usually
// sees as close as possible (least squares weighted by their second moment C):
//
//   W' = W + Λ (C⁻¹ k*)ᵀ,   Λ = (v* − W k*) / ((C⁻¹ k*)ᵀ k*)
//
// so W' k* = v* exactly, and W' k = W k for every key k with kᵀ C⁻¹ k* = 0.
//
//   const stats = await cachedKeyStatistics(model, 2, corpusRows, { cacheDir });
//   const edit = await romeEdit(model, tokenizer, { prompt: 'The capital of {} is', subject: 'Veloria', target: ' Brellin' },
//     { layer: 2, statistics: stats });
//   ... evaluateEdit(...); edit.undo(); // the original weights, bit for bit

import type { Tokenizer } from '../io/tokenizer.js';
import type { HookedTransformer } from '../models/transformer.js';
import { tensor } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';
import { checkLayer, solveKeyStatistics, type KeyStatistics } from './key-statistics.js';
import { contextPrefixes, contextPrompts, downProjection, meanKey, type ContextOptions } from './rome-key.js';
import { optimiseValue, type ValueOptions, type ValueStep } from './rome-value.js';
import { SUBJECT_SLOT, encodeWithSubject, toTemplate } from './subject.js';

export interface EditRequest {
  /** The prompt, with '{}' where the subject goes ('The capital of {} is') or with the subject written in it. */
  prompt: string;
  subject: string;
  /** The new object as it follows the prompt, leading space included (' Brellin'); one token or more. */
  target: string;
}

export interface RomeOptions extends ValueOptions {
  /** The layer whose MLP down projection is edited. */
  layer: number;
  /** Second moment of that layer's keys (computeKeyStatistics or cachedKeyStatistics). */
  statistics: KeyStatistics;
  /** Context prefixes for k* and v* (default: contextPrefixes(model, tokenizer, context)). */
  prefixes?: readonly string[];
  /** How contextPrefixes samples them, when `prefixes` is not given. */
  context?: ContextOptions;
  /**
   * What follows each prefix when k* is read: 'prompt' (default; ROME's released code — the prompt up
   * to the subject) or 'subject' (the paper's k* — the subject alone).
   */
  keyContext?: 'prompt' | 'subject';
  /** Prompts ('{}' = subject) whose prediction at the subject must not move (default ['{} is a'], ROME's). */
  essencePrompts?: readonly string[];
}

/** An applied edit: what it computed, and how to take it back. */
export interface RomeEdit {
  readonly request: EditRequest;
  readonly layer: number;
  /** The checkpoint name of the edited tensor (e.g. 'model.layers.2.mlp.down_proj.weight'). */
  readonly weightName: string;
  /** k* [d_mlp]. */
  readonly key: Float64Array;
  /** v* [d_model]: the MLP output the edited layer gives for k* (bias included). */
  readonly value: Float64Array;
  /** C⁻¹ k* [d_mlp]. */
  readonly direction: Float64Array;
  /** Λ [d_model]. */
  readonly scale: Float64Array;
  /** The optimisation of v*, step by step. */
  readonly valueSteps: readonly ValueStep[];
  /** The context prefixes used. */
  readonly prefixes: readonly string[];
  /** Whether the edit is in the weights (false after undo). */
  readonly applied: boolean;
  /** Restores the weights as they were before this edit, bit for bit (undo several edits in reverse order). */
  undo(): void;
}

/** The checkpoint name under which `model` holds `weight`. */
function checkpointName(model: HookedTransformer, weight: unknown): string {
  for (const [name, t] of model.params.named) if (t === weight) return name;
  return '(unnamed)';
}

export interface RankOneUpdate {
  /** C⁻¹ k. */
  direction: Float64Array;
  /** Λ. */
  scale: Float64Array;
  /** The weight data before the update (a copy, in the checkpoint's layout). */
  original: Float32Array;
}

/**
 * Writes W ← W + Λ (C⁻¹k)ᵀ into `layer`'s down projection so that it maps `key` to `value`
 * (bias included: W' k + b = value). Works in either stored layout (Linear.transposed).
 */
export function applyRankOneUpdate(model: HookedTransformer, layer: number, key: ArrayLike<number>, value: ArrayLike<number>,
  statistics: KeyStatistics): RankOneUpdate {
  checkLayer(model, layer);
  const { dMlp, dModel } = model.config;
  if (statistics.size !== dMlp) throw new ArgumentError(`the key statistics have size ${statistics.size}, but layer ${layer}'s keys have ${dMlp} values`);
  if (statistics.layer !== layer) throw new ArgumentError(`the key statistics are of layer ${statistics.layer}, not ${layer}`);
  if (value.length !== dModel) throw new ArgumentError(`the value has ${value.length} entries, expected d_model = ${dModel}`);
  const direction = solveKeyStatistics(statistics, key);
  let denominator = 0;
  for (let j = 0; j < dMlp; j++) denominator += direction[j] * key[j];
  if (!(denominator > 0)) throw new ArgumentError(`kᵀ C⁻¹ k = ${denominator} for this key; it must be positive (is the key zero?)`);
  const current = downProjection(model, layer, key);
  const scale = new Float64Array(dModel);
  for (let i = 0; i < dModel; i++) scale[i] = (value[i] - current[i]) / denominator;
  const out = model.params.blocks[layer].mlp.out;
  const original = Float32Array.from(out.weight.toArray());
  const updated = new Float32Array(original.length);
  for (let i = 0; i < dModel; i++) {
    for (let j = 0; j < dMlp; j++) {
      // nn.Linear stores [out, in] = [d_model, d_mlp]; GPT-2's Conv1D stores [in, out].
      const at = out.transposed ? i * dMlp + j : j * dModel + i;
      updated[at] = original[at] + scale[i] * direction[j];
    }
  }
  out.weight.copy_(tensor(updated, out.weight.shape, { backend: out.weight.backend, dtype: out.weight.dtype }));
  return { direction, scale, original };
}

/** Writes `original` back into `layer`'s down projection. */
export function restoreDownProjection(model: HookedTransformer, layer: number, original: Float32Array): void {
  const weight = model.params.blocks[layer].mlp.out.weight;
  if (original.length !== weight.size) throw new ArgumentError(`${original.length} saved values for a weight of ${weight.size}`);
  weight.copy_(tensor(original, weight.shape, { backend: weight.backend, dtype: weight.dtype }));
}

/** Token ids of the new object as it follows the prompt. */
function targetTokens(tokenizer: Tokenizer, target: string): number[] {
  const ids = tokenizer.encode(target, { addSpecialTokens: false });
  if (ids.length === 0) throw new ArgumentError(`the new object '${target}' has no tokens`);
  return ids;
}

/** Computes k* and v* for the request and applies the rank-one update in place. */
export async function romeEdit(model: HookedTransformer, tokenizer: Tokenizer, request: EditRequest, options: RomeOptions): Promise<RomeEdit> {
  const { layer, statistics } = options;
  checkLayer(model, layer);
  const template = toTemplate(request.prompt, request.subject);
  const targetIds = targetTokens(tokenizer, request.target);
  const prefixes = options.prefixes ?? await contextPrefixes(model, tokenizer, options.context);
  options.signal?.throwIfAborted();
  const keyTemplate = (options.keyContext ?? 'prompt') === 'prompt' ? template.slice(0, template.indexOf(SUBJECT_SLOT) + SUBJECT_SLOT.length) : SUBJECT_SLOT;
  const key = meanKey(model, layer, contextPrompts(tokenizer, prefixes, keyTemplate, request.subject));
  const initial = downProjection(model, layer, key);
  const essence = (options.essencePrompts ?? ['{} is a']).map((t) => encodeWithSubject(tokenizer, t, request.subject));
  const optimised = await optimiseValue(model, {
    layer, targetIds, initial, essencePrompts: essence, rewritePrompts: contextPrompts(tokenizer, prefixes, template, request.subject),
  }, options);
  const update = applyRankOneUpdate(model, layer, key, optimised.value, statistics);
  const weightName = checkpointName(model, model.params.blocks[layer].mlp.out.weight);
  let applied = true;
  return {
    request, layer, weightName, key, value: optimised.value, direction: update.direction, scale: update.scale,
    valueSteps: optimised.steps, prefixes,
    get applied() { return applied; },
    undo() {
      if (!applied) return;
      restoreDownProjection(model, layer, update.original);
      applied = false;
    },
  };
}
