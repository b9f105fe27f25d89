// SAELens's cfg.json, read and written. Two layouts exist: SAELens 6 keeps d_in, d_sae, dtype,
// architecture... at the top and the hook and model under `metadata`; SAELens ≤ 5 kept everything
// flat (and spelled hook_point for hook_name, activation_fn_kwargs.k for k). We read both and write
// SAELens 6's. Transcoders keep d_out, hook_name_out, hook_layer_out at the top level, as SAELens's
// TranscoderConfig. Pure (no Node APIs).

import { FormatError } from '../util/errors.js';
import { checkSAEConfig, isTranscoder, type NormalizeActivations, type SAEArchitecture, type SAEConfig } from './sae.js';

/** What we write as metadata.sae_lens_version: SAELens's loaders treat configs older than 6.0 as the flat layout. */
export const SAELENS_FORMAT_VERSION = '6.0.0';

type Json = Record<string, unknown>;

/** SAELens architecture names → ours (+ whether it is a transcoder). */
const ARCHITECTURE_NAMES: Record<string, { architecture: SAEArchitecture; transcoder: boolean }> = {
  standard: { architecture: 'standard', transcoder: false },
  topk: { architecture: 'topk', transcoder: false },
  batchtopk: { architecture: 'batchtopk', transcoder: false },
  jumprelu: { architecture: 'jumprelu', transcoder: false },
  transcoder: { architecture: 'standard', transcoder: true },
  jumprelu_transcoder: { architecture: 'jumprelu', transcoder: true },
  // SAELens has no TopK transcoder class; this is the name we write for ours.
  topk_transcoder: { architecture: 'topk', transcoder: true },
};

/** The architecture string SAELens uses for a config (BatchTopK SAEs are saved as JumpReLU, as SAELens does). */
export function saelensArchitecture(cfg: SAEConfig): string {
  const arch = cfg.architecture === 'batchtopk' ? 'jumprelu' : cfg.architecture;
  if (!isTranscoder(cfg)) return arch;
  return arch === 'standard' ? 'transcoder' : `${arch}_transcoder`;
}

function field(json: Json, name: string): unknown {
  const meta = json.metadata ?? json.meta;
  if (json[name] !== undefined) return json[name];
  if (meta !== null && typeof meta === 'object') return (meta as Json)[name];
  return undefined;
}

