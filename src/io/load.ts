// loadModel(nameOrPath): the one call that turns what a user types — a local model folder or a
// Hugging Face hub id — into a model and, when one is there, its tokenizer. Hub files go through the
// shared hub cache (hub.ts), so Python's huggingface_hub and dissect reuse each other's downloads.
// Node only.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { HookedTransformer } from '../models/transformer.js';
import { FormatError, IOError } from '../util/errors.js';
import { resolveModelFiles, type ResolveOptions } from './hub.js';
import { checkRepoId } from './hub-cache.js';
import { loadModelFolder, type LoadFolderOptions } from './load-model.js';
import { INDEX_FILE, parseShardIndex, SINGLE_FILE } from './safetensors-sharded.js';
import { Tokenizer } from './tokenizer.js';

/** Hub settings a caller may override (endpoint, cache folder, token, offline, fetch...). */
export type HubSettings = Omit<ResolveOptions, 'files' | 'optionalFiles' | 'onProgress' | 'signal' | 'revision'>;

export interface LoadModelOptions extends LoadFolderOptions {
  /** Branch, tag or commit of a hub model. Default 'main'. */
  revision?: string;
  /** Download progress of hub files: bytes so far, total when known, and the repo file name. */
  onDownload?: (bytes: number, total: number | undefined, file: string) => void;
  /** Cancels a download (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** A tokenizer.json (or a folder holding one) to use instead of the model's own. */
  tokenizer?: string;
  hub?: HubSettings;
}

/** Where a model's files are: a folder on disk, and whether it came from the hub (and which commit). */
export interface ModelLocation {
  readonly folder: string;
  readonly source: 'local' | 'hub';
  /** The hub repo id and the commit the revision resolved to; undefined for local folders. */
  readonly repoId?: string;
  readonly commit?: string;
}

export interface LoadedModel {
  readonly model: HookedTransformer;
  /** Null when the folder has no tokenizer.json and none was given. */
  readonly tokenizer: Tokenizer | null;
  readonly location: ModelLocation;
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

/**
 * Loads a model (config.json + safetensors, single or sharded) and its tokenizer from a local folder
 * or a hub id ("org/name"). A string that exists on disk is a folder; one that looks like a path
 * (starts with '.', '/' or '~', or has more than one '/') but does not exist is an IOError; anything
 * else is a hub id. The caller owns the model (dispose it).
 */
export async function loadModel(nameOrPath: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const location = await locateModel(nameOrPath, options);
  const tokenizer = await loadTokenizer(location, options.tokenizer);
  const model = await loadModelFolder(location.folder, options);
  return { model, tokenizer, location };
}

/**
 * Only the tokenizer of a model (folder or hub id), or of `override` when given; null when there is
 * none. For commands that need no weights (tokenize). A hub model's weights are not downloaded.
 */
export async function loadModelTokenizer(nameOrPath: string, options: LoadModelOptions = {}): Promise<Tokenizer | null> {
  if (options.tokenizer !== undefined) return Tokenizer.fromFile(options.tokenizer);
  return loadTokenizer(await locateModel(nameOrPath, options, false), undefined);
}

/** The local folder holding a model's files, downloading hub files the cache lacks (weights only when `weights`). */
export async function locateModel(nameOrPath: string, options: LoadModelOptions = {}, weights = true): Promise<ModelLocation> {
  if (typeof nameOrPath !== 'string' || nameOrPath === '') {
    throw new IOError(`expected a model folder or a hub id such as "gpt2" or "EleutherAI/pythia-70m", got ${JSON.stringify(nameOrPath)}`);
  }
  const onDisk = await stat(nameOrPath).catch(() => null);
  if (onDisk !== null) {
    if (!onDisk.isDirectory()) throw new IOError(`'${nameOrPath}' is a file; expected a model folder (config.json + *.safetensors)`);
    return { folder: nameOrPath, source: 'local' };
  }
  if (/^[.~/\\]/.test(nameOrPath) || nameOrPath.split('/').length > 2) {
    throw new IOError(`no such model folder: '${nameOrPath}'`);
  }
  checkRepoId(nameOrPath);
  return downloadModel(nameOrPath, options, weights);
}

async function downloadModel(repoId: string, options: LoadModelOptions, weights: boolean): Promise<ModelLocation> {
  const common = { ...options.hub, revision: options.revision, onProgress: options.onDownload, signal: options.signal };
  const first = await resolveModelFiles(repoId, {
    ...common,
    files: ['config.json'],
    optionalFiles: [...TOKENIZER_FILES, ...(weights ? [SINGLE_FILE, INDEX_FILE] : [])],
  });
  const location = { folder: first.snapshotDir, source: 'hub' as const, repoId, commit: first.commit };
  if (!weights || first.files[SINGLE_FILE] !== undefined) return location;
  const indexPath = first.files[INDEX_FILE];
  if (indexPath === undefined) {
    throw new IOError(`${repoId}@${first.revision} has neither ${SINGLE_FILE} nor ${INDEX_FILE}: dissect reads safetensors ` +
      'weights only (pytorch_model.bin is not supported; convert it with `transformers` save_pretrained(safe_serialization=True))');
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (error) {
    throw new FormatError(`${repoId}/${INDEX_FILE}: not valid JSON (${(error as Error).message})`);
  }
  const shards = [...new Set(parseShardIndex(json, `${repoId}/${INDEX_FILE}`).weightMap.values())];
  // Pin the commit the first call saw, so a push in between cannot mix two versions.
  await resolveModelFiles(repoId, { ...common, revision: first.commit, files: shards });
  return location;
}

async function loadTokenizer(location: ModelLocation, override: string | undefined): Promise<Tokenizer | null> {
  if (override !== undefined) return Tokenizer.fromFile(override);
  const path = join(location.folder, 'tokenizer.json');
  const exists = await stat(path).then((s) => s.isFile(), () => false);
  return exists ? Tokenizer.fromFile(path) : null;
}
