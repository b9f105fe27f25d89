// Every ref kernel in one object, so the wasm and native backends can delegate what they do not
// accelerate (refKernels.softmax(...)). The kernels touch only `storage.data` and View fields, so
// they run on any backend's storages.

import type { Backend } from '../types.js';
import { copy, fill } from './copy.js';
import { binary, binaryScalar, unary, where } from './elementwise.js';
import { indexAdd, indexSelect } from './indexing.js';
import { matmul } from './matmul.js';
import { layerNorm, rmsNorm } from './norm.js';
import { cumsum, reduce } from './reduce.js';
import { rotary } from './rotary.js';
import { softmax } from './softmax.js';
import { topk } from './topk.js';

export type Kernels = Omit<Backend, 'name' | 'threads' | 'alloc' | 'free' | 'liveBuffers' | 'liveBytes' | 'dispose'>;

export const refKernels: Kernels = {
  copy, fill,
  unary, binary, binaryScalar, where,
  reduce, cumsum, topk,
  softmax, layerNorm, rmsNorm, rotary,
  matmul,
  indexSelect, indexAdd,
};
