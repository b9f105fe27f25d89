// POST /api/<endpoint>: read a bounded JSON body, run the handler with an AbortSignal tied to the
// connection, and answer with JSON — or, when the client asks for NDJSON, with progress lines and
// then the result. Every failure becomes the protocol's {error: {type, message}} with its status.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, ENDPOINTS, handle, isEndpoint, toApiError, type ApiSession, type Progress } from '../api/index.js';

const NDJSON = 'application/x-ndjson';

/** Sends a JSON value with a status (and whatever extra headers). */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, err: ApiError, headers: Record<string, string> = {}): void {
  sendJson(res, err.status, err.toBody(), headers);
}

/**
 * The request body as parsed JSON ({} when empty). A body over `maxBytes` is a 413: the rest is
 * drained (up to a cap) so the client can read the answer, then the connection closes.
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new ApiError('too_large', `the request body is larger than the limit of ${maxBytes} bytes`);
    const declared = Number(req.headers['content-length'] ?? NaN);
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (err: ApiError) => {
      if (failed) return;
      failed = true;
      chunks.length = 0;
      reject(err);
    };
    if (Number.isFinite(declared) && declared > maxBytes) fail(tooLarge());
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (failed) {
        if (size > 64 * maxBytes) req.destroy(); // a client that keeps sending after the 413
        return;
      }
      if (size > maxBytes) fail(tooLarge());
      else chunks.push(chunk);
    });
    req.on('error', () => fail(new ApiError('aborted', 'the request body was cut off')));
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        resolve({});
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        fail(new ApiError('bad_request', `the request body is not valid JSON: ${(err as Error).message}`));
      }
    });
  });
}

function wantsStream(req: IncomingMessage, url: URL): boolean {
  const flag = url.searchParams.get('stream');
  return (req.headers.accept ?? '').includes(NDJSON) || flag === '1' || flag === 'true';
}

function checkContentType(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  // Requiring JSON also makes a cross-site form or text/plain POST (no CORS preflight) fail before any work.
  if (type !== 'application/json') {
    throw new ApiError('unsupported_media_type', `send the request body as JSON with Content-Type: application/json (got ${type === '' ? 'none' : `'${type}'`})`);
  }
}

/** Answers one API request; never rejects (failures are answered). */
export async function serveApi(req: IncomingMessage, res: ServerResponse, url: URL, name: string, session: ApiSession): Promise<void> {
  const controller = new AbortController();
  // 'close' before the response finished: the client left (or the socket broke). Stop the work.
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new ApiError('aborted', 'the client closed the connection'));
  });
  const stream = wantsStream(req, url);
  let started = false;
  const writeLine = (status: number, line: unknown) => {
    if (res.destroyed) return;
    if (!started) {
      started = true;
      res.writeHead(status, { 'Content-Type': `${NDJSON}; charset=utf-8`, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    }
    res.write(`${JSON.stringify(line)}\n`);
  };
  try {
    if (!isEndpoint(name)) throw new ApiError('not_found', `no endpoint '${name}'; endpoints: ${ENDPOINTS.join(', ')}`);
    let body: unknown = {};
    if (req.method === 'POST') {
      checkContentType(req);
      body = await readJsonBody(req, session.limits.maxBodyBytes);
    } else if (name !== 'models') {
      throw new ApiError('method_not_allowed', `${req.method} /api/${name}: use POST with a JSON body`);
    }
    const onProgress = stream ? (progress: Progress) => writeLine(200, { progress }) : undefined;
    const result = await handle(session, name, body, { signal: controller.signal, onProgress });
    if (stream) {
      writeLine(200, { result });
      res.end();
    } else {
      sendJson(res, 200, result);
    }
  } catch (caught) {
    const err = toApiError(caught);
    if (res.destroyed || err.type === 'aborted') {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    if (err.type === 'method_not_allowed') headers.Allow = name === 'models' ? 'GET, POST' : 'POST';
    if (err.type === 'too_large') headers.Connection = 'close';
    if (stream) {
      writeLine(err.status, err.toBody());
      res.end();
    } else {
      sendError(res, err, headers);
    }
  }
}
