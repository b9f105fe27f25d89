// What the handlers run over: a session that lists models and lends loaded ones. The Node server
// implements it over the file system and the hub cache (src/server/model-registry.ts); the
// browser's Web Worker implements it over fetched files. Handlers never load anything themselves,
// so they run unchanged in both places.

import type { HookedTransformer, Tokenizer, TunedLens } from '../index.js';
import type { ApiLimits, ModelId, ModelInfo, Progress } from './protocol.js';

/** A loaded model lent to one request. Call release() when the request is done with it. */
export interface ModelHandle {
  readonly id: ModelId;
  /** config.json's model_type. */
  readonly modelType: string;
  /** Shared by concurrent requests: handlers only read it (hooks are per call, never installed on it). */
  readonly model: HookedTransformer;
  readonly tokenizer: Tokenizer | null;
  /** The model's tuned lens (loaded once, owned by the session), or null when it has none. */
  tunedLens(): Promise<TunedLens | null>;
  /** Returns the loan: the session may evict the model once no request holds it. */
  release(): void;
}

export interface ApiSession {
  readonly limits: ApiLimits;
  /** Every model a request may name. */
  listModels(signal?: AbortSignal): Promise<ModelInfo[]>;
  /** The model to preselect, or null. */
  defaultModel(): ModelId | null;
  /**
   * Loads (or reuses) a model. Throws ApiError 'not_found' for a name it does not know and
   * 'forbidden' for a path outside what it allows.
   */
  acquireModel(id: ModelId, signal?: AbortSignal): Promise<ModelHandle>;
}

/** What a handler gets besides its request: cancellation and a progress sink. */
export interface HandlerContext {
  /** Aborting rejects the handler with ApiError 'aborted' at its next check (between forward passes). */
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

