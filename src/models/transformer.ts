// HookedTransformer: a decoder-only transformer of any supported family, whose every intermediate
// activation is reachable through TransformerLens-named hook points. Default outputs equal Hugging
// Face's: no weight processing happens unless asked for.

import type { Backend } from '../backend/types.js';
import { ActivationCache } from '../hooks/activation-cache.js';
import { HookSet, matchHookNames, type Hook, type HookFilter, type HookPointInfo } from '../hooks/hook-set.js';
import { inverseFrequencies, rotaryTables } from '../nn/rotary-tables.js';
import { linear } from '../nn/linear.js';
import { keep, tensor, tidy } from '../tensor/index.js';
import { Tensor } from '../tensor/tensor.js';
import { IndexError, ShapeError, UseAfterFreeError, fmtShape } from '../util/errors.js';
import { block, norm } from './block.js';
import type { ModelConfig } from './config.js';
import { hookPointsFor, optInHookPointsFor } from './hook-points.js';
import { resolveInputs, type MaskInput, type TokenInput } from './inputs.js';
import type { KVCache } from './kv-cache.js';
import type { TransformerParams } from './params.js';
import type { RunContext } from './run-context.js';

export interface ForwardOptions {
  /** Hooks for this call only. */
  hooks?: readonly Hook[];
  /** [batch, pos] 1 = token, 0 = padding (left or right). */
  attentionMask?: MaskInput;
  /** Run blocks 0..stopAtLayer-1 and return the residual stream [batch, pos, d_model] instead of logits. */
  stopAtLayer?: number;
  /**
   * Start at block startAtLayer: the first argument is then the residual stream entering it, a
   * float Tensor [batch, pos, d_model], not tokens (TransformerLens's start_at_layer). Embedding
   * hooks do not run; positions and masks come from its shape and `attentionMask`. Patching sweeps
   * use it to skip the blocks a patch cannot change. With a kvCache, the blocks that run read and
   * extend their own layers' entries; the skipped blocks' entries are left as they are.
   */
  startAtLayer?: number;
  /**
   * Which positions get logits: 'all' (default), 'last' (each row's last real token), or a list of
   * indices. Unembedding is the largest matmul of a small model; interpretability often needs one position.
   */
  logitPositions?: 'all' | 'last' | readonly number[];
  /** Past keys/values: generation feeds only new tokens. */
  kvCache?: KVCache;
}

export interface CacheOptions extends ForwardOptions {
  /** Which activations to keep (all when omitted). */
  names?: HookFilter;
}

export class HookedTransformer {
  /** The standard hook points: what patterns match and what runWithCache records by default. */
  readonly hookPoints: readonly HookPointInfo[];
  /**
   * Hook points that exist only when named exactly (hook_q/k/v_input, hook_attn_in, attn.hook_result,
   * hook_mlp_in; see optInHookPointsFor): hooking one switches its layer to the per-head computation.
   */
  readonly optInHookPoints: readonly HookPointInfo[];
  readonly backend: Backend;
  private readonly allHookPoints: readonly HookPointInfo[];
  private readonly optInNames: ReadonlySet<string>;
  private readonly invFreq: Float64Array | null;
  private disposed = false;

  constructor(readonly config: ModelConfig, readonly params: TransformerParams) {
    this.hookPoints = hookPointsFor(config);
    this.optInHookPoints = optInHookPointsFor(config);
    this.allHookPoints = [...this.hookPoints, ...this.optInHookPoints];
    this.optInNames = new Set(this.optInHookPoints.map((p) => p.name));
    this.backend = params.embed.backend;
    this.invFreq = config.positional === 'rotary'
      ? inverseFrequencies(config.rotaryDim, config.rotaryBase, config.ropeScaling)
      : null;
  }

  get hookNames(): string[] {
    return this.hookPoints.map((p) => p.name);
  }

  /** Logits [batch, pos, d_vocab] (or the residual stream with stopAtLayer). The caller owns the result. */
  forward(tokens: TokenInput, options: ForwardOptions = {}): Tensor {
    this.assertLive();
    const hooks = options.hooks?.length ? new HookSet(options.hooks.map((h) => this.standardPatterns(h)), this.allHookPoints) : HookSet.none;
    const cache = options.kvCache;
    const before = cache ? { length: cache.length, mask: cache.mask } : null;
    try {
      return tidy(() => {
        const out = this.run(tokens, options, hooks);
        // A kept result is owned elsewhere (e.g. the cache recorded it as hook_resid_post when
        // stopAtLayer ends there): hand the caller its own tensor (a view; reshape keeps autograd).
        return out.kept ? out.reshape(out.shape) : out;
      });
    } catch (err) {
      // A failure after some layers appended would leave the cache with layers of different lengths.
      if (cache && before) cache.truncate(before.length, before.mask);
      throw err;
    }
  }

