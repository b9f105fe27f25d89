// The JSON protocol of dissect's API: the request and response shapes of every endpoint, the
// progress events of long ones, and the error body. Plain JSON types only (no tensors, no
// classes), so the same objects travel over HTTP and through a Web Worker's postMessage.
//
// How a client uses it. Over HTTP (`dissect serve`): POST /api/<endpoint> with a JSON body
// (Content-Type: application/json) — e.g. POST /api/lens {"model": "world-4l", "text": "...",
// "target": " Paris"} — and read the endpoint's Response as JSON (status 200), or an ApiErrorBody
// with the status of ERROR_STATUS (400 bad fields, 403 path outside the allowed folders, 404
// unknown model, 413 oversized body or prompt, 415 a body that is not application/json...).
// GET /api/models answers like POST with {}.
// To see progress, send `Accept: application/x-ndjson` (or add `?stream=1`): the body is then
// newline-delimited JSON, zero or more StreamLine {"progress": Progress} lines followed by exactly
// one {"result": Response} or {"error": {...}} line. The status line goes out with the first
// line, so an error found before any progress (validation, unknown model) still gets its 4xx and
// a plain JSON body. Closing the connection aborts the computation. GET /api/file?model=ID&file=
// NAME serves a model's raw files (MODEL_FILES) so a browser can run it locally.
// In a Web Worker (or any JS): import `handlers` from src/api/index.ts and call
// `await handlers.lens(session, request, { signal, onProgress })` — the same Response objects,
// with errors thrown as ApiError (`.type`, `.message`, `.toBody()`).
//
// Conventions. Token ids index the model's vocabulary. A prompt is PromptSpec (text or ids). A
// single token (TokenSpec) is text that encodes to exactly one token (mind the leading space:
// " Mary"), or an id. Numbers that are undefined (NaN: e.g. a patching cell that does not exist
// under grouped-query attention) are null. Grids are nested arrays in row-major order, outer axis
// first, with the axis names given beside them; the one large array (attention patterns) is an
// EncodedArray (base64 little-endian float32), decoded with decodeFloat32 from ./encoding.ts.

/** A model as ModelsResponse lists it: an embedded organism's name ("world-4l"), a hub id ("gpt2"), or a folder path. */
export type ModelId = string;

/** The endpoints, by the name used in POST /api/<name> and in `handlers.<name>`. */
export const ENDPOINTS = ['models', 'tokenize', 'run', 'lens', 'dla', 'patch', 'generate'] as const;
export type EndpointName = (typeof ENDPOINTS)[number];

/** Files GET /api/file serves (when the model folder has them). */
export const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'tuned-lens.safetensors'] as const;

/** A tuned lens for a model is found beside its weights under this name (saved by saveTunedLens). */
export const TUNED_LENS_FILE = 'tuned-lens.safetensors';

/**
 * Models whose weights are larger than this are marked browserOk: false. The wasm heap is one 32-bit
 * memory that must also hold activations, caches and patching batches; past 1 GiB of float32 weights
 * (~270M parameters; GPT-2 small fits) a tab runs out before the analyses do. The web worker
 * enforces the same limit.
 */
export const BROWSER_MODEL_LIMIT_BYTES = 2 ** 30;

/** At most this many attention values in one run response (64 MiB as float32, ~85 MiB as base64). */
export const MAX_ATTENTION_VALUES = 16 * 1024 * 1024;

/** Request limits; a server may lower or raise them. Exceeding one is a 413 ('too_large'). */
export interface ApiLimits {
  /** Bytes of a request body. */
  maxBodyBytes: number;
  /** Characters of one prompt text. */
  maxPromptChars: number;
  /** Tokens of one prompt (also never more than the model's context). */
  maxPromptTokens: number;
  /** generate's maxNewTokens. */
  maxNewTokens: number;
  /** topK of run and lens. */
  maxTopK: number;
}

export const DEFAULT_LIMITS: Readonly<ApiLimits> = {
  maxBodyBytes: 1024 * 1024,
  maxPromptChars: 20_000,
  maxPromptTokens: 512,
  maxNewTokens: 256,
  maxTopK: 100,
};

// ─── Shared pieces ──────────────────────────────────────────────────────────────────────────────

/** A prompt: `text` (tokenized with the model's tokenizer) or `ids`, exactly one of the two. */
export interface PromptSpec {
  text?: string;
  ids?: number[];
  /** With text: prepend the model's BOS token unless the tokenizer already adds it (TransformerLens's to_tokens). Default false. */
  bos?: boolean;
}

