// HTTP with the hub's conventions. We follow redirects ourselves (fetch's `redirect: 'manual'`)
// so that the Authorization header is sent only to the host it was meant for: LFS files redirect
// to a storage host (a CDN, S3) that must never see the user's token.

import { IOError } from '../util/errors.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface RequestOptions {
  token?: string;
  /** The only origin that may receive the token (the hub endpoint); defaults to the first URL's origin. */
  tokenOrigin?: string;
  signal?: AbortSignal;
  fetch: FetchLike;
  headers?: Record<string, string>;
}

const MAX_REDIRECTS = 10;

/**
 * One request, following redirects. With `follow` 'relative' it stops at the first redirect whose
 * Location is an absolute URL (returning that 3xx), as huggingface_hub does for metadata: relative
 * ones are renamed repos, absolute ones point at the file storage. With 'all' it follows every hop,
 * sending the token only to `tokenOrigin`.
 */
export async function hubRequest(
  method: 'GET' | 'HEAD', url: string, options: RequestOptions, follow: 'relative' | 'all',
): Promise<{ response: Response; url: string }> {
  const tokenOrigin = options.tokenOrigin ?? new URL(url).origin;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = { 'accept-encoding': 'identity', ...options.headers };
    if (options.token && new URL(current).origin === tokenOrigin) headers.authorization = `Bearer ${options.token}`;
    const response = await fetchOrThrow(current, { method, headers, redirect: 'manual', signal: options.signal }, options.fetch);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) return { response, url: current };
    const absolute = /^[a-z][a-z\d+.-]*:|^\/\//i.test(location);
    if (follow === 'relative' && absolute) return { response, url: current };
    await response.body?.cancel();
    current = new URL(location, current).toString();
  }
  throw new IOError(`more than ${MAX_REDIRECTS} redirects starting from ${url}`);
}

/** fetch, with network failures (DNS, refused, reset) turned into IOError naming the URL; aborts pass through. */
async function fetchOrThrow(url: string, init: RequestInit, fetchImpl: FetchLike): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch (error) {
    if (init.signal?.aborted) throw init.signal.reason;
    throw new NetworkError(`cannot reach ${url}: ${describeFetchError(error)}`);
  }
}

/** A connection-level failure (as opposed to an HTTP error status): worth retrying, or falling back to the cache. */
export class NetworkError extends IOError {
  override name = 'NetworkError';
}

export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = (error as Error).message ?? String(error);
  return cause?.code ? `${message} (${cause.code})` : cause?.message ? `${message} (${cause.message})` : message;
}

/** An IOError for a failed hub response, with the hub's own explanation (x-error-message) when it sent one. */
export function httpError(response: Response, url: string, what: string, tokenSent: boolean): IOError {
  const hubMessage = response.headers.get('x-error-message');
  const detail = hubMessage ? `: ${hubMessage}` : '';
  if (response.status === 401 || response.status === 403) {
    const hint = tokenSent ? 'the token in HF_TOKEN was refused (no access to this repo, or the token is wrong)'
      : 'the repo is private or gated: set HF_TOKEN to a token with access';
    return new IOError(`${what}: HTTP ${response.status} from ${url}${detail}; ${hint}`);
  }
  if (response.status === 404) return new IOError(`${what}: not found (HTTP 404 from ${url})${detail}`);
  return new IOError(`${what}: HTTP ${response.status} ${response.statusText} from ${url}${detail}`);
}

export interface FileMetadata {
  /** The commit the revision resolved to (x-repo-commit). */
  commit: string;
  /** The blob's name in the cache: sha256 for LFS files, the git blob id for others. */
  etag: string;
  /** Expected size in bytes, when the hub said. */
  size: number | undefined;
  /** Where to GET the content (the storage URL for LFS files). */
  downloadUrl: string;
}

/**
 * HEAD a `resolve` URL: commit, etag and size without downloading (huggingface_hub's
 * get_hf_file_metadata). 'not-found' means the repo and revision exist but the file does not; a
 * missing repo or revision throws.
 */
export async function fetchFileMetadata(url: string, options: RequestOptions): Promise<FileMetadata | 'not-found'> {
  const { response, url: finalUrl } = await hubRequest('HEAD', url, options, 'relative');
  await response.body?.cancel();
  const errorCode = response.headers.get('x-error-code');
  if (response.status === 404 && (errorCode === null || errorCode === 'EntryNotFound')) return 'not-found';
  if (response.status >= 400) throw httpError(response, finalUrl, 'cannot get file metadata', Boolean(options.token));
  const header = (name: string) => response.headers.get(name);
  const commit = header('x-repo-commit');
  const etag = normalizeEtag(header('x-linked-etag') ?? header('etag'));
  if (!commit || !etag) {
    throw new IOError(`${finalUrl} did not send ${commit ? 'an ETag' : 'x-repo-commit'}: is HF_ENDPOINT a Hugging Face hub?`);
  }
  if (!/^[\w.-]+$/.test(etag) || etag === '.' || etag === '..') throw new IOError(`${finalUrl} sent an ETag unfit for a file name: ${etag}`);
  const sizeText = header('x-linked-size') ?? header('content-length');
  const size = sizeText !== null && /^\d+$/.test(sizeText) ? Number(sizeText) : undefined;
  const location = header('location');
  const downloadUrl = response.status >= 300 && location ? new URL(location, finalUrl).toString() : finalUrl;
  return { commit, etag, size, downloadUrl };
}

/** Strip W/ and quotes: `W/"abc"` → `abc`. */
function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1') || undefined;
}

export function isSha256(etag: string): boolean {
  return /^[0-9a-f]{64}$/.test(etag);
}
