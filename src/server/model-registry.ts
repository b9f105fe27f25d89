// The server's ApiSession: models from the catalog, loaded once and shared by every request
// (handlers only read a model; hooks and caches are per call), kept in an LRU bounded by weight
// bytes. A model is evicted only when no request holds it; one that is still lent when the
// budget overflows is evicted when its last request returns it.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SUPPORTED_MODEL_TYPES, loadModel, loadTunedLens, type Backend, type HookedTransformer, type Tokenizer, type TunedLens,
} from '../index.js';
import {
  ApiError, DEFAULT_LIMITS, TUNED_LENS_FILE, type ApiLimits, type ApiSession, type ModelHandle, type ModelInfo,
} from '../api/index.js';
import type { ModelCatalog, ModelLocation } from './model-catalog.js';

export interface RegistryOptions {
  catalog: ModelCatalog;
  /** The id to preselect in the UI. */
  defaultModel?: string | null;
  /** Weight bytes the loaded models may take together before the least recently used is dropped. Default 4 GiB. */
  cacheBytes?: number;
  limits?: Partial<ApiLimits>;
  backend?: Backend;
}

interface Loaded {
  model: HookedTransformer;
  tokenizer: Tokenizer | null;
  modelType: string;
  bytes: number;
}

interface Entry {
  readonly location: ModelLocation;
  readonly loading: Promise<Loaded>;
  loaded: Loaded | null;
  users: number;
  tunedLens: Promise<TunedLens | null> | null;
  /** Dropped from the table while lent: disposed when the last user releases it. */
  evicted: boolean;
}

/** float32 weights: 4 bytes per parameter (shared tensors, e.g. tied embeddings, count once). */
function weightBytes(model: HookedTransformer): number {
  let elements = 0;
  for (const t of new Set(model.params.named.values())) elements += t.size;
  return elements * 4;
}

/** Resolves like `promise`, or rejects with an 'aborted' ApiError when the signal fires first (the work itself goes on). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new ApiError('aborted', 'the request was aborted'));
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => reject(new ApiError('aborted', 'the request was aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolvePromise, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class ModelRegistry implements ApiSession {
  readonly limits: ApiLimits;
  readonly catalog: ModelCatalog;
  private readonly entries = new Map<string, Entry>(); // insertion order = least recently used first
  private readonly cacheBytes: number;
  private readonly backend: Backend | undefined;
  private readonly preferred: string | null;

  constructor(options: RegistryOptions) {
    this.catalog = options.catalog;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.cacheBytes = options.cacheBytes ?? 4 * 1024 ** 3;
    this.backend = options.backend;
    this.preferred = options.defaultModel ?? null;
  }

  defaultModel(): string | null {
    return this.preferred;
  }

  /** The catalog's models that dissect can run (a folder of another architecture, e.g. superposition-toy, is left out). */
  async listModels(): Promise<ModelInfo[]> {
    const locations = await this.catalog.list();
    const models = await Promise.all(locations.map((location) => this.catalog.describe(location, this.entries.get(location.folder)?.loaded != null)));
    return models.filter((m) => m.modelType !== null && SUPPORTED_MODEL_TYPES.includes(m.modelType));
  }

  async acquireModel(id: string, signal?: AbortSignal): Promise<ModelHandle> {
    const location = await this.catalog.locate(id);
    // Keyed by folder: an id and a path naming the same model share one copy.
    let entry = this.entries.get(location.folder);
    if (entry === undefined) {
      entry = { location, loading: this.load(location), loaded: null, users: 0, tunedLens: null, evicted: false };
      const created = entry;
      this.entries.set(location.folder, created);
      created.loading.then((loaded) => {
        created.loaded = loaded;
        this.evictOverBudget();
      }, () => {
        if (this.entries.get(location.folder) === created) this.entries.delete(location.folder);
      });
    } else {
      this.entries.delete(location.folder); // re-insert: most recently used
      this.entries.set(location.folder, entry);
    }
    entry.users++;
    let loaded: Loaded;
    try {
      loaded = await unlessAborted(entry.loading, signal);
    } catch (err) {
      this.release(entry);
      throw err;
    }
    return this.handle(entry, loaded);
  }

  /** Models in memory now, most recently used last (for tests and diagnostics). */
  loadedModels(): { folder: string; bytes: number; users: number }[] {
    return [...this.entries.values()].filter((e) => e.loaded !== null)
      .map((e) => ({ folder: e.location.folder, bytes: (e.loaded as Loaded).bytes, users: e.users }));
  }

  /** Frees every model not lent now; lent ones are freed when returned. */
  dispose(): void {
    for (const entry of [...this.entries.values()]) this.evict(entry);
  }

  private handle(entry: Entry, loaded: Loaded): ModelHandle {
    let released = false;
    return {
      id: entry.location.id,
      modelType: loaded.modelType,
      model: loaded.model,
      tokenizer: loaded.tokenizer,
      tunedLens: () => {
        entry.tunedLens ??= this.loadTunedLens(entry.location, loaded.model);
        return entry.tunedLens;
      },
      release: () => {
        if (released) return;
        released = true;
        this.release(entry);
      },
    };
  }

  private release(entry: Entry): void {
    entry.users--;
    if (entry.users === 0 && entry.evicted) this.free(entry);
    else this.evictOverBudget();
  }

  private async load(location: ModelLocation): Promise<Loaded> {
    // Hub models too load from their snapshot folder: the cache is read, never refreshed.
    const { model, tokenizer } = await loadModel(location.folder, { backend: this.backend });
    let modelType = 'unknown';
    try {
      const raw = JSON.parse(await readFile(join(location.folder, 'config.json'), 'utf8')) as { model_type?: unknown };
      if (typeof raw.model_type === 'string') modelType = raw.model_type;
    } catch {
      // loadModel has read it already; a failure here only loses the label.
    }
    return { model, tokenizer, modelType, bytes: weightBytes(model) };
  }

  private async loadTunedLens(location: ModelLocation, model: HookedTransformer): Promise<TunedLens | null> {
    const path = join(location.folder, TUNED_LENS_FILE);
    if (!(await stat(path).catch(() => null))?.isFile()) return null;
    return loadTunedLens(path, model.backend);
  }

  /** Drops least recently used models, not lent, until the loaded ones fit the budget (the newest always stays). */
  private evictOverBudget(): void {
    const loaded = [...this.entries.values()].filter((e) => e.loaded !== null);
    let total = loaded.reduce((sum, e) => sum + (e.loaded as Loaded).bytes, 0);
    for (const entry of loaded.slice(0, -1)) {
      if (total <= this.cacheBytes) break;
      if (entry.users > 0) continue;
      total -= (entry.loaded as Loaded).bytes;
      this.evict(entry);
    }
  }

  private evict(entry: Entry): void {
    if (this.entries.get(entry.location.folder) === entry) this.entries.delete(entry.location.folder);
    entry.evicted = true;
    if (entry.users === 0) this.free(entry);
  }

  private free(entry: Entry): void {
    entry.loading.then((loaded) => {
      loaded.model.dispose();
      void entry.tunedLens?.then((lens) => lens?.dispose(), () => undefined);
    }, () => undefined);
  }
}
