// Talking to a test server over real HTTP on 127.0.0.1: JSON posts, NDJSON streams, raw requests
// with chosen headers.

import { request as httpRequest } from 'node:http';
import { serve, type ServeOptions } from '../../src/server/index.js';

export type TestServer = Awaited<ReturnType<typeof serve>>;

/** A server on an ephemeral port with no hub cache and no UI unless asked. */
export function startTestServer(options: ServeOptions = {}): Promise<TestServer> {
  return serve({ port: 0, hubCacheDir: null, webDir: null, ...options });
}

export interface JsonReply {
  status: number;
  body: unknown;
  headers: Headers;
}

export async function postJson(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonReply> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), headers: response.headers };
}

/** POST asking for NDJSON: the status and every line, parsed. */
export async function postStream(base: string, path: string, body: unknown): Promise<{ status: number; lines: Record<string, unknown>[] }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/x-ndjson' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, lines: text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** A request with exactly these headers (fetch will not send a foreign Host). */
export function rawRequest(base: string, options: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer }):
  Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: options.method, path: options.path, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
