// The API session of the browser worker (src/api/session.ts's ApiSession): the models the page has
// named — the site's embedded organisms, folders the user picked, hub repos — each loaded from its
// origin on first use and kept while the worker lives. One model at a time stays in memory: a
// browser tab has one wasm heap, and opening another model frees the previous one's weights.

import type { ApiSession, ModelHandle } from '../../api/session.js';
import { ApiError } from '../../api/errors.js';
import { DEFAULT_LIMITS, type ModelId, type ModelInfo } from '../../api/protocol.js';
import type { LoadProgress, ModelOrigin } from '../protocol.js';
import { BROWSER_WEIGHT_LIMIT_BYTES } from '../app/limits.js';
import { loadBrowserModel, type BrowserModel } from './load-model.js';
import { modelFiles } from './model-files.js';

interface KnownModel {
  info: ModelInfo;
  origin: ModelOrigin;
}

export class BrowserSession implements ApiSession {
  readonly limits = DEFAULT_LIMITS;
  private readonly known = new Map<ModelId, KnownModel>();
  private current: { id: ModelId; loaded: Promise<BrowserModel>; loans: number } | null = null;
  private preferred: ModelId | null = null;

  /** Makes `id` nameable by requests; the first one named becomes the default. */
  register(id: ModelId, label: string, origin: ModelOrigin, details: Partial<ModelInfo> = {}): void {
    const source = origin.kind === 'hub' ? 'hub' : origin.kind === 'url' || origin.kind === 'server' ? 'embedded' : 'local';
    const sizeBytes = details.sizeBytes ?? 0;
    this.known.set(id, {
      origin,
      info: {
        id, label, source, modelType: null, sizeBytes, browserOk: sizeBytes <= BROWSER_WEIGHT_LIMIT_BYTES,
        hasTokenizer: true, hasTunedLens: false, loaded: false, ...details,
      },
    });
    this.preferred ??= id;
  }

  async listModels(): Promise<ModelInfo[]> {
    return [...this.known.values()].map((m) => ({ ...m.info, loaded: this.current?.id === m.info.id }));
  }

  defaultModel(): ModelId | null {
    return this.current?.id ?? this.preferred;
  }

  /** Loads `id` now (freeing the model held before), reporting progress. */
  async open(id: ModelId, onProgress: (progress: LoadProgress) => void): Promise<BrowserModel> {
    const known = this.known.get(id);
    if (!known) throw new ApiError('not_found', `no model '${id}' in this page (known: ${[...this.known.keys()].join(', ') || 'none'})`);
    if (this.current?.id === id) return this.current.loaded;
    await this.unloadCurrent();
    const loaded = loadBrowserModel(modelFiles(known.origin), onProgress);
    this.current = { id, loaded, loans: 0 };
    try {
      const model = await loaded;
      known.info.modelType = model.model.config.family;
      this.preferred = id;
      return model;
    } catch (err) {
      if (this.current?.id === id) this.current = null;
      throw err;
    }
  }

  async acquireModel(id: ModelId): Promise<ModelHandle> {
    const { model, tokenizer } = await this.open(id, () => {});
    const current = this.current as { loans: number };
    current.loans++;
    let released = false;
    return {
      id,
      modelType: this.known.get(id)?.info.modelType ?? model.config.family,
      model,
      tokenizer,
      tunedLens: async () => null,
      release: () => {
        if (!released) current.loans--;
        released = true;
      },
    };
  }

  private async unloadCurrent(): Promise<void> {
    const previous = this.current;
    if (!previous) return;
    this.current = null;
    // Requests are serialised by the worker, so no loan is outstanding while another model opens.
    const loaded = await previous.loaded.catch(() => null);
    loaded?.model.dispose();
  }
}
