// Where a browser model's files come from: a URL folder (the organisms shipped with the site, or any
// static host), a local folder the user picked (<input webkitdirectory> gives Files; the File System
// Access API gives a directory handle), or the Hugging Face hub. Each becomes a ModelFiles: read a
// file by its name in the folder, or learn its size before reading it.

import type { ModelOrigin } from '../protocol.js';

export interface ModelFiles {
  /** Shown in messages: the URL, folder name or hub id. */
  readonly label: string;
  /** The file's bytes, or null when the folder has no such file. */
  read(name: string, onBytes?: (loaded: number, total: number | undefined) => void): Promise<Uint8Array | null>;
  /** The file's size in bytes, null when absent, undefined when the host does not say. */
  size(name: string): Promise<number | null | undefined>;
}

const HUB_ENDPOINT = 'https://huggingface.co';

export function modelFiles(origin: ModelOrigin): ModelFiles {
  switch (origin.kind) {
    case 'url':
      return urlFiles(origin.url.endsWith('/') ? origin.url : `${origin.url}/`, origin.url);
    case 'server':
      return urlFiles(origin.apiBase, origin.modelId,
        (name) => `file?model=${encodeURIComponent(origin.modelId)}&file=${encodeURIComponent(name)}`);
    case 'hub':
      return urlFiles(`${HUB_ENDPOINT}/${origin.repoId}/resolve/${encodeURIComponent(origin.revision ?? 'main')}/`, origin.repoId);
    case 'files':
      return pickedFiles(origin.files, origin.name);
    case 'directory':
      return directoryFiles(origin.handle);
    default:
      return origin satisfies never;
  }
}

async function readBody(response: Response, onBytes?: (loaded: number, total: number | undefined) => void): Promise<Uint8Array> {
  const header = response.headers.get('Content-Length');
  const total = header === null ? undefined : Number(header);
  if (!response.body || !onBytes) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  // One allocation when the length is known; otherwise collect the chunks and join them.
  const target = total !== undefined ? new Uint8Array(total) : null;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (target && loaded + value.byteLength <= target.byteLength) target.set(value, loaded);
    else chunks.push(value);
    loaded += value.byteLength;
    onBytes(loaded, total);
  }
  if (target && loaded === target.byteLength && chunks.length === 0) return target;
  const joined = new Uint8Array(loaded);
  let offset = 0;
  if (target) {
    joined.set(target.subarray(0, Math.min(loaded, target.byteLength)));
    offset = Math.min(loaded, target.byteLength);
  }
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

/** Files under an absolute base URL, at `name` or wherever `locate` says. */
function urlFiles(base: string, label: string, locate?: (name: string) => string): ModelFiles {
  const urlOf = (name: string) => new URL(locate ? locate(name) : name, base).href;
  return {
    label,
    async read(name, onBytes) {
      const response = await fetch(urlOf(name));
      if (response.status === 404) return null;
      if (!response.ok) throw new Error(`cannot fetch ${urlOf(name)}: HTTP ${response.status} ${response.statusText}`);
      return readBody(response, onBytes);
    },
    async size(name) {
      const response = await fetch(urlOf(name), { method: 'HEAD' });
      if (response.status === 404) return null;
      const length = response.headers.get('Content-Length');
      return response.ok && length !== null ? Number(length) : undefined;
    },
  };
}

function pickedFiles(files: readonly File[], label: string): ModelFiles {
  // webkitRelativePath is "<picked folder>/<file>"; files in subfolders are not model files.
  const byName = new Map<string, File>();
  for (const file of files) {
    const parts = (file.webkitRelativePath || file.name).split('/');
    if (parts.length <= 2) byName.set(parts[parts.length - 1], file);
  }
  return {
    label,
    async read(name, onBytes) {
      const file = byName.get(name);
      if (!file) return null;
      const bytes = new Uint8Array(await file.arrayBuffer());
      onBytes?.(bytes.byteLength, bytes.byteLength);
      return bytes;
    },
    async size(name) {
      return byName.get(name)?.size ?? null;
    },
  };
}

function directoryFiles(handle: FileSystemDirectoryHandle): ModelFiles {
  const fileOf = async (name: string): Promise<File | null> => {
    try {
      return await (await handle.getFileHandle(name)).getFile();
    } catch (err) {
      if ((err as DOMException).name === 'NotFoundError') return null;
      throw err;
    }
  };
  return {
    label: handle.name,
    async read(name, onBytes) {
      const file = await fileOf(name);
      if (!file) return null;
      const bytes = new Uint8Array(await file.arrayBuffer());
      onBytes?.(bytes.byteLength, bytes.byteLength);
      return bytes;
    },
    async size(name) {
      return (await fileOf(name))?.size ?? null;
    },
  };
}