/** One token: text that is exactly one token (" Mary"), or a token id (5335). */
export type TokenSpec = string | number;

/** A token id and how it reads ('#id' for an id the tokenizer lacks, or for a model with no tokenizer). */
export interface TokenInfo {
  id: number;
  text: string;
}

/** A token with its probability (softmax of the logits at that position). */
export interface TokenProb extends TokenInfo {
  prob: number;
}

/** A predicted next token: its probability and raw logit. */
export interface TokenPrediction extends TokenProb {
  logit: number;
}

/** The model's dimensions, returned with every model-based response. */
export interface ModelSummary {
  id: ModelId;
  /** config.json's model_type (llama, gpt2, gpt_neox, qwen2, gemma, mistral). */
  modelType: string;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  dModel: number;
  dHead: number;
  dVocab: number;
  /** Context length (positions). */
  nCtx: number;
  hasTokenizer: boolean;
}

/**
 * A float32 array sent compactly: `data` is base64 of its little-endian bytes, `shape` its
 * dimensions (row-major, outer first), `axes` their names. decodeFloat32 (./encoding.ts) gives a
 * Float32Array; element [i, j, k, l] is at ((i * shape[1] + j) * shape[2] + k) * shape[3] + l.
 */
export interface EncodedArray {
  dtype: 'float32';
  shape: number[];
  axes: string[];
  data: string;
}

/** Fields every model-based request has. */
export interface ModelRequest {
  /** Which model (an id from ModelsResponse, or a folder path inside the server's allowed folders). */
  model: ModelId;
}

// ─── models ─────────────────────────────────────────────────────────────────────────────────────

export type ModelsRequest = Record<string, never>;

export interface ModelInfo {
  id: ModelId;
  /** Short display name (the folder name, or the hub id). */
  label: string;
  /** embedded: an organism shipped in the package's models/; local: a folder; hub: the Hugging Face cache. */
  source: 'embedded' | 'local' | 'hub';
  /** config.json's model_type, or null when it cannot be read. */
  modelType: string | null;
  /** Bytes of the weight files (the download size of the model). */
  sizeBytes: number;
  /** sizeBytes <= BROWSER_MODEL_LIMIT_BYTES: small enough to run in the browser. */
  browserOk: boolean;
  hasTokenizer: boolean;
  /** A TUNED_LENS_FILE is beside the weights (lens with lens: 'tuned' works). */
  hasTunedLens: boolean;
  /** Loaded in the server's memory now (the next request on it starts at once). */
  loaded: boolean;
}

export interface ModelsResponse {
  models: ModelInfo[];
  /** The model to preselect: the one `dissect serve` was started with, else world-4l. */
  defaultModel: ModelId | null;
  browserLimitBytes: number;
  limits: ApiLimits;
}

// ─── tokenize ───────────────────────────────────────────────────────────────────────────────────

/** The tokens every other endpoint would use for this prompt. */
export interface TokenizeRequest extends ModelRequest, PromptSpec {}

export interface TokenizeResponse {
  model: ModelSummary;
  tokens: TokenInfo[];
}

// ─── run ────────────────────────────────────────────────────────────────────────────────────────

export interface RunRequest extends ModelRequest, PromptSpec {
  /** Next-token candidates per position. Default 5 (1..limits.maxTopK). */
  topK?: number;
  /** Predictions at every position ('all', default) or only after the last token ('last'). */
  predictions?: 'all' | 'last';
  /** Return attention patterns. Default true. */
  attention?: boolean;
  /** Which layers' patterns to return (default all). Patterns over MAX_ATTENTION_VALUES values in all are a 413: select layers. */
  attentionLayers?: number[];
  /**
   * Head detection: 'prompt' (default) scores heads on this prompt's own attention; 'random' on
   * repeated random tokens (the standard induction probe: BOS + segment + segment); 'none' skips it.
   */
  headScores?: 'prompt' | 'random' | 'none';
  /** For headScores 'random': segment length (default 20), rows (default 4) and seed (default 0). */
  random?: { seqLen?: number; batch?: number; seed?: number };
  /** Head detection options (TransformerLens's head_detector). Default false. */
  excludeBos?: boolean;
  excludeCurrentToken?: boolean;
}

export type HeadKind = 'previous_token' | 'duplicate_token' | 'induction';