  runWithHooks(tokens: TokenInput, hooks: readonly Hook[], options: ForwardOptions = {}): Tensor {
    return this.forward(tokens, { ...options, hooks: [...(options.hooks ?? []), ...hooks] });
  }

  /**
   * Runs the model and records activations (TransformerLens's run_with_cache). Only the requested
   * names are kept. If the logits feed a loss and `loss.backward()` runs, `cache.grad(name)` gives
   * the gradient at each cached activation (TL's incl_bwd).
   */
  runWithCache(tokens: TokenInput, options: CacheOptions = {}): { logits: Tensor; cache: ActivationCache } {
    this.assertLive();
    const names = options.names === undefined ? this.hookNames : matchHookNames(this.standardPatterns({ name: options.names, fn: () => undefined }).name, this.allHookPoints);
    const cache = new ActivationCache();
    const recorder: Hook = {
      name: names,
      fn: (activation, point) => {
        keep(activation);
        if (activation.requiresGrad) activation.retainGrad();
        cache.store(point, activation);
      },
    };
    try {
      const logits = this.forward(tokens, { ...options, hooks: [...(options.hooks ?? []), recorder] });
      return { logits, cache };
    } catch (err) {
      cache.dispose();
      throw err;
    }
  }

  /** Frees every weight. The model must not be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of new Set(this.params.named.values())) t.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The hook with a pattern or predicate narrowed to the standard hook points; exact names pass through. */
  private standardPatterns(hook: Hook): Hook {
    const filter = hook.name;
    if (typeof filter === 'string' || Array.isArray(filter)) return hook;
    if (filter instanceof RegExp) return { ...hook, name: (name: string) => !this.optInNames.has(name) && filter.test(name) };
    if (typeof filter === 'function') {
      const predicate = filter as (name: string) => boolean;
      return { ...hook, name: (name: string) => !this.optInNames.has(name) && predicate(name) };
    }
    return hook; // HookSet reports the bad filter
  }

  private assertLive(): void {
    if (this.disposed) throw new UseAfterFreeError('this model was disposed');
  }

  private run(tokens: TokenInput, options: ForwardOptions, hooks: HookSet): Tensor {
    const c = this.config;
    const past = options.kvCache?.length ?? 0;
    const start = options.startAtLayer === undefined ? null : residualStart(tokens, options, c);
    const inputs = resolveInputs(c, start?.placeholderTokens ?? tokens, options.attentionMask, past, options.kvCache?.mask ?? null);
    const batch = inputs.tokens.length;
    const cachedBatch = options.kvCache?.batch ?? null;
    if (cachedBatch !== null && cachedBatch !== batch) {
      throw new ShapeError(`tokens have batch ${batch} but the KV cache holds batch ${cachedBatch}`);
    }
    const pos = inputs.tokens[0].length;
    const stopAt = options.stopAtLayer ?? c.nLayers;
    if (!Number.isInteger(stopAt) || stopAt < 0 || stopAt > c.nLayers) {
      throw new IndexError(`stopAtLayer ${stopAt} is out of range 0..${c.nLayers}`);
    }
    if (options.kvCache) options.kvCache.mask = inputs.mask;

    let resid: Tensor;
    if (start !== null) {
      if (start.layer > stopAt) throw new IndexError(`startAtLayer ${start.layer} is after stopAtLayer ${stopAt}`);
      resid = start.resid.view(start.resid.shape); // a new Tensor object: the caller's input is never returned
    } else {
      const ids = tensor(Int32Array.from(inputs.tokens.flat()), [batch, pos], { dtype: 'int32', backend: this.backend });
      let embed = this.params.embed.indexSelect(0, ids);
      if (c.embedScale !== 1) embed = embed.mul(c.embedScale);
      resid = hooks.apply('hook_embed', embed);
      if (this.params.posEmbed !== null) {
        const positions = tensor(Int32Array.from(inputs.positions.flat()), [batch, pos], { dtype: 'int32', backend: this.backend });
        resid = resid.add(hooks.apply('hook_pos_embed', this.params.posEmbed.indexSelect(0, positions)));
      }
    }
    const ctx = this.context(inputs, batch, pos, past, hooks, options.kvCache ?? null);
    for (let l = start?.layer ?? 0; l < stopAt; l++) resid = block(resid, this.params.blocks[l], l, ctx);
    // As in TransformerLens, any stopAtLayer (nLayers included) returns the residual stream, not logits.
    if (options.stopAtLayer !== undefined) return resid;

    const selected = selectPositions(resid, options.logitPositions ?? 'all', inputs.mask);
    return linear(norm(selected, this.params.lnFinal, 'ln_final', ctx), this.params.unembed);
  }

