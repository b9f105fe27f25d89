// SAEs on disk in SAELens's layout: a folder with cfg.json and sae_weights.safetensors (W_enc
// [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_out], b_dec [d_out], threshold [d_sae] for JumpReLU),
// and optionally sparsity.safetensors (log10 feature densities, key 'sparsity'). Loaded from a local
// folder or from a Hugging Face repo (a sub-folder of it, as SAELens releases are laid out). Node only.

import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import { resolveModelFiles, type ResolveOptions } from '../io/hub.js';
import { checkRepoId } from '../io/hub-cache.js';
import { openSafetensors, writeAtomically, writeSafetensors, type LoadedTensor, type TensorToWrite } from '../io/safetensors.js';
import { Tensor, noGrad, tensor, tidy, type DType } from '../tensor/index.js';
import { FormatError, IOError } from '../util/errors.js';
import { notice } from '../util/log.js';
import { parseSAEConfig, serializeSAEConfig, type SerializeOptions } from './sae-config-file.js';
import { SparseAutoencoder, isTranscoder, type SAEConfig, type SAEParameters } from './sae.js';

export const SAE_CFG_FILENAME = 'cfg.json';
export const SAE_WEIGHTS_FILENAME = 'sae_weights.safetensors';
export const SAE_SPARSITY_FILENAME = 'sparsity.safetensors';

export interface LoadSAEOptions {
  /** Hub repos: the folder inside the repo holding cfg.json (SAELens's sae_id path), '' for the root. */
  folder?: string;
  revision?: string;
  backend?: Backend;
  hub?: Omit<ResolveOptions, 'files' | 'optionalFiles' | 'onProgress' | 'signal' | 'revision'>;
  onDownload?: (bytes: number, total: number | undefined, file: string) => void;
  signal?: AbortSignal;
}

export interface LoadedSAE {
  sae: SparseAutoencoder;
  /** log10 feature densities [d_sae] from sparsity.safetensors, when the folder has one. */
  logSparsity: Float32Array | null;
  /** The local folder the files were read from. */
  folder: string;
  /** The raw cfg.json (fields we do not model are kept here). */
  rawConfig: Record<string, unknown>;
}

/**
 * Loads a SAELens-format SAE from a local folder, or from a hub repo id ("org/name", with
 * options.folder naming the sub-folder). The caller owns the SAE.
 */
