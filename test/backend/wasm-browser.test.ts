// The wasm backend in a real browser: headless Chromium opens a cross-origin-isolated page whose
// module Web Worker starts the backend with initWasmBackend (fetching kernels.wasm, nested kernel
// workers, shared memory) and checks a matmul and an exp against plain JS. Skipped where no
// Chromium is installed (Debian: apt-get install chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

function findChromium(): string | null {
  for (const candidate of [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome']) {
    if (candidate && spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

const PAGE = `<!doctype html><script type="module">
const worker = new Worker('/check-worker.js', { type: 'module' });
const report = (result) => fetch('/result', { method: 'POST', body: JSON.stringify(result) });
worker.onmessage = (event) => report(event.data);
worker.onerror = (event) => report({ error: String(event.message) });
</script>`;

const WORKER = `import { initWasmBackend } from '/src/backend/wasm/index.js';
try {
  const backend = await initWasmBackend(new URL('/src/backend/wasm/kernels.wasm', location.href), { threads: 2 });
  const [m, k, n] = [33, 70, 65];
  const a = backend.alloc('float32', m * k), b = backend.alloc('float32', k * n), c = backend.alloc('float32', m * n);
  a.data.forEach((_, i, data) => (data[i] = Math.sin(i)));
  b.data.forEach((_, i, data) => (data[i] = Math.cos(i)));
  backend.matmul({ storage: a, offset: 0, batchStride: 0, rowStride: k, colStride: 1 },
    { storage: b, offset: 0, batchStride: 0, rowStride: 1, colStride: k }, 1, m, k, n, c, false);
  let matmulError = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let p = 0; p < k; p++) sum += a.data[i * k + p] * b.data[j * k + p];
    matmulError = Math.max(matmulError, Math.abs(sum - c.data[i * n + j]));
  }
  const size = 1 << 18;
  const x = backend.alloc('float32', size), y = backend.alloc('float32', size);
  x.data.forEach((_, i, data) => (data[i] = (i % 200) / 20 - 5));
  backend.unary('exp', { storage: x, offset: 0, shape: [size], strides: [1] }, y);
  let expError = 0;
  for (let i = 0; i < size; i++) expError = Math.max(expError, Math.abs(y.data[i] / Math.exp(x.data[i]) - 1));
  self.postMessage({ isolated: self.crossOriginIsolated, threads: backend.threads, matmulError, expError });
} catch (err) {
  self.postMessage({ error: String(err && err.stack || err) });
}`;

interface BrowserResult {
  error?: string;
  isolated?: boolean;
  threads?: number;
  matmulError?: number;
  expError?: number;
}

/** Serves dist/ plus the page, with the headers that make the page cross-origin isolated. */
function startServer(distRoot: string, onResult: (result: BrowserResult) => void): Promise<http.Server> {
  const types: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.wasm': 'application/wasm' };
  const server = http.createServer((request, response) => {
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method === 'POST') {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        response.end();
        onResult(JSON.parse(body) as BrowserResult);
      });
      return;
    }
    const inline: Record<string, string> = { '/page.html': PAGE, '/check-worker.js': WORKER };
    const send = (status: number, type: string, body: string | Buffer): void => {
      response.writeHead(status, { ...headers, 'Content-Type': type });
      response.end(body);
    };
    if (inline[path]) return send(200, types[extname(path)], inline[path]);
    const file = normalize(join(distRoot, path));
    if (!file.startsWith(distRoot)) return send(403, 'text/plain', 'outside dist');
    readFile(file).then((data) => send(200, types[extname(file)] ?? 'application/octet-stream', data),
      () => send(404, 'text/plain', 'not found'));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const chromium = findChromium();

test('the wasm backend runs with 2 threads in a browser worker', { skip: chromium ? false : 'no Chromium installed', timeout: 60_000 }, async () => {
  const distRoot = fileURLToPath(new URL('../../', import.meta.url));
  let resolveResult: (result: BrowserResult) => void = () => {};
  const resultPromise = new Promise<BrowserResult>((resolve) => (resolveResult = resolve));
  const server = await startServer(distRoot, (result) => resolveResult(result));
  const port = (server.address() as AddressInfo).port;
  const profile = mkdtempSync(join(tmpdir(), 'dissect-chromium-'));
  const browser = spawn(chromium as string, ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--no-first-run', `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/page.html`],
  { stdio: 'ignore' });
  try {
    const timeout = new Promise<BrowserResult>((resolve) =>
      setTimeout(() => resolve({ error: 'no result from the browser within 45 s' }), 45_000).unref());
    const result = await Promise.race([resultPromise, timeout]);
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.isolated, true);
    assert.equal(result.threads, 2);
    assert.ok((result.matmulError as number) < 1e-4, `matmul error ${result.matmulError}`);
    assert.ok((result.expError as number) < 1e-6, `exp error ${result.expError}`);
  } finally {
    const exited = browser.exitCode !== null ? Promise.resolve() : once(browser, 'exit');
    browser.kill();
    await exited;
    server.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  }
});
