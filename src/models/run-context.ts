// Everything one forward pass shares between its blocks: the hooks of this call, positions and
// masks derived from the inputs, the rotary tables, and the KV cache when generating.

import type { Backend } from '../backend/types.js';
import type { HookSet } from '../hooks/hook-set.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ModelConfig } from './config.js';
import type { KVCache } from './kv-cache.js';

export interface RunContext {
  readonly config: ModelConfig;
  readonly backend: Backend;
  readonly hooks: HookSet;
  readonly batch: number;
  /** New positions in this call. */
  readonly pos: number;
  /** Positions already in the KV cache (0 without one). */
  readonly pastLength: number;
  /** [batch, 1, 1, pastLength + pos]: 0 for real keys, -Infinity for padding; null when nothing is padded. */
  readonly paddingBias: Tensor | null;
  /** [1, 1, pos, pastLength + pos]: -Infinity outside the sliding window; null when no window applies. */
  readonly windowBias: Tensor | null;
  /** Rotary tables [batch, pos, rotaryDim/2], or null for learned positions. */
  readonly cos: Tensor | null;
  readonly sin: Tensor | null;
  readonly kvCache: KVCache | null;
}
