// Files the server sends as they are: the built web UI (dist/web), with index.html for the page's
// own routes, and a model's raw files (GET /api/file) for a browser that runs the model itself.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { ApiError, MODEL_FILES } from '../api/index.js';
import type { ModelCatalog } from './model-catalog.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

/** The page served when dist/web has not been built. */
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dissect</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>dissect</h1>
<p>The web UI is not built (no <code>dist/web/</code> in the package). Build it with <code>npm run build</code>.</p>
<p>The JSON API works: e.g. <code>curl http://HOST/api/models</code>, or
<code>curl -H 'Content-Type: application/json' -d '{"model":"world-4l","text":"The capital of France is"}' http://HOST/api/run</code>.</p>
</body></html>
`;

/**
 * Headers every response of the UI gets. Cross-origin isolation lets the page's worker use
 * SharedArrayBuffer (the wasm backend's threads need it).
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'X-Content-Type-Options': 'nosniff',
};

async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, size: number, headers: Record<string, string> = {}): Promise<void> {
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': size,
    ...PAGE_HEADERS,
    ...headers,
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((resolveDone) => {
    const file = createReadStream(path);
    file.on('error', () => {
      res.destroy();
      resolveDone();
    });
    file.on('end', resolveDone);
    res.on('close', () => {
      file.destroy();
      resolveDone();
    });
    file.pipe(res);
  });
}

async function fileSize(path: string): Promise<number | null> {
  const info = await stat(path).catch(() => null);
  return info?.isFile() ? info.size : null;
}

/** GET of the UI: a file under webDir, index.html for '/' and for paths without an extension (the page's routes). */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string, webDir: string | null): Promise<void> {
  if (webDir === null || (await fileSize(join(webDir, 'index.html'))) === null) {
    if (pathname !== '/' && pathname !== '/index.html') throw new ApiError('not_found', `no file '${pathname}' (the web UI is not built)`);
    const body = NOT_BUILT_PAGE.replaceAll('HOST', req.headers.host ?? '127.0.0.1:7860');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...PAGE_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    throw new ApiError('bad_request', `'${pathname}' is not a valid URL path`);
  }
  const root = resolve(webDir);
  const path = resolve(root, `.${relative}`);
  if (relative.includes('\0') || (path !== root && !path.startsWith(root + sep))) throw new ApiError('forbidden', `'${pathname}' is outside the web folder`);
  const direct = path === root ? null : await fileSize(path);
  if (direct !== null) {
    await sendFile(req, res, path, direct);
    return;
  }
  if (path !== root && extname(path) !== '') throw new ApiError('not_found', `no file '${pathname}'`);
  const index = join(root, 'index.html');
  await sendFile(req, res, index, (await fileSize(index)) as number, { 'Cache-Control': 'no-cache' });
}

/** GET /api/file?model=ID&file=NAME: one of MODEL_FILES from a model the catalog allows. */
export async function serveModelFile(req: IncomingMessage, res: ServerResponse, url: URL, catalog: ModelCatalog): Promise<void> {
  const model = url.searchParams.get('model') ?? '';
  const file = url.searchParams.get('file') ?? '';
  if (!(MODEL_FILES as readonly string[]).includes(file)) {
    throw new ApiError('bad_request', `file must be one of ${MODEL_FILES.join(', ')}; got '${file}'`, 'file');
  }
  const location = await catalog.locate(model);
  const path = join(location.folder, file);
  const size = await fileSize(path);
  if (size === null) throw new ApiError('not_found', `model '${location.id}' has no ${file}`, 'file');
  await sendFile(req, res, path, size, { 'Cache-Control': 'no-cache' });
}
