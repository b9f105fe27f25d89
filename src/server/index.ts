// `dissect serve` as a function: find the package's embedded models and built UI, allow the start
// model and the --allow folders, preload the start model, and listen.

import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IOError, hubCacheDir, locateModel, type Backend } from '../index.js';
import type { ApiLimits } from '../api/index.js';
import { ModelCatalog } from './model-catalog.js';
import { ModelRegistry } from './model-registry.js';
import { startServer, type RunningServer } from './http-server.js';

export { ModelCatalog, looksLikePath, type CatalogOptions, type ModelLocation } from './model-catalog.js';
export { ModelRegistry, type RegistryOptions } from './model-registry.js';
export { createDissectServer, startServer, type RunningServer, type ServerOptions } from './http-server.js';

/** The package root: dist/src/server/ → three levels up. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Where the organisms ship, and where the UI build (Vite) puts the web UI. */
export const EMBEDDED_MODELS_DIR = resolve(PACKAGE_ROOT, 'models');
export const WEB_DIR = resolve(PACKAGE_ROOT, 'dist', 'web');

export interface ServeOptions {
  /** The start model: a folder, or a hub id (downloaded now if the cache lacks it). Default: world-4l. */
  model?: string;
  /** More folders whose models (the folder itself, or its subfolders) requests may name. */
  allow?: readonly string[];
  host?: string;
  port?: number;
  /** LRU budget of loaded weights, bytes. */
  cacheBytes?: number;
  limits?: Partial<ApiLimits>;
  backend?: Backend;
  /** Overrides for tests: the embedded models, the UI folder (null: none), the hub cache (null: none). */
  embeddedDir?: string;
  webDir?: string | null;
  hubCacheDir?: string | null;
  signal?: AbortSignal;
}

export async function serve(options: ServeOptions = {}): Promise<RunningServer & { registry: ModelRegistry; defaultModel: string }> {
  const embeddedDir = options.embeddedDir ?? EMBEDDED_MODELS_DIR;
  const hubDir = options.hubCacheDir === undefined ? hubCacheDir() : options.hubCacheDir;
  const start = options.model ?? resolve(embeddedDir, 'world-4l');
  const allow = [...(options.allow ?? [])];
  for (const dir of allow) {
    if (!(await stat(dir).catch(() => null))?.isDirectory()) throw new IOError(`allowed folder '${dir}' does not exist or is not a folder`);
  }
  const startIsFolder = (await stat(start).catch(() => null))?.isDirectory() ?? false;
  if (startIsFolder) {
    allow.push(start);
  } else {
    // A hub id: fetch it into the cache now (a request never downloads).
    await locateModel(start, { signal: options.signal });
  }
  const catalog = new ModelCatalog({ embeddedDir, allowed: allow, hubCacheDir: hubDir });
  const defaultModel = (await catalog.locate(startIsFolder ? resolve(start) : start)).id;
  const registry = new ModelRegistry({ catalog, defaultModel, cacheBytes: options.cacheBytes, limits: options.limits, backend: options.backend });
  // Load the start model now: a broken one fails here, and the first request is quick.
  (await registry.acquireModel(defaultModel, options.signal)).release();
  const webDir = options.webDir === undefined ? (existsSync(WEB_DIR) ? WEB_DIR : null) : options.webDir;
  const running = await startServer({ session: registry, catalog, webDir, host: options.host, port: options.port });
  return {
    ...running,
    registry,
    defaultModel,
    close: async () => {
      await running.close();
      registry.dispose();
    },
  };
}
