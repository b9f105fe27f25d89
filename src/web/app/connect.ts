// Which transport answers the UI, and which models it offers. As a static site (`dissect
// build-web`) the page finds models/index.json and runs them in its worker; served by `dissect
// serve`, it finds GET api/models instead and runs models on the server. ?mode=browser|server forces one,
// ?server=URL points at a server elsewhere, ?threads=N sets the worker's kernel threads.

import type { ModelId, ModelInfo, ModelsResponse } from '../../api/protocol.js';
import type { DissectClient } from '../client/client.js';
import { HttpClient } from '../client/http-client.js';
import { WorkerClient } from '../client/worker-client.js';
import { SITE_MANIFEST, type ModelOrigin, type SiteManifest } from '../protocol.js';
import { BROWSER_WEIGHT_LIMIT_BYTES } from './limits.js';

/** A model the picker offers, and where its files are when it runs in this browser. */
export interface ModelChoice {
  id: ModelId;
  label: string;
  source: ModelInfo['source'] | 'server';
  sizeBytes: number;
  /** Small enough for this browser (always true for models the server runs). */
  fits: boolean;
  origin: ModelOrigin | null;
}

export interface Connection {
  client: DissectClient;
  choices: ModelChoice[];
  defaultModel: ModelId | null;
  /** SAE dashboards shipped with a static site (folder URL), else null. */
  dashboards: string | null;
}

export function pageParams(): URLSearchParams {
  return new URLSearchParams(location.search);
}

async function getJson<T>(url: URL): Promise<T | null> {
  try {
    const response = await fetch(url, { headers: { Accept: 'application/json' } });
    if (!response.ok || !(response.headers.get('Content-Type') ?? '').includes('json')) return null;
    return await response.json() as T;
  } catch {
    return null;
  }
}

async function serverConnection(apiBase: URL): Promise<Connection | null> {
  const listing = await getJson<ModelsResponse>(new URL('models', apiBase));
  if (!listing || !Array.isArray(listing.models)) return null;
  return {
    client: new HttpClient(apiBase.href),
    choices: listing.models.map((m) => ({ id: m.id, label: m.label, source: 'server', sizeBytes: m.sizeBytes, fits: true, origin: null })),
    defaultModel: listing.defaultModel,
    dashboards: null,
  };
}

async function browserConnection(manifest: SiteManifest | null): Promise<Connection> {
  const threads = Number(pageParams().get('threads'));
  const client = await WorkerClient.start(Number.isInteger(threads) && threads >= 1 ? threads : undefined);
  const choices: ModelChoice[] = (manifest?.models ?? []).map((m) => ({
    id: m.id, label: m.label, source: 'embedded', sizeBytes: m.sizeBytes, fits: m.sizeBytes <= BROWSER_WEIGHT_LIMIT_BYTES,
    origin: { kind: 'url', url: new URL(m.path.endsWith('/') ? m.path : `${m.path}/`, document.baseURI).href },
  }));
  return { client, choices, defaultModel: manifest?.defaultModel ?? choices[0]?.id ?? null, dashboards: manifest?.dashboards ?? null };
}

export async function connect(): Promise<Connection> {
  const params = pageParams();
  const mode = params.get('mode');
  // A static site (dissect build-web) lists its models; `dissect serve` answers api/models instead.
  const manifest = mode === 'server' ? null : await getJson<SiteManifest>(new URL(SITE_MANIFEST, document.baseURI));
  if (mode !== 'browser' && !(manifest && !params.get('server'))) {
    const server = params.get('server');
    const apiBase = new URL(server ? `${server.replace(/\/$/, '')}/api/` : 'api/', document.baseURI);
    const connection = await serverConnection(apiBase);
    if (connection) return connection;
    if (mode === 'server') throw new Error(`no dissect server answers at ${apiBase.href}models (start one with \`dissect serve\`)`);
  }
  return browserConnection(manifest);
}
