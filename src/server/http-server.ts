// The `dissect serve` HTTP server: the JSON API under /api/ (api-route.ts), model files for the
// browser (/api/file), and the static web UI for everything else. Loopback by default; on a
// loopback address it also refuses requests whose Host header is not a loopback name, so a web
// page elsewhere cannot reach it through DNS rebinding.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, toApiError } from '../api/index.js';
import { sendError, serveApi } from './api-route.js';
import type { ApiSession } from '../api/index.js';
import type { ModelCatalog } from './model-catalog.js';
import { serveModelFile, serveStatic } from './static-files.js';

export interface ServerOptions {
  /** Answers the API (a ModelRegistry, or any ApiSession). */
  session: ApiSession;
  /** Where /api/file finds model files; without one, /api/file is a 404. */
  catalog?: ModelCatalog;
  /** The built web UI (index.html and assets), or null when there is none. */
  webDir: string | null;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 7860; 0 picks a free port. */
  port?: number;
}

export interface RunningServer {
  readonly server: Server;
  /** http://host:port, with the port actually bound. */
  readonly url: string;
  /** Stops accepting connections and ends open ones (the session's models are the caller's). */
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}

/** The Host header without its port. */
function hostName(header: string | undefined): string {
  if (header === undefined) return '';
  return header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0];
}

async function route(req: IncomingMessage, res: ServerResponse, options: ServerOptions, bindHost: string): Promise<void> {
  if (isLoopback(bindHost) && !isLoopback(hostName(req.headers.host).toLowerCase())) {
    throw new ApiError('forbidden', `this server answers requests for localhost only (Host: ${req.headers.host ?? 'none'})`);
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const { pathname } = url;
  if (pathname === '/api/file') {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError('method_not_allowed', 'GET /api/file?model=ID&file=NAME');
    if (options.catalog === undefined) throw new ApiError('not_found', 'this server serves no model files');
    await serveModelFile(req, res, url, options.catalog);
    return;
  }
  if (pathname.startsWith('/api/')) {
    await serveApi(req, res, url, pathname.slice('/api/'.length), options.session);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError('method_not_allowed', `${req.method} ${pathname}: the UI is read with GET`);
  await serveStatic(req, res, pathname, options.webDir);
}

/** An http.Server answering dissect's routes (not listening yet). */
export function createDissectServer(options: ServerOptions): Server {
  const bindHost = options.host ?? '127.0.0.1';
  return createServer((req, res) => {
    route(req, res, options, bindHost).catch((caught: unknown) => {
      const err = toApiError(caught);
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      sendError(res, err, err.type === 'method_not_allowed' ? { Allow: 'GET, HEAD' } : {});
    });
  });
}

/** Listens on host:port and resolves once bound. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createDissectServer(options);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 7860, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shownHost}:${port}`,
    close: () => new Promise<void>((resolveClose) => {
      server.close(() => resolveClose());
      server.closeAllConnections();
    }),
  };
}