export interface HeadScores {
  /** What the heads were scored on. */
  source: 'prompt' | 'random';
  /** The token rows scored (the prompt, or the random rows). */
  rows: number[][];
  /** [kind][layer][head]: share of each head's attention that lands where the kind's pattern says (1 = all; null when undefined). */
  scores: Record<HeadKind, (number | null)[][]>;
}

export interface RunResponse {
  model: ModelSummary;
  tokens: TokenInfo[];
  /** predictions[i]: the topK next tokens after position `position` (every position, or the last only). */
  predictions: { position: number; top: TokenPrediction[] }[];
  /** axes ['layer', 'head', 'query', 'key'] over attentionLayers: attention probabilities (rows sum to 1, zero above the diagonal); null when not asked. */
  attention: EncodedArray | null;
  /** The layers `attention` holds, in order (its first axis); null when not asked. */
  attentionLayers: number[] | null;
  headScores: HeadScores | null;
}

// ─── lens ───────────────────────────────────────────────────────────────────────────────────────

export interface LensRequest extends ModelRequest, PromptSpec {
  /** Report each cell's probability (and rank) of this token. */
  target?: TokenSpec;
  /** Top tokens per cell. Default 5. */
  topK?: number;
  /** 'logit' (default) or 'tuned' (needs the model's TUNED_LENS_FILE; else 404). */
  lens?: 'logit' | 'tuned';
  /** Logit lens only: 'fresh' (default, ln_final with each residual's own statistics) or 'cached' (the final layer's scale). */
  norm?: 'fresh' | 'cached';
}

export interface LensResponse {
  model: ModelSummary;
  tokens: TokenInfo[];
  lens: 'logit' | 'tuned';
  norm: 'fresh' | 'cached' | null;
  /** Row labels: '0_pre' … '{nLayers-1}_pre' (residual entering block L), 'final_post' (the model's output). */
  rows: string[];
  target: TokenInfo | null;
  /** [row][position][k]: the most probable next tokens under the lens, best first. */
  top: TokenProb[][][];
  /** [row][position]: probability of the target; null without a target. */
  targetProbs: number[][] | null;
  /** [row][position]: tokens strictly more probable than the target (0 = top); null without a target. */
  targetRanks: number[][] | null;
}

// ─── dla ────────────────────────────────────────────────────────────────────────────────────────

export interface DlaRequest extends ModelRequest, PromptSpec {
  /** The token whose logit is attributed. */
  target: TokenSpec;
  /** When given, attribute the logit difference target − distractor. */
  distractor?: TokenSpec;
  /** The position whose next-token logits are explained; negative counts from the end. Default -1. */
  position?: number;
  /** Also attribute to every attention head. Default true. */
  heads?: boolean;
}

export interface DlaResponse {
  model: ModelSummary;
  tokens: TokenInfo[];
  /** The position explained (non-negative). */
  position: number;
  target: TokenInfo;
  distractor: TokenInfo | null;
  /** 'embed', ('pos_embed',) then '{l}_attn_out', '{l}_mlp_out' per layer: each one's direct contribution. */
  components: { label: string; value: number }[];
  /** ln_final's bias and the unembedding bias on the target: no component's. */
  constant: number;
  /** Σ components + constant; equals modelLogit up to float rounding. */
  total: number;
  /** The model's own logit of the target (minus the distractor's) at the position. */
  modelLogit: number;
  /** [layer][head]: each head's direct contribution (each layer's output bias is not a head's); null when not asked. */
  heads: number[][] | null;
}

// ─── patch ──────────────────────────────────────────────────────────────────────────────────────

/** What patch sweeps: per (layer, position) for resid_pre/resid_mid/attn_out/mlp_out, per (layer, head) for z/q/k/v/pattern. */
export type PatchGridTarget = 'resid_pre' | 'resid_mid' | 'attn_out' | 'mlp_out' | 'z' | 'q' | 'k' | 'v' | 'pattern';
export const PATCH_GRID_TARGETS: readonly PatchGridTarget[] = ['resid_pre', 'resid_mid', 'attn_out', 'mlp_out', 'z', 'q', 'k', 'v', 'pattern'];

export type PatchMetric = 'logit-diff' | 'prob' | 'kl';