  private context(inputs: ReturnType<typeof resolveInputs>, batch: number, pos: number, past: number,
    hooks: HookSet, kvCache: KVCache | null): RunContext {
    const keys = past + pos;
    let paddingBias: Tensor | null = null;
    if (inputs.mask !== null && inputs.mask.some((row) => row.includes(0))) {
      const data = new Float32Array(batch * keys);
      inputs.mask.forEach((row, b) => row.forEach((m, j) => { if (m === 0) data[b * keys + j] = -Infinity; }));
      paddingBias = tensor(data, [batch, 1, 1, keys], { backend: this.backend });
    }
    let windowBias: Tensor | null = null;
    const window = this.config.slidingWindow;
    if (window !== null && keys > window) {
      const data = new Float32Array(pos * keys);
      for (let i = 0; i < pos; i++) {
        for (let j = 0; j <= past + i - window; j++) data[i * keys + j] = -Infinity;
      }
      windowBias = tensor(data, [1, 1, pos, keys], { backend: this.backend });
    }
    const tables = this.invFreq ? rotaryTables(inputs.positions, this.invFreq, this.backend) : null;
    return {
      config: this.config, backend: this.backend, hooks, batch, pos, pastLength: past, paddingBias, windowBias,
      cos: tables?.cos ?? null, sin: tables?.sin ?? null, kvCache,
    };
  }
}

/** Checks a startAtLayer input: a float residual stream [batch, pos, d_model]. */
function residualStart(input: TokenInput, options: ForwardOptions, c: ModelConfig): { resid: Tensor; layer: number; placeholderTokens: number[][] } {
  const layer = options.startAtLayer as number;
  if (!Number.isInteger(layer) || layer < 0 || layer > c.nLayers) {
    throw new IndexError(`startAtLayer ${layer} is out of range 0..${c.nLayers}`);
  }
  if (!(input instanceof Tensor) || input.ndim !== 3 || input.shape[2] !== c.dModel || input.dtype === 'int32') {
    const got = input instanceof Tensor ? `a ${input.dtype} tensor of shape ${fmtShape(input.shape)}` : 'token ids';
    throw new ShapeError(`with startAtLayer the input is the residual stream, a float tensor [batch, pos, ${c.dModel}]; got ${got}`);
  }
  const [batch, pos] = input.shape;
  // Positions and masks are derived from token rows; id 0 always exists and is never embedded.
  return { resid: input, layer, placeholderTokens: Array.from({ length: batch }, () => new Array<number>(pos).fill(0)) };
}

/** resid [batch, pos, d] → [batch, n, d] at the requested positions. */
function selectPositions(resid: Tensor, which: 'all' | 'last' | readonly number[], mask: number[][] | null): Tensor {
  if (which === 'all') return resid;
  const [batch, pos, d] = resid.shape;
  let rowsIdx: number[][];
  if (which === 'last') {
    const keyOffset = mask === null ? 0 : mask[0].length - pos;
    rowsIdx = Array.from({ length: batch }, (_, b) => {
      if (mask === null) return [pos - 1];
      const row = mask[b].slice(keyOffset);
      const last = row.lastIndexOf(1);
      return [last < 0 ? pos - 1 : last];
    });
  } else {
    for (const p of which) {
      if (!Number.isInteger(p) || p < -pos || p >= pos) throw new IndexError(`logit position ${p} is out of range for ${pos} positions`);
    }
    const normalized = which.map((p) => (p < 0 ? p + pos : p));
    rowsIdx = Array.from({ length: batch }, () => normalized);
  }
  const n = rowsIdx[0].length;
  const flatIds = Int32Array.from(rowsIdx.flatMap((row, b) => row.map((p) => b * pos + p)));
  const ids = tensor(flatIds, [batch * n], { dtype: 'int32', backend: resid.backend });
  return resid.reshape(batch * pos, d).indexSelect(0, ids).reshape(batch, n, d);
}