export async function loadSAE(source: string, options: LoadSAEOptions = {}): Promise<LoadedSAE> {
  const onDisk = await stat(source).catch(() => null);
  let folder: string;
  if (onDisk !== null) {
    if (!onDisk.isDirectory()) throw new IOError(`'${source}' is a file; expected a folder with ${SAE_CFG_FILENAME} and ${SAE_WEIGHTS_FILENAME}`);
    folder = options.folder ? join(source, options.folder) : source;
  } else {
    if (/^[.~/\\]/.test(source) || source.split('/').length > 2) throw new IOError(`no such SAE folder: '${source}'`);
    checkRepoId(source);
    const prefix = options.folder ? `${options.folder.replace(/\/+$/, '')}/` : '';
    const resolved = await resolveModelFiles(source, {
      ...options.hub, revision: options.revision, signal: options.signal, onProgress: options.onDownload,
      files: [`${prefix}${SAE_CFG_FILENAME}`, `${prefix}${SAE_WEIGHTS_FILENAME}`],
      optionalFiles: [`${prefix}${SAE_SPARSITY_FILENAME}`],
    });
    folder = join(resolved.snapshotDir, ...prefix.split('/').filter((p) => p !== ''));
  }
  return loadSAEFolder(folder, options.backend);
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new IOError(`cannot read '${path}': ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FormatError(`'${path}' is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads cfg.json + sae_weights.safetensors (+ sparsity.safetensors) from one folder. */
export async function loadSAEFolder(folder: string, backend?: Backend): Promise<LoadedSAE> {
  const cfgPath = join(folder, SAE_CFG_FILENAME);
  const rawConfig = await readJson(cfgPath) as Record<string, unknown>;
  const cfg = parseSAEConfig(rawConfig, cfgPath);
  const weightsPath = join(folder, SAE_WEIGHTS_FILENAME);
  const file = await openSafetensors(weightsPath);
  const loaded = new Map<string, LoadedTensor>();
  try {
    for (const name of file.names()) loaded.set(name, await file.read(name));
  } finally {
    await file.close();
  }
  const sae = saeFromStateDict(cfg, loaded, weightsPath, backend);
  if (cfg.normalize_activations === 'expected_average_only_in') {
    notice(`${cfgPath}: normalize_activations is 'expected_average_only_in' but no scaling factor is folded in; `
      + 'the SAE reads activations unscaled, as SAELens\'s load_from_disk does');
  }
  let logSparsity: Float32Array | null = null;
  const sparsityPath = join(folder, SAE_SPARSITY_FILENAME);
  if (await stat(sparsityPath).then((s) => s.isFile(), () => false)) {
    const sparsity = await openSafetensors(sparsityPath);
    try {
      if (sparsity.has('sparsity')) logSparsity = Float32Array.from((await sparsity.read('sparsity')).data as ArrayLike<number>);
    } finally {
      await sparsity.close();
    }
  }
  return { sae, logSparsity, folder, rawConfig };
}

/**
 * Builds the SAE from SAELens state-dict tensors. Also accepts what training checkpoints hold:
 * log_threshold (JumpReLU training: threshold = exp), topk_threshold (BatchTopK: one scalar for
 * every feature), and a finetuning scaling_factor (folded into W_dec's rows; all ones is dropped).
 */
export function saeFromStateDict(cfg: SAEConfig, tensors: ReadonlyMap<string, LoadedTensor>, label: string, backend?: Backend): SparseAutoencoder {
  const dtype: DType = cfg.dtype === 'float64' && (backend === undefined || backend.name === 'ref') ? 'float64' : 'float32';
  const effective: SAEConfig = { ...cfg, dtype };
  const options = { dtype, backend: dtype === 'float64' ? ('ref' as const) : backend };
  const need = (name: string): LoadedTensor => {
    const t = tensors.get(name);
    if (t === undefined) throw new FormatError(`${label}: no tensor '${name}' (it has ${[...tensors.keys()].join(', ')}); SAELens files hold W_enc, b_enc, W_dec, b_dec`);
    return t;
  };
  const make = (t: LoadedTensor): Tensor => tensor(toFloat(t, label), t.shape, options);
  return noGrad(() => {
    const params = tidy((): SAEParameters => {
      let W_dec = make(need('W_dec'));
      const scaling = tensors.get('scaling_factor') ?? tensors.get('finetuning_scaling_factor');
      if (scaling !== undefined && !Array.from(scaling.data as ArrayLike<number>).every((v) => v === 1)) {
        W_dec = W_dec.mul(make(scaling).unsqueeze(-1));
      }
      let threshold: Tensor | null = null;
      const raw = tensors.get('threshold');
      const log = tensors.get('log_threshold');
      const scalar = tensors.get('topk_threshold');
      if (raw !== undefined) threshold = make(raw);
      else if (log !== undefined) threshold = make(log).exp();
      else if (scalar !== undefined) threshold = tensor(new Array<number>(cfg.d_sae).fill(Number(scalar.data[0])), [cfg.d_sae], options);
      return { W_enc: make(need('W_enc')), b_enc: make(need('b_enc')), W_dec, b_dec: make(need('b_dec')), threshold };
    });
    return new SparseAutoencoder(effective, params);
  });
}

function toFloat(t: LoadedTensor, label: string): Float32Array | Float64Array {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return t.data;
  throw new FormatError(`${label}: tensor '${t.name}' has dtype ${t.dtype}; SAE weights must be floating point`);
}

export interface SaveSAEOptions extends SerializeOptions {
  /** log10 feature densities [d_sae], written as sparsity.safetensors (SAELens's key 'sparsity'). */
  logSparsity?: Float32Array;
}

/**
 * Writes the SAE as SAELens's save_model does: cfg.json (SAELens 6 layout) and
 * sae_weights.safetensors with exactly W_enc, b_enc, W_dec, b_dec (and threshold for JumpReLU and
 * trained BatchTopK), float32, no file metadata. Creates the folder.
 */
export async function saveSAE(sae: SparseAutoencoder, folder: string, options: SaveSAEOptions = {}): Promise<void> {
  await mkdir(folder, { recursive: true });
  const weights: Record<string, TensorToWrite> = {};
  for (const [name, t] of Object.entries(sae.stateDict())) {
    // Only JumpReLU-style SAEs carry a threshold in SAELens's state dict.
    if (name === 'threshold' && sae.cfg.architecture !== 'jumprelu' && sae.cfg.architecture !== 'batchtopk') continue;
    weights[name] = { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.toArray()) };
  }
  if (sae.cfg.architecture === 'batchtopk' && weights.threshold === undefined) {
    throw new FormatError('saveSAE: a BatchTopK SAE is saved as JumpReLU and needs its threshold (train it, or set sae.threshold)');
  }
  if (isTranscoder(sae.cfg) && sae.cfg.architecture === 'topk') {
    notice(`saveSAE: SAELens has no TopK transcoder class; ${folder}/cfg.json says architecture 'topk_transcoder', which dissect reads and SAELens does not`);
  }
  await writeSafetensors(join(folder, SAE_WEIGHTS_FILENAME), weights);
  const cfg = serializeSAEConfig({ ...sae.cfg, dtype: 'float32' }, options);
  const text = new TextEncoder().encode(`${JSON.stringify(cfg, null, 2)}\n`);
  await writeAtomically(join(folder, SAE_CFG_FILENAME), async (write) => write(text));
  if (options.logSparsity !== undefined) {
    await writeSafetensors(join(folder, SAE_SPARSITY_FILENAME), {
      sparsity: { dtype: 'F32', shape: [options.logSparsity.length], data: options.logSparsity },
    });
  }
}