export interface PatchRequest extends ModelRequest {
  /** The clean prompt (its activations are patched in). */
  clean: PromptSpec;
  /** The corrupted prompt (patched into); the same number of tokens as clean. */
  corrupted: PromptSpec;
  /** 'logit-diff' (default: logit(answer) − logit(wrong)), 'prob' (P(answer)), 'kl' (KL(clean ‖ patched)); at the last position. */
  metric?: PatchMetric;
  /** The clean answer: needed by logit-diff and prob. */
  answer?: TokenSpec;
  /** The corrupted answer: needed by logit-diff. */
  wrong?: TokenSpec;
  /** Report (metric − corrupted) / (clean − corrupted): 0 = corrupted run, 1 = clean run. Default false. */
  normalise?: boolean;
  /** Sweeps to run, in order. Default ['resid_pre', 'z']: residual stream per layer × position, head outputs per layer × head. */
  targets?: PatchGridTarget[];
}

export interface PatchGrid {
  target: PatchGridTarget;
  /** ['layer', 'pos'] or ['layer', 'head']. */
  axes: ['layer', 'pos'] | ['layer', 'head'];
  /** [layer][pos or head]: the metric after patching that one activation (null: no such cell, e.g. k/v beyond nKvHeads). */
  values: (number | null)[][];
}

export interface PatchResponse {
  model: ModelSummary;
  cleanTokens: TokenInfo[];
  corruptedTokens: TokenInfo[];
  metric: PatchMetric;
  normalised: boolean;
  answer: TokenInfo | null;
  wrong: TokenInfo | null;
  /** The (unnormalised) metric on the clean and on the corrupted run. */
  baselines: { clean: number; corrupted: number };
  grids: PatchGrid[];
}

// ─── generate ───────────────────────────────────────────────────────────────────────────────────

export type ResidualPoint = 'resid_pre' | 'resid_mid' | 'resid_post';

/** A steering vector: the contrast (mean residual of positive − of negative, at each prompt's last token) at a layer. */
export interface SteeringSpec {
  positive: PromptSpec;
  negative: PromptSpec;
  layer: number;
  /** Default 'resid_pre'. */
  point?: ResidualPoint;
  /** Add coefficient × vector at every position. Default 1. */
  coefficient?: number;
}

export interface GenerateRequest extends ModelRequest, PromptSpec {
  /** Default 20 (1..limits.maxNewTokens). */
  maxNewTokens?: number;
  /** Sampling; greedy when none is given. Both runs use the same settings and seed. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Default 0. */
  seed?: number;
  /** Stop at the end-of-sequence token. Default false (always maxNewTokens tokens, so both texts compare). */
  stopAtEos?: boolean;
  /** When given, also generate with the steering vector added. */
  steering?: SteeringSpec;
}

export interface Generation {
  /** Generated ids (a final stop id included). */
  ids: number[];
  text: string;
  finishReason: 'stop' | 'length' | 'context';
}

export interface GenerateResponse {
  model: ModelSummary;
  promptTokens: TokenInfo[];
  unsteered: Generation;
  /** null without steering. */
  steered: Generation | null;
  /** What was added; null without steering. */
  steering: { layer: number; point: ResidualPoint; coefficient: number; vectorNorm: number } | null;
}

// ─── Progress, streaming, errors ───────────────────────────────────────────────────────────────

/** Progress of a long request: `done` of `total` units (patches, or generated tokens) over the whole request; `stage` names the current part. */
export interface Progress {
  stage: string;
  done: number;
  total: number;
}

/** One line of an NDJSON response. */
export type StreamLine<R> = { progress: Progress } | { result: R } | ApiErrorBody;

export type ApiErrorType =
  | 'bad_request' | 'forbidden' | 'not_found' | 'method_not_allowed' | 'too_large' | 'unsupported_media_type' | 'aborted' | 'internal';

/** The HTTP status of each error type ('aborted' is never seen by the client that left). */
export const ERROR_STATUS: Readonly<Record<ApiErrorType, number>> = {
  bad_request: 400,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  too_large: 413,
  unsupported_media_type: 415,
  aborted: 499,
  internal: 500,
};

export interface ApiErrorBody {
  error: {
    type: ApiErrorType;
    /** What was wrong and what was expected, e.g. "topK must be an integer in 1..100, got 0". */
    message: string;
    /** The request field at fault ('clean.text', 'target'), when there is one. */
    field?: string;
  };
}

/** Request and response type of each endpoint. */
export interface Endpoints {
  models: { request: ModelsRequest; response: ModelsResponse };
  tokenize: { request: TokenizeRequest; response: TokenizeResponse };
  run: { request: RunRequest; response: RunResponse };
  lens: { request: LensRequest; response: LensResponse };
  dla: { request: DlaRequest; response: DlaResponse };
  patch: { request: PatchRequest; response: PatchResponse };
  generate: { request: GenerateRequest; response: GenerateResponse };
}
