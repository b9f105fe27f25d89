// Helpers for the browser tests: a static file server (optionally with the COOP/COEP headers that
// make a page cross-origin isolated, so SharedArrayBuffer and the kernels' threads are available)
// and Debian's Chromium driven by playwright-core (which never downloads a browser of its own).

import { spawnSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { Browser } from 'playwright-core';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.wasm': 'application/wasm', '.map': 'application/json', '.md': 'text/markdown', '.png': 'image/png',
};

export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `root` on 127.0.0.1 (GET and HEAD); `isolated` adds Cross-Origin-Opener/Embedder-Policy. */
export async function startStaticServer(root: string, isolated = true): Promise<StaticServer> {
  const base = normalize(root + sep);
  const server = http.createServer((request, response) => {
    const headers: Record<string, string> = isolated
      ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
      : {};
    let path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(base, path));
    const fail = (status: number, text: string) => {
      response.writeHead(status, { ...headers, 'Content-Type': 'text/plain' });
      response.end(text);
    };
    if (!file.startsWith(base)) return fail(403, 'outside the site');
    stat(file).then(async (info) => {
      if (!info.isFile()) return fail(404, 'not found');
      response.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': String(info.size) });
      response.end(request.method === 'HEAD' ? undefined : await readFile(file));
    }, () => fail(404, 'not found'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The Chromium to drive: $CHROMIUM, else Debian's /usr/bin/chromium, else null (tests skip). */
export function findChromium(): string | null {
  for (const candidate of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (candidate && spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}
