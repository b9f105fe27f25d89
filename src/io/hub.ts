// Resolving model files from the Hugging Face hub into the shared cache (see hub-cache.ts for the
// layout). Environment variables as huggingface_hub reads them: HF_ENDPOINT, HF_TOKEN,
// HF_HUB_OFFLINE, HF_HUB_CACHE / HF_HOME. Node only.

import { ArgumentError, IOError } from '../util/errors.js';
import { notice } from '../util/log.js';
import { checkRepoFile, checkRevision, hubCacheDir, isCommitHash, RepoCache } from './hub-cache.js';
import { downloadBlob } from './hub-download.js';
import { fetchFileMetadata, NetworkError, type FetchLike, type FileMetadata, type RequestOptions } from './hub-http.js';

export interface ResolveOptions {
  /** Branch, tag or commit hash. Default 'main'. */
  revision?: string;
  /** Files that must exist in the repo. */
  files: string[];
  /** Files to fetch when the repo has them (tokenizer_config.json, a shard index...). */
  optionalFiles?: string[];
  /** Called as bytes arrive: bytes so far and the total (when known) of `file`. */
  onProgress?: (bytes: number, total: number | undefined, file: string) => void;
  /** Cancels cleanly: rejects with the signal's reason and leaves a resumable `.incomplete` blob. */
  signal?: AbortSignal;
  /** Overrides for the environment variables (mostly for tests and embedding). */
  cacheDir?: string;
  endpoint?: string;
  /** A token, or false to send none even when HF_TOKEN is set. */
  token?: string | false;
  offline?: boolean;
  fetch?: FetchLike;
  /** Attempts after a dropped connection, each resuming with a Range request. Default 5. */
  maxRetries?: number;
  retryDelayMs?: number;
  /** Drop and resume a transfer that receives nothing for this long. Default 30 s. */
  stallTimeoutMs?: number;
}

export interface ResolvedFiles {
  repoId: string;
  revision: string;
  commit: string;
  /** snapshots/<commit>: the folder that holds the files, laid out as in the repo. */
  snapshotDir: string;
  /** Repo file name → local path, for every required file and each optional file the repo has. */
  files: Record<string, string>;
  /** Optional files the repo does not have. */
  missing: string[];
}

function envFlag(value: string | undefined): boolean {
  return ['1', 'true', 'yes', 'on'].includes((value ?? '').toLowerCase());
}

interface Settings {
  cache: RepoCache;
  endpoint: string;
  token: string | undefined;
  offline: boolean;
  request: RequestOptions;
}

function settingsFor(repoId: string, options: ResolveOptions): Settings {
  const env = process.env;
  const endpoint = (options.endpoint ?? env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(endpoint)) throw new ArgumentError(`hub endpoint ${JSON.stringify(endpoint)} must be an http(s) URL`);
  const token = options.token === false ? undefined : options.token ?? (env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined);
  return {
    cache: new RepoCache(options.cacheDir ?? hubCacheDir(env), repoId),
    endpoint,
    token,
    offline: options.offline ?? envFlag(env.HF_HUB_OFFLINE),
    request: { token, tokenOrigin: new URL(endpoint).origin, signal: options.signal, fetch: options.fetch ?? fetch },
  };
}

/** Downloads in flight in this process, by blob path: two callers wanting one blob share one download. */
const inFlight = new Map<string, Promise<void>>();

/**
 * Local paths of `files` from `repoId` at `revision`, downloading what the cache lacks. A commit
 * hash revision already in the cache needs no network; a branch is checked against the hub (one
 * HEAD per file) unless offline, when the cached refs/<branch> is trusted. If the hub cannot be
 * reached, a complete cached snapshot of the branch is used with a notice.
 */
