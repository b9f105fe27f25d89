// Which models the server may load and where their files are: the organisms shipped in the
// package's models/ folder, the model `dissect serve` was started with, the --allow folders (a
// model folder, or a folder of model folders), and the Hugging Face hub cache (read only: a
// request never starts a download). A request names a listed id or a folder path; a path is
// allowed only inside one of those roots (after resolving symlinks), so the API cannot be used to
// read arbitrary folders.

import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve, sep } from 'node:path';
import { ApiError, BROWSER_MODEL_LIMIT_BYTES, TUNED_LENS_FILE, type ModelInfo } from '../api/index.js';

export interface CatalogOptions {
  /** The package's models/ folder (embedded organisms). */
  embeddedDir: string;
  /** Folders named by --allow (and the start model's folder). */
  allowed?: readonly string[];
  /** The hub cache folder; null to offer no hub models. */
  hubCacheDir?: string | null;
}

/** Where a model's files are, and how it was found. */
export interface ModelLocation {
  id: string;
  folder: string;
  source: ModelInfo['source'];
  /** For hub models: the repo id, loaded through the cache with downloads off. */
  repoId?: string;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

async function isModelFolder(folder: string): Promise<boolean> {
  return isFile(join(folder, 'config.json'));
}

async function subfolders(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => join(folder, e.name)).sort();
}

/** A path names a folder when it looks like one (as loadModel decides): absolute, ./, ~, or more than one '/'. */
export function looksLikePath(name: string): boolean {
  return isAbsolute(name) || /^[.~\\]/.test(name) || name.split('/').length > 2 || name.includes('\\');
}

export class ModelCatalog {
  private readonly embeddedDir: string;
  private readonly allowed: string[];
  private readonly hubDir: string | null;

  constructor(options: CatalogOptions) {
    this.embeddedDir = resolve(options.embeddedDir);
    this.allowed = (options.allowed ?? []).map((dir) => resolve(dir));
    this.hubDir = options.hubCacheDir === undefined || options.hubCacheDir === null ? null : resolve(options.hubCacheDir);
  }

  /** Every model found now, embedded first, then allowed folders, then the hub cache. */
  async list(): Promise<ModelLocation[]> {
    const found: ModelLocation[] = [];
    for (const folder of await subfolders(this.embeddedDir)) {
      if (await isModelFolder(folder)) found.push({ id: basename(folder), folder, source: 'embedded' });
    }
    for (const root of this.allowed) {
      const folders = (await isModelFolder(root)) ? [root] : await subfolders(root);
      for (const folder of folders) {
        if (!found.some((m) => m.folder === folder) && await isModelFolder(folder)) found.push({ id: folder, folder, source: 'local' });
      }
    }
    if (this.hubDir !== null) {
      for (const dir of await subfolders(this.hubDir)) {
        const name = basename(dir);
        if (!name.startsWith('models--')) continue;
        const repoId = name.slice('models--'.length).split('--').join('/');
        const folder = await this.hubSnapshot(repoId);
        if (folder !== null) found.push({ id: repoId, folder, source: 'hub', repoId });
      }
    }
    return found;
  }

  /** The folder of a request's model name. Throws ApiError 404 (unknown) or 403 (a path outside the allowed folders). */
  async locate(name: string): Promise<ModelLocation> {
    if (typeof name !== 'string' || name === '') throw new ApiError('bad_request', 'model is required: a model id from /api/models or a folder path', 'model');
    if (!looksLikePath(name)) {
      const embedded = join(this.embeddedDir, name);
      if (!name.includes('/') && await isModelFolder(embedded)) return { id: name, folder: embedded, source: 'embedded' };
      const snapshot = /^[\w.-]+(\/[\w.-]+)?$/.test(name) ? await this.hubSnapshot(name) : null;
      if (snapshot !== null) return { id: name, folder: snapshot, source: 'hub', repoId: name };
      throw new ApiError('not_found', `unknown model '${name}': not an embedded model${this.hubDir === null ? '' : ' nor in the hub cache'} (GET /api/models lists them; the server never downloads)`, 'model');
    }
    const folder = resolve(name.startsWith('~') ? name.replace(/^~/, process.env.HOME ?? '~') : name);
    const real = await realpath(folder).catch(() => null);
    if (!(await this.isAllowed(real ?? folder))) {
      throw new ApiError('forbidden', `'${name}' is outside the folders this server may read (the embedded models, the start model, --allow folders and the hub cache)`, 'model');
    }
    if (real === null || !(await isDirectory(real)) || !(await isModelFolder(real))) {
      throw new ApiError('not_found', `no model folder at '${name}' (a folder with config.json and *.safetensors)`, 'model');
    }
    const listed = (await this.list()).find((m) => m.folder === folder || m.folder === real);
    return listed ?? { id: folder, folder, source: 'local' };
  }

  /** Facts about a model for the models endpoint, from its files only (nothing is loaded). */
  async describe(location: ModelLocation, loaded: boolean): Promise<ModelInfo> {
    const { folder } = location;
    let modelType: string | null = null;
    try {
      const raw = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as { model_type?: unknown };
      modelType = typeof raw.model_type === 'string' ? raw.model_type : null;
    } catch {
      modelType = null;
    }
    const files = await readdir(folder).catch(() => [] as string[]);
    let sizeBytes = 0;
    for (const file of files.filter((f) => f.endsWith('.safetensors') && f !== TUNED_LENS_FILE)) {
      sizeBytes += (await stat(join(folder, file)).catch(() => null))?.size ?? 0;
    }
    return {
      id: location.id,
      label: location.source === 'hub' ? location.id : basename(folder),
      source: location.source,
      modelType,
      sizeBytes,
      browserOk: sizeBytes <= BROWSER_MODEL_LIMIT_BYTES,
      hasTokenizer: files.includes('tokenizer.json'),
      hasTunedLens: files.includes(TUNED_LENS_FILE),
      loaded,
    };
  }

  private async isAllowed(path: string): Promise<boolean> {
    const roots = [this.embeddedDir, ...this.allowed, ...(this.hubDir === null ? [] : [this.hubDir])];
    for (const root of roots) {
      const realRoot = await realpath(root).catch(() => root);
      for (const base of new Set([root, realRoot])) {
        if (path === base || path.startsWith(base.endsWith(sep) ? base : base + sep)) return true;
      }
    }
    return false;
  }

  /** snapshots/<commit of refs/main> of a cached repo when it holds config.json, else null. */
  private async hubSnapshot(repoId: string): Promise<string | null> {
    if (this.hubDir === null) return null;
    const repoDir = join(this.hubDir, `models--${repoId.split('/').join('--')}`);
    const commit = (await readFile(join(repoDir, 'refs', 'main'), 'utf8').catch(() => '')).trim();
    if (!/^[0-9a-f]{40}$/.test(commit)) return null;
    const folder = join(repoDir, 'snapshots', commit);
    return (await isModelFolder(folder)) ? folder : null;
  }
}
