// A minimal ApiSession for handler tests (the server's registry has its own tests): the embedded
// organisms, each loaded once, lent without eviction; and small numeric helpers.

import { join } from 'node:path';
import { loadModel, type HookedTransformer, type LoadedModel, type TunedLens } from '../../src/index.js';
import { ApiError, DEFAULT_LIMITS, type ApiLimits, type ApiSession, type ModelHandle } from '../../src/api/index.js';
import { repoRoot } from '../io/fixture-paths.js';

export const MODELS_DIR = join(repoRoot, 'models');
export const IOI_CLEAN = 'When Mary and John went to the store, John gave a drink to';
export const IOI_CORRUPT = 'When Mary and John went to the store, Mary gave a drink to';

export interface TestSession extends ApiSession {
  /** The same loaded model the handlers get. */
  loaded(id: string): Promise<LoadedModel>;
  /** Loans not yet returned. */
  outstanding(): number;
  dispose(): void;
}

export interface TestSessionOptions {
  limits?: Partial<ApiLimits>;
  /** The tuned lens handlers get (default: none). */
  tunedLens?: (model: HookedTransformer) => TunedLens;
}

export function testSession(options: TestSessionOptions = {}): TestSession {
  const lenses = new Map<HookedTransformer, TunedLens>();
  const cache = new Map<string, Promise<LoadedModel>>();
  let lent = 0;
  const loaded = (id: string) => {
    if (!['world-4l', 'attn-only-2l'].includes(id)) return Promise.reject(new ApiError('not_found', `unknown model '${id}'`, 'model'));
    let entry = cache.get(id);
    if (entry === undefined) {
      entry = loadModel(join(MODELS_DIR, id));
      cache.set(id, entry);
    }
    return entry;
  };
  return {
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    listModels: async () => [],
    defaultModel: () => 'world-4l',
    loaded,
    outstanding: () => lent,
    async acquireModel(id): Promise<ModelHandle> {
      const { model, tokenizer } = await loaded(id);
      lent++;
      let released = false;
      return {
        id, modelType: 'llama', model, tokenizer,
        tunedLens: async () => {
          if (options.tunedLens === undefined) return null;
          if (!lenses.has(model)) lenses.set(model, options.tunedLens(model));
          return lenses.get(model) as TunedLens;
        },
        release: () => {
          if (!released) lent--;
          released = true;
        },
      };
    },
    dispose() {
      for (const lens of lenses.values()) lens.dispose();
      for (const entry of cache.values()) void entry.then((m) => m.model.dispose());
    },
  };
}

/** log-sum-exp softmax in float64. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  if (!(Math.abs(actual - expected) <= tolerance)) throw new Error(`${what}: ${actual} differs from ${expected} by more than ${tolerance}`);
}