export async function resolveModelFiles(repoId: string, options: ResolveOptions): Promise<ResolvedFiles> {
  const revision = options.revision ?? 'main';
  checkRevision(revision);
  const required = [...options.files];
  const optional = (options.optionalFiles ?? []).filter((f) => !required.includes(f));
  for (const file of [...required, ...optional]) checkRepoFile(file);
  const settings = settingsFor(repoId, options);

  if (settings.offline || isCommitHash(revision)) {
    const cached = await fromCache(settings.cache, revision, required, optional);
    if (cached) return cached;
    if (settings.offline) {
      throw new IOError(`offline (HF_HUB_OFFLINE): ${repoId}@${revision} is not fully cached in ${settings.cache.dir}; ` +
        `need ${[...required, ...optional].join(', ')}`);
    }
  }
  try {
    return await fromHub(settings, repoId, revision, required, optional, options);
  } catch (error) {
    if (!(error instanceof NetworkError) || options.signal?.aborted) throw error;
    const cached = await fromCache(settings.cache, revision, required, optional);
    if (!cached) throw error;
    notice(`cannot reach ${settings.endpoint} (${error.message}); using cached ${repoId}@${cached.commit.slice(0, 12)}`);
    return cached;
  }
}

/** The cached snapshot when it holds every required file and knows about every optional one. */
async function fromCache(cache: RepoCache, revision: string, required: string[], optional: string[]): Promise<ResolvedFiles | undefined> {
  const commit = isCommitHash(revision) ? revision : await cache.readRef(revision);
  if (!commit) return undefined;
  const files: Record<string, string> = {};
  const missing: string[] = [];
  for (const file of [...required, ...optional]) {
    const path = await cache.cachedFile(commit, file);
    if (path) files[file] = path;
    else if (optional.includes(file) && (await cache.isKnownMissing(commit, file))) missing.push(file);
    else return undefined;
  }
  return { repoId: cache.repoId, revision, commit, snapshotDir: cache.snapshotDir(commit), files, missing };
}

async function fromHub(
  settings: Settings, repoId: string, revision: string, required: string[], optional: string[], options: ResolveOptions,
): Promise<ResolvedFiles> {
  const { cache, endpoint, request } = settings;
  let commit: string | undefined;
  const files: Record<string, string> = {};
  const missing: string[] = [];
  for (const file of [...required, ...optional]) {
    // After the first file, ask for the commit itself, so a push mid-way cannot mix two versions.
    const url = `${endpoint}/${repoId}/resolve/${encodeURIComponent(commit ?? revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
    const metadata = await fetchFileMetadata(url, request);
    if (metadata === 'not-found') {
      if (required.includes(file)) {
        throw new IOError(`${repoId}@${revision} has no file '${file}' (HTTP 404 from ${url}); check the repo id, revision and file name`);
      }
      if (commit) await cache.markMissing(commit, file);
      missing.push(file);
      continue;
    }
    commit ??= metadata.commit;
    files[file] = await fetchIntoCache(cache, commit, file, metadata, request, options);
  }
  if (!commit) throw new IOError(`${repoId}@${revision}: none of the requested files exist`);
  if (!isCommitHash(revision)) await cache.writeRef(revision, commit);
  return { repoId, revision, commit, snapshotDir: cache.snapshotDir(commit), files, missing };
}

async function fetchIntoCache(
  cache: RepoCache, commit: string, file: string, metadata: FileMetadata,
  request: RequestOptions, options: ResolveOptions,
): Promise<string> {
  const cached = await cache.cachedFile(commit, file);
  if (cached && (await cache.hasBlob(metadata.etag))) return cached;
  if (!(await cache.hasBlob(metadata.etag))) {
    const blobPath = cache.blobPath(metadata.etag);
    let pending = inFlight.get(blobPath);
    if (!pending) {
      pending = downloadBlob({
        url: metadata.downloadUrl, request, blobPath, etag: metadata.etag, expectedSize: metadata.size,
        label: `${cache.repoId}/${file}`, maxRetries: options.maxRetries ?? 5, retryDelayMs: options.retryDelayMs ?? 200,
        stallTimeoutMs: options.stallTimeoutMs ?? 30_000,
        onProgress: options.onProgress && ((bytes, total) => options.onProgress?.(bytes, total, file)),
      }).finally(() => inFlight.delete(blobPath));
      inFlight.set(blobPath, pending);
    }
    await pending;
  }
  return cache.linkSnapshot(commit, file, metadata.etag);
}

export { hubCacheDir, isCommitHash, RepoCache } from './hub-cache.js';
export type { FetchLike } from './hub-http.js';
