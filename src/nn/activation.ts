// The MLP nonlinearities, by the normalised names ModelConfig uses.
import type { Tensor } from '../tensor/tensor.js';

export type ActivationName = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';

export function activate(x: Tensor, name: ActivationName): Tensor {
  switch (name) {
    case 'gelu': return x.gelu('none');
    case 'gelu_tanh': return x.gelu('tanh');
    case 'relu': return x.relu();
    case 'silu': return x.silu();
    default: return name satisfies never;
  }
}