function intField(json: Json, name: string, label: string, required: boolean): number | undefined {
  const value = field(json, name);
  if (value === undefined || value === null) {
    if (required) throw new FormatError(`${label}: cfg.json has no '${name}' (expected a positive integer)`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new FormatError(`${label}: cfg.json '${name}' is ${JSON.stringify(value)}, expected an integer`);
  return value;
}

function stringField(json: Json, name: string, label: string): string | undefined {
  const value = field(json, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new FormatError(`${label}: cfg.json '${name}' is ${JSON.stringify(value)}, expected a string`);
  return value;
}

/** The layer a TransformerLens hook name belongs to (blocks.{l}....), or 0 for hook_embed and the like. */
export function layerOfHook(hookName: string): number {
  const match = /^blocks\.(\d+)\./.exec(hookName);
  return match ? Number(match[1]) : 0;
}

/** Parses a cfg.json object (either layout) into our SAEConfig; throws FormatError naming the bad field. */
export function parseSAEConfig(json: unknown, label = 'cfg.json'): SAEConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new FormatError(`${label}: expected a JSON object`);
  const cfg = json as Json;
  const archName = stringField(cfg, 'architecture', label) ?? 'standard';
  const known = ARCHITECTURE_NAMES[archName];
  if (known === undefined) {
    throw new FormatError(`${label}: architecture '${archName}' is not supported; supported: ${Object.keys(ARCHITECTURE_NAMES).join(', ')}`);
  }
  const hookName = stringField(cfg, 'hook_name', label) ?? stringField(cfg, 'hook_point', label);
  if (hookName === undefined) throw new FormatError(`${label}: cfg.json names no hook (hook_name, metadata.hook_name or hook_point)`);
  let normalize = field(cfg, 'normalize_activations') ?? 'none';
  // SAELens ≤ 3 stored a boolean: true meant the April-update input scaling.
  if (typeof normalize === 'boolean') normalize = normalize ? 'expected_average_only_in' : 'none';
  const kwargs = cfg.activation_fn_kwargs as Json | undefined;
  const k = field(cfg, 'k') ?? kwargs?.k;
  const dtype = stringField(cfg, 'dtype', label) ?? 'float32';
  const parsed: SAEConfig = {
    architecture: known.architecture,
    d_in: intField(cfg, 'd_in', label, true)!,
    d_sae: intField(cfg, 'd_sae', label, true)!,
    apply_b_dec_to_input: (field(cfg, 'apply_b_dec_to_input') ?? true) === true,
    normalize_activations: normalize as NormalizeActivations,
    hook_name: hookName,
    hook_layer: intField(cfg, 'hook_layer', label, false) ?? layerOfHook(hookName),
    hook_head_index: intField(cfg, 'hook_head_index', label, false) ?? null,
    // Weights are read as float32 or float64; half precision files are widened on load.
    dtype: dtype === 'float64' ? 'float64' : 'float32',
  };
  if (typeof k === 'number') parsed.k = k;
  if (field(cfg, 'rescale_acts_by_decoder_norm') === true) parsed.rescale_acts_by_decoder_norm = true;
  const modelName = stringField(cfg, 'model_name', label);
  if (modelName !== undefined) parsed.model_name = modelName;
  const contextSize = intField(cfg, 'context_size', label, false);
  if (contextSize !== undefined) parsed.context_size = contextSize;
  const prependBos = field(cfg, 'prepend_bos');
  if (typeof prependBos === 'boolean') parsed.prepend_bos = prependBos;
  if (known.transcoder) {
    const out = stringField(cfg, 'hook_name_out', label);
    if (!out) throw new FormatError(`${label}: a ${archName} config needs hook_name_out`);
    parsed.hook_name_out = out;
    parsed.d_out = intField(cfg, 'd_out', label, true);
    parsed.hook_layer_out = intField(cfg, 'hook_layer_out', label, false) ?? layerOfHook(out);
  }
  try {
    checkSAEConfig(parsed);
  } catch (err) {
    throw new FormatError(`${label}: ${(err as Error).message}`);
  }
  return parsed;
}

export interface SerializeOptions {
  /** Extra metadata entries (SAELens 6 keeps any key under metadata). */
  metadata?: Record<string, unknown>;
}

/** cfg.json in SAELens 6's layout for an inference SAE (what SAE.load_from_disk reads). */
export function serializeSAEConfig(cfg: SAEConfig, options: SerializeOptions = {}): Json {
  const out: Json = {
    d_in: cfg.d_in,
    d_sae: cfg.d_sae,
    dtype: cfg.dtype,
    device: 'cpu',
    apply_b_dec_to_input: isTranscoder(cfg) ? false : cfg.apply_b_dec_to_input,
    normalize_activations: cfg.normalize_activations,
    reshape_activations: cfg.hook_name.endsWith('hook_z') ? 'hook_z' : 'none',
    metadata: {
      sae_lens_version: SAELENS_FORMAT_VERSION,
      sae_lens_training_version: SAELENS_FORMAT_VERSION,
      model_name: cfg.model_name ?? null,
      hook_name: cfg.hook_name,
      hook_layer: cfg.hook_layer,
      hook_head_index: cfg.hook_head_index ?? null,
      context_size: cfg.context_size ?? null,
      prepend_bos: cfg.prepend_bos ?? true,
      ...options.metadata,
    },
    architecture: saelensArchitecture(cfg),
  };
  if (cfg.architecture === 'topk') {
    out.k = cfg.k;
    if (cfg.rescale_acts_by_decoder_norm) out.rescale_acts_by_decoder_norm = true;
  }
  if (isTranscoder(cfg)) {
    out.d_out = cfg.d_out ?? cfg.d_in;
    out.hook_name_out = cfg.hook_name_out;
    out.hook_layer_out = cfg.hook_layer_out ?? layerOfHook(cfg.hook_name_out!);
    out.hook_head_index_out = null;
  }
  return out;
}
