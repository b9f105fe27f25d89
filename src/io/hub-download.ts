// Downloading one blob into the cache: stream into `<blob>.incomplete`, resume it with a Range
// request after a dropped connection (or in a later run), verify size and sha256, and only then
// rename it to its final name. An abort or a failure leaves at most the .incomplete file.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { IOError } from '../util/errors.js';
import { describeFetchError, hubRequest, httpError, isSha256, NetworkError, type RequestOptions } from './hub-http.js';

export interface BlobDownload {
  /** Where the content is (the storage URL for LFS files). */
  url: string;
  request: RequestOptions;
  blobPath: string;
  /** The blob's etag: when it is a sha256 (LFS), the content is checked against it. */
  etag: string;
  expectedSize: number | undefined;
  /** Names the file in messages. */
  label: string;
  onProgress?: (bytes: number, total: number | undefined) => void;
  /** Further attempts after a dropped connection or a 5xx; each resumes where the last stopped. */
  maxRetries: number;
  retryDelayMs: number;
  /** A transfer that receives nothing for this long is dropped and resumed, like a cut connection. */
  stallTimeoutMs: number;
}

/** A failure worth another attempt: the connection dropped, or the server had a transient error. */
class RetryableError extends NetworkError {}

export async function downloadBlob(download: BlobDownload): Promise<void> {
  const incomplete = `${download.blobPath}.incomplete`;
  const signal = download.request.signal;
  await mkdir(dirname(download.blobPath), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await downloadOnce(download, incomplete);
      break;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!(error instanceof NetworkError) || attempt >= download.maxRetries) throw error;
      await sleep(download.retryDelayMs * (attempt + 1), undefined, { signal }).catch(() => {
        throw signal?.reason;
      });
    }
  }
  await verify(download, incomplete);
  await rename(incomplete, download.blobPath);
}

async function sizeOf(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.size ?? 0;
}

/** One GET, appending to what `.incomplete` already holds when the server honours Range. */
async function downloadOnce(download: BlobDownload, incomplete: string): Promise<void> {
  const { expectedSize, request, label } = download;
  let have = await sizeOf(incomplete);
  if (expectedSize !== undefined && have > expectedSize) {
    await truncate(incomplete, 0);
    have = 0;
  }
  if (expectedSize !== undefined && have === expectedSize) return;
  const watchdog = new StallWatchdog(download.stallTimeoutMs, request.signal);
  let done = 0;
  try {
    const headers = have > 0 ? { range: `bytes=${have}-` } : undefined;
    const { response, url } = await hubRequest('GET', download.url, { ...request, headers, signal: watchdog.signal }, 'all');
    const problem = await refuseResponse(response, url, have, download, incomplete);
    if (problem) throw problem;
    const resumed = response.status === 206;
    done = resumed ? have : 0;
    const handle = await open(incomplete, resumed ? 'a' : 'w');
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        watchdog.alive();
        await handle.write(chunk);
        done += chunk.byteLength;
        download.onProgress?.(done, expectedSize);
      }
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason;
    if (watchdog.stalled) throw new RetryableError(`${label}: no data for ${download.stallTimeoutMs} ms after ${done} bytes`);
    if (error instanceof IOError) throw error;
    throw new RetryableError(`${label}: connection lost after ${done} bytes (${describeFetchError(error)})`);
  } finally {
    watchdog.stop();
  }
  if (expectedSize !== undefined && done < expectedSize) {
    throw new RetryableError(`${label}: connection closed after ${done} of ${expectedSize} bytes`);
  }
}

/** Why a GET's response cannot be used (undefined when it can); resets the partial file where it no longer fits. */
async function refuseResponse(response: Response, url: string, have: number, download: BlobDownload, incomplete: string): Promise<IOError | undefined> {
  const { label, request } = download;
  if (response.ok && response.body && (response.status !== 206 || contentRangeStart(response) === have)) return undefined;
  await response.body?.cancel();
  if (response.status === 416 || response.status === 206) {
    // Our partial file does not fit what the server sends: start over.
    await truncate(incomplete, 0);
    return new RetryableError(`${label}: server could not resume at byte ${have} (HTTP ${response.status})`);
  }
  if (response.status >= 500) return new RetryableError(httpError(response, url, `downloading ${label}`, false).message);
  return httpError(response, url, `downloading ${label}`, Boolean(request.token));
}

/** Aborts the request when no data arrives for `timeoutMs`, or when the caller's signal aborts. */
class StallWatchdog {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  stalled = false;
  private readonly forwardAbort = () => this.controller.abort(this.outer?.reason);

  constructor(private readonly timeoutMs: number, private readonly outer: AbortSignal | undefined) {
    outer?.addEventListener('abort', this.forwardAbort, { once: true });
    this.alive();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  alive(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stalled = true;
      this.controller.abort(new Error('stalled'));
    }, this.timeoutMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.forwardAbort);
  }
}

function contentRangeStart(response: Response): number | undefined {
  const match = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : undefined;
}

/** Size and (for LFS) sha256 must match before the blob gets its final name; a bad file is deleted. */
async function verify(download: BlobDownload, incomplete: string): Promise<void> {
  const size = await sizeOf(incomplete);
  if (download.expectedSize !== undefined && size !== download.expectedSize) {
    await rm(incomplete, { force: true });
    throw new IOError(`${download.label}: downloaded ${size} bytes but the hub announced ${download.expectedSize}; deleted the partial file`);
  }
  if (!isSha256(download.etag)) return;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(incomplete)) hash.update(chunk as Buffer);
  const actual = hash.digest('hex');
  if (actual !== download.etag) {
    await rm(incomplete, { force: true });
    throw new IOError(`${download.label}: sha256 of the download is ${actual} but the hub announced ${download.etag} ` +
      `(corrupted in transit or changed on the server); deleted it, nothing was cached`);
  }
}
