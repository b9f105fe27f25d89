// dissect build-web: a static site — the prebuilt web UI (dist/web, from `npm run build`) plus model
// folders to run in the browser (the embedded organisms by default) and models/index.json listing
// them. Any static host serves it; the model runs in the page's Web Worker on the wasm backend.

import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCommand } from '../command.js';
import { UsageError } from '../flags.js';

/** The UI as `npm run build` leaves it, and the organisms shipped in the package. */
export const WEB_BUILD_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));
export const EMBEDDED_MODELS_DIR = fileURLToPath(new URL('../../../../models/', import.meta.url));

const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'README.md'];

/** Headers for hosts that read a _headers file (Netlify, Cloudflare Pages): cross-origin isolation lets the kernels use threads. */
const HEADERS_FILE = `/*
  Cross-Origin-Opener-Policy: same-origin
  Cross-Origin-Embedder-Policy: require-corp
`;

export interface SiteOptions {
  out: string;
  /** Model folders to include; default every embedded organism that has a tokenizer. */
  models?: string[];
  /** Preselected model id (a folder name); default world-4l when included, else the first. */
  defaultModel?: string;
  /** A folder `dissect sae dashboard` wrote: its JSON files ship as the UI's SAE features panel. */
  dashboards?: string;
  uiDir?: string;
}

export interface SiteSummary {
  out: string;
  models: { id: string; sizeBytes: number }[];
  defaultModel: string | null;
  uiFiles: number;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

async function copyTree(from: string, to: string): Promise<number> {
  await mkdir(to, { recursive: true });
  let copied = 0;
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.isDirectory()) copied += await copyTree(join(from, entry.name), join(to, entry.name));
    else if (entry.isFile()) {
      await copyFile(join(from, entry.name), join(to, entry.name));
      copied++;
    }
  }
  return copied;
}

/** Embedded organisms the browser can run (a tokenizer is needed to type prompts). */
export async function embeddedModelFolders(): Promise<string[]> {
  const names = await readdir(EMBEDDED_MODELS_DIR).catch(() => [] as string[]);
  const folders: string[] = [];
  for (const name of names.sort()) {
    const folder = join(EMBEDDED_MODELS_DIR, name);
    if (await isFile(join(folder, 'tokenizer.json')) && await isFile(join(folder, 'model.safetensors'))) folders.push(folder);
  }
  return folders;
}

/** Copies a dashboard folder's JSON (index.json, feature-<n>.json); returns its path in the site. */
async function copyDashboards(from: string, to: string): Promise<string> {
  if (!await isFile(join(from, 'index.json'))) {
    throw new UsageError(`${from} has no index.json: expected a folder written by \`dissect sae dashboard --out DIR\``);
  }
  await mkdir(to, { recursive: true });
  for (const name of await readdir(from)) {
    if (name.endsWith('.json')) await copyFile(join(from, name), join(to, name));
  }
  return 'dashboards/';
}

export async function buildStaticSite(options: SiteOptions): Promise<SiteSummary> {
  const uiDir = options.uiDir ?? WEB_BUILD_DIR;
  if (!await isFile(join(uiDir, 'index.html'))) {
    throw new UsageError(`no built web UI at ${uiDir} (run \`npm run build\` first)`);
  }
  const out = resolve(options.out);
  const uiFiles = await copyTree(uiDir, out);
  await writeFile(join(out, '_headers'), HEADERS_FILE);
  const folders = options.models ?? await embeddedModelFolders();
  const models: { id: string; label: string; modelType: string | null; sizeBytes: number; path: string }[] = [];
  for (const folder of folders) {
    const id = basename(resolve(folder));
    for (const required of ['config.json', 'model.safetensors', 'tokenizer.json']) {
      if (!await isFile(join(folder, required))) {
        throw new UsageError(`${folder} has no ${required}; the browser needs config.json, model.safetensors and tokenizer.json`);
      }
    }
    const target = join(out, 'models', id);
    await mkdir(target, { recursive: true });
    for (const file of MODEL_FILES) {
      if (await isFile(join(folder, file))) await copyFile(join(folder, file), join(target, file));
    }
    const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as { model_type?: string };
    const sizeBytes = (await stat(join(folder, 'model.safetensors'))).size;
    models.push({ id, label: id, modelType: config.model_type ?? null, sizeBytes, path: `models/${id}/` });
  }
  const ids = models.map((m) => m.id);
  if (options.defaultModel !== undefined && !ids.includes(options.defaultModel)) {
    throw new UsageError(`--default ${options.defaultModel} is not among the site's models (${ids.join(', ') || 'none'})`);
  }
  const defaultModel = options.defaultModel ?? (ids.includes('world-4l') ? 'world-4l' : ids[0] ?? null);
  const dashboards = options.dashboards === undefined ? undefined : await copyDashboards(options.dashboards, join(out, 'dashboards'));
  await mkdir(join(out, 'models'), { recursive: true });
  await writeFile(join(out, 'models', 'index.json'), `${JSON.stringify({ models, defaultModel, dashboards }, null, 2)}\n`);
  return { out, models: models.map(({ id, sizeBytes }) => ({ id, sizeBytes })), defaultModel, uiFiles };
}

export const buildWebCommand = defineCommand({
  name: 'build-web',
  summary: 'Write a static site: the web UI plus models that run in the browser (wasm, in a Web Worker).',
  positionals: [],
  flags: {
    out: { type: 'string', placeholder: 'DIR', description: 'folder to write the site into (required)' },
    model: { type: 'string', placeholder: 'DIRS', description: 'comma-separated model folders to include (default: the embedded organisms)' },
    default: { type: 'string', placeholder: 'ID', description: 'model preselected in the UI (a folder name; default world-4l)' },
    dashboards: { type: 'string', placeholder: 'DIR', description: 'SAE feature dashboards (a `dissect sae dashboard --out` folder) for the UI\'s SAE panel' },
  },
  details: 'Serve the folder with any static web server. Send these headers so the page is cross-origin isolated and the\n'
    + 'kernels run on several threads (without them the model runs on one thread):\n'
    + '  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n'
    + 'The site has a _headers file with them for hosts that read one (Netlify, Cloudflare Pages).',
  async run({ flags }, terminal) {
    if (!flags.out) throw new UsageError('--out DIR is required');
    const summary = await buildStaticSite({
      out: flags.out,
      models: flags.model ? flags.model.split(',').map((m) => m.trim()).filter(Boolean) : undefined,
      defaultModel: flags.default,
      dashboards: flags.dashboards,
    });
    const models = summary.models.map((m) => `${m.id} (${(m.sizeBytes / 2 ** 20).toFixed(1)} MiB)`).join(', ');
    terminal.out(`wrote ${summary.out}: the UI (${summary.uiFiles} files) and ${summary.models.length} model${summary.models.length === 1 ? '' : 's'}: ${models || 'none'}\n`);
    terminal.err('serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp for multi-threaded kernels\n');
    return 0;
  },
});
