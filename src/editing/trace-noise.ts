// The corruption of causal tracing: Gaussian noise added to the subject's token embeddings
// (hook_embed, before position embeddings are added). Its scale is a multiple of the embeddings'
// standard deviation, which ROME measures over the embeddings of the subjects it traces
// (collect_embedding_std; the default multiple is 3).

import type { Hook } from '../hooks/hook-set.js';
import type { HookedTransformer } from '../models/transformer.js';
import { Rng, noGrad, tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, IndexError } from '../util/errors.js';
import type { SubjectRange } from './subject.js';

/**
 * Standard deviation (Bessel-corrected, as torch's std) of the token embeddings hook_embed gives
 * for `tokenIds` (every occurrence counts), or of the whole embedding matrix when omitted.
 * Embedding scales (Gemma's √d_model) are included, as hook_embed includes them.
 */
export function embeddingStd(model: HookedTransformer, tokenIds?: readonly number[]): number {
  const { dVocab } = model.config;
  if (tokenIds !== undefined) {
    if (tokenIds.length === 0) throw new ArgumentError('embeddingStd: no token ids given');
    for (const id of tokenIds) {
      if (!Number.isInteger(id) || id < 0 || id >= dVocab) throw new IndexError(`embeddingStd: token id ${id} is out of range 0..${dVocab - 1}`);
    }
  }
  const values = noGrad(() => tidy(() => {
    const rows = tokenIds === undefined
      ? model.params.embed
      : model.params.embed.indexSelect(0, tensor(Int32Array.from(tokenIds), [tokenIds.length], { dtype: 'int32', backend: model.backend }));
    return rows.toArray();
  }));
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return Math.abs(model.config.embedScale) * Math.sqrt(squares / Math.max(1, values.length - 1));
}

/** noise [samples, subject tokens, d_model]: `std` × standard normal draws from a generator seeded with `seed`. */
export function subjectNoise(model: HookedTransformer, samples: number, subject: SubjectRange, std: number, seed: number): Float32Array {
  const d = model.config.dModel;
  const count = samples * (subject[1] - subject[0]) * d;
  const rng = new Rng(seed);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = std * rng.normal();
  return data;
}

/**
 * A hook adding `noise` [samples, subject tokens, d_model] to hook_embed at the subject's positions
 * of a [samples, pos] batch (other positions untouched). The hook owns nothing: the tensor it adds
 * is created inside the forward pass's scope.
 */
export function corruptSubjectHook(noise: Float32Array, samples: number, subject: SubjectRange): Hook {
  const [start, end] = subject;
  return {
    name: 'hook_embed',
    fn: (embed: Tensor) => {
      const [batch, pos, d] = embed.shape;
      if (batch !== samples || end > pos) {
        throw new IndexError(`subject noise for ${samples} samples and positions [${start}, ${end}) does not fit hook_embed of shape [${batch}, ${pos}, ${d}]`);
      }
      const full = new Float32Array(batch * pos * d);
      const width = (end - start) * d;
      for (let s = 0; s < samples; s++) full.set(noise.subarray(s * width, (s + 1) * width), (s * pos + start) * d);
      return embed.add(tensor(full, [batch, pos, d], { dtype: embed.dtype, backend: embed.backend }));
    },
  };
}
