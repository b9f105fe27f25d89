// Messages between the page and the model worker (src/web/worker.ts). The API's own requests and
// responses (src/api/protocol.ts) travel inside them unchanged; what is added here is opening a
// model from browser-side files, progress and cancellation by call id.

import type { ApiErrorBody, EndpointName, ModelId, Progress } from '../api/protocol.js';

/** Where the worker reads a model folder from. File and directory handles survive postMessage. */
export type ModelOrigin =
  /** A folder on a web server (absolute URL): the organisms shipped with the static site, or any host. */
  | { kind: 'url'; url: string }
  /** A model of `dissect serve`, fetched through GET <apiBase>file to run in this browser. */
  | { kind: 'server'; modelId: ModelId; apiBase: string }
  /** A Hugging Face hub repo (needs the network). */
  | { kind: 'hub'; repoId: string; revision?: string }
  /** The files of a folder picked with <input type=file webkitdirectory>. */
  | { kind: 'files'; name: string; files: File[] }
  /** A folder picked with the File System Access API (showDirectoryPicker). */
  | { kind: 'directory'; handle: FileSystemDirectoryHandle };

/** Loading a model: the config, the download of its weights (bytes), then building it (tensors). */
export interface LoadProgress extends Progress {
  stage: 'config' | 'download' | 'weights';
}

/** What the worker reports once its backend is up. */
export interface WorkerReady {
  threads: number;
  crossOriginIsolated: boolean;
}

export type ToWorker =
  /** The first message: how many kernel threads to start (default: the cores, up to 8). */
  | { type: 'init'; threads?: number }
  | { type: 'open'; id: number; modelId: ModelId; label: string; origin: ModelOrigin }
  | { type: 'call'; id: number; endpoint: EndpointName; request: unknown }
  | { type: 'abort'; id: number };

export type FromWorker =
  | { type: 'ready'; ready: WorkerReady }
  | { type: 'failed'; message: string }
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: ApiErrorBody['error'] };

/** An embedded model listed in the static site's models/index.json (written by `dissect build-web`). */
export interface SiteModel {
  id: ModelId;
  label: string;
  modelType: string | null;
  sizeBytes: number;
  /** Folder holding its files, relative to the site root. */
  path: string;
}

export interface SiteManifest {
  models: SiteModel[];
  defaultModel: ModelId | null;
  /** Folder of SAE feature dashboards (index.json + feature-<n>.json) shipped with the site, if any. */
  dashboards?: string;
}

export const SITE_MANIFEST = 'models/index.json';
