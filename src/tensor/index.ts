// The tensor layer's public surface. nn/, models/ and analysis/ import from here.
//
// Ownership, in short: every op returns a new Tensor that its caller owns (views included; a view
// keeps the shared buffer alive on its own). Dispose it with dispose() / `using`, or create it
// inside tidy(fn), which disposes everything fn created except what it returns or keep()s.
// A parameter owns its `.grad`. Autograd graphs hold what backward needs until backward runs
// (unless retainGraph) or their output is disposed. Optimizers own their state (dispose()).

export { Tensor, type Axes, type GeluApproximation, type IndexSpec } from './tensor.js';
export type { DType } from '../backend/types.js';
export {
  tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, randn, rand, randint,
  type TensorOptions, type RandomOptions, type NestedNumbers,
} from './creation.js';
export { Rng, manualSeed, globalRng } from './random.js';
export type { NestedArray } from './format.js';
export { tidy, keep, dispose, type TensorContainer } from './scope.js';
export {
  noGrad, enableGrad, isGradEnabled, grad, valueAndGrad, type BackwardOptions,
} from './autograd.js';
export { add, sub, mul, div, pow, maximum, minimum, where, clamp } from './ops/elementwise.js';
export type { KeepDim, VarOptions } from './ops/reduce.js';
export { softmax, layerNorm, rmsNorm, rotary, type SoftmaxOptions, type RmsNormOptions, type RotaryOptions } from './ops/nn.js';
export { matmul } from './ops/matmul.js';
export { indexSelect, gather, indexPut, concat, stack } from './ops/indexing.js';
export { SGD, AdamW, clipGradNorm, type SGDOptions, type AdamWOptions, type AdamWState } from './optim.js';
