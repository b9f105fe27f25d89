// dissect sae train: train an SAE (or a transcoder, with --hook-out) on a model's activations over a
// corpus, write it as a SAELens folder, and evaluate it. Ctrl-C saves a checkpoint; the same command
// resumes from it.

import { join } from 'node:path';
import {
  ActivationDiskCache, SAE_ARCHITECTURES, evaluateSAE, hookWidth, layerOfHook, modelChunkSource, saeTrainSpec, saveSAE, trainSAE,
  type SAEArchitecture, type SAEConfig, type SAETrainProgress,
} from '../../index.js';
import { modelLabel } from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, openModel } from '../model-flags.js';
import type { Terminal } from '../terminal.js';
import { chooseCorpus } from './sae-corpus.js';
import { EVAL_FLAGS, evalRows, printEval } from './sae-eval.js';

function seconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const r = Math.round(s);
  return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`;
}

function progressPrinter(terminal: Terminal, every: number): (p: SAETrainProgress) => void {
  let lastDraw = 0;
  return (p) => {
    const line = `step ${p.step}/${p.totalSteps}  loss ${p.loss.toFixed(4)}  mse ${p.mse.toFixed(4)}  L0 ${p.l0.toFixed(1)}  `
      + `EV ${p.explainedVariance.toFixed(3)}  dead ${(100 * p.deadFraction).toFixed(1)}%  lr ${p.lr.toExponential(1)}  `
      + `${Math.round(p.tokensPerSecond)} tok/s  ${seconds(p.elapsedSeconds)} eta ${seconds(p.etaSeconds)}`;
    if (terminal.errIsTTY) {
      const now = Date.now();
      if (now - lastDraw < 100 && p.step !== p.totalSteps) return;
      lastDraw = now;
      terminal.err(`\r\x1b[K${line}`);
    } else if (p.step % every === 0 || p.step === p.totalSteps) {
      terminal.err(`${line}\n`);
    }
  };
}

function positive(flag: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(value > 0)) throw new UsageError(`--${flag} must be > 0, got ${value}`);
  return value;
}

export const saeTrainCommand = defineCommand({
  name: 'sae train',
  summary: 'Train a sparse autoencoder (or transcoder) on activations at a hook; write it in SAELens format.',
  positionals: ['model'],
  flags: {
    hook: { type: 'string', placeholder: 'NAME', description: 'hook the SAE reads, e.g. blocks.2.hook_resid_pre (required)' },
    'hook-out': { type: 'string', placeholder: 'NAME', description: 'train a transcoder that predicts this hook (e.g. blocks.2.hook_mlp_out)' },
    arch: { type: 'string', placeholder: 'A', description: `${SAE_ARCHITECTURES.join(', ')} (default topk)` },
    k: { type: 'number', placeholder: 'K', description: 'topk/batchtopk: active features per token (default 32)' },
    width: { type: 'integer', placeholder: 'N', description: 'features, d_sae (default 32 × d_in)' },
    steps: { type: 'integer', placeholder: 'N', description: 'training steps (default 2000)' },
    'batch-tokens': { type: 'integer', placeholder: 'N', description: 'tokens per step (default 4096)' },
    lr: { type: 'number', placeholder: 'LR', description: 'learning rate (default 3e-4; Adam, SAELens defaults)' },
    'lr-warmup': { type: 'integer', placeholder: 'N', description: 'linear warm-up steps (default 0)' },
    'lr-decay': { type: 'integer', placeholder: 'N', description: 'final steps of linear decay to 0 (default steps/5)' },
    'lr-scheduler': { type: 'string', placeholder: 'S', description: 'constant (default) or cosineannealing' },
    l1: { type: 'number', placeholder: 'C', description: 'standard: L1 coefficient (default 5)' },
    'l1-warmup': { type: 'integer', placeholder: 'N', description: 'standard: L1 warm-up steps (default steps/20)' },
    l0: { type: 'number', placeholder: 'C', description: 'jumprelu: L0 coefficient (default 1)' },
    'l0-warmup': { type: 'integer', placeholder: 'N', description: 'jumprelu: L0 warm-up steps (default steps/20)' },
    bandwidth: { type: 'number', placeholder: 'E', description: 'jumprelu: straight-through kernel width (default 0.05)' },
    'aux-k': { type: 'number', placeholder: 'C', description: 'topk/batchtopk: AuxK coefficient for dead features (default 1)' },
    'dead-window': { type: 'integer', placeholder: 'N', description: 'steps without firing before a feature counts as dead (default 200)' },
    normalize: { type: 'string', placeholder: 'N', description: 'expected_average_only_in (default: scale to mean norm sqrt(d), folded in on save) or none' },
    context: { type: 'integer', placeholder: 'L', description: 'tokens per row (default: the model context, at most 128)' },
    text: { type: 'string', placeholder: 'FILE', description: "train on this text file (paragraphs) instead of world-4l's training mixture" },
    'activation-cache': { type: 'string', placeholder: 'DIR', description: 'cache harvested activations here as safetensors shards (reused by later runs)' },
    seed: { type: 'integer', placeholder: 'S', description: 'seed of the weights, the data and the shuffling (default 0)' },
    out: { type: 'string', placeholder: 'DIR', description: 'folder to write the SAE to (required)' },
    checkpoints: { type: 'string', placeholder: 'DIR', description: 'checkpoint folder (default DIR/checkpoints); an existing checkpoint is resumed' },
    'checkpoint-every': { type: 'integer', placeholder: 'N', description: 'save a checkpoint every N steps (default 500)' },
    'stop-at': { type: 'integer', placeholder: 'STEP', description: 'stop after this step (resume later)' },
    'log-every': { type: 'integer', placeholder: 'N', description: 'when stderr is not a terminal, print progress every N steps (default 50)' },
    'no-eval': { type: 'boolean', description: 'skip the evaluation after training' },
    ...EVAL_FLAGS,
    ...MODEL_FLAGS,
  },
  details: 'Writes DIR/cfg.json, DIR/sae_weights.safetensors (SAELens layout: W_enc, b_enc, W_dec, b_dec[, threshold]) and\n'
    + 'DIR/sparsity.safetensors, then evaluates on held-out rows (L0, explained variance, CE loss recovered...).\n'
    + 'Example: dissect sae train --hook blocks.2.hook_resid_pre --arch topk --k 32 --width 4096 --out sae-l2\n'
    + `${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    if (flags.hook === undefined) throw new UsageError('sae train needs --hook, e.g. --hook blocks.2.hook_resid_pre');
    if (flags.out === undefined) throw new UsageError('sae train needs --out DIR');
    const arch = (flags.arch ?? 'topk') as SAEArchitecture;
    if (!SAE_ARCHITECTURES.includes(arch)) throw new UsageError(`--arch must be one of ${SAE_ARCHITECTURES.join(', ')}, got '${flags.arch}'`);
    const normalize = flags.normalize ?? 'expected_average_only_in';
    if (normalize !== 'none' && normalize !== 'expected_average_only_in') throw new UsageError(`--normalize must be expected_average_only_in or none, got '${normalize}'`);
    const scheduler = flags['lr-scheduler'] ?? 'constant';
    if (scheduler !== 'constant' && scheduler !== 'cosineannealing') throw new UsageError(`--lr-scheduler must be constant or cosineannealing, got '${scheduler}'`);
    for (const f of ['k', 'width', 'steps', 'batch-tokens', 'lr', 'l1', 'l0', 'bandwidth', 'context'] as const) positive(f, flags[f]);

    const { model, tokenizer, location } = await openModel(name, flags, terminal, context);
    try {
      const steps = flags.steps ?? 2000;
      const dIn = hookWidth(model, flags.hook);
      const dOut = flags['hook-out'] !== undefined ? hookWidth(model, flags['hook-out']) : dIn;
      const ctx = Math.min(flags.context ?? 128, model.config.nCtx);
      const batchTokens = flags['batch-tokens'] ?? 4096;
      const seed = flags.seed ?? 0;
      const config: SAEConfig = {
        architecture: arch, d_in: dIn, d_sae: flags.width ?? 32 * dIn, apply_b_dec_to_input: flags['hook-out'] === undefined,
        normalize_activations: 'none', hook_name: flags.hook, hook_layer: layerOfHook(flags.hook), hook_head_index: null,
        model_name: modelLabel(name, location), context_size: ctx, prepend_bos: true, dtype: 'float32',
        ...(arch === 'topk' || arch === 'batchtopk' ? { k: flags.k ?? 32 } : {}),
        ...(flags['hook-out'] !== undefined ? { d_out: dOut, hook_name_out: flags['hook-out'], hook_layer_out: layerOfHook(flags['hook-out']) } : {}),
      };
      const spec = saeTrainSpec(config, {
        steps, batchTokens, lr: flags.lr ?? 3e-4, lrWarmupSteps: flags['lr-warmup'] ?? 0, lrDecaySteps: flags['lr-decay'] ?? Math.floor(steps / 5),
        lrScheduler: scheduler, l1Coefficient: flags.l1 ?? 5, l1WarmupSteps: flags['l1-warmup'] ?? Math.floor(steps / 20),
        l0Coefficient: flags.l0 ?? 1, l0WarmupSteps: flags['l0-warmup'] ?? Math.floor(steps / 20), jumpreluBandwidth: flags.bandwidth ?? 0.05,
        auxKCoefficient: flags['aux-k'] ?? 1, deadFeatureWindow: flags['dead-window'] ?? 200, normalizeActivations: normalize, seed,
      });
      // Each harvest chunk is one forward pass over these rows (about two batches of tokens).
      const rowsPerChunk = Math.max(1, Math.ceil((2 * batchTokens) / ctx));
      const corpus = await chooseCorpus(flags, model, tokenizer, ctx, rowsPerChunk, seed, 'train');
      const diskCache = flags['activation-cache'] === undefined ? undefined : await ActivationDiskCache.open(flags['activation-cache'], {
        model: modelLabel(name, location), hook_name: flags.hook, hook_name_out: flags['hook-out'] ?? null, d_in: dIn, d_out: dOut,
        corpus: `${corpus.name}; ${rowsPerChunk} rows × ${ctx}`,
      });
      const source = modelChunkSource({ model, hookName: flags.hook, outputHookName: flags['hook-out'], rows: corpus.rows, diskCache });
      terminal.err(`training ${arch} ${flags['hook-out'] ? 'transcoder' : 'SAE'} d_in ${dIn} → d_sae ${config.d_sae} at ${flags.hook} on ${corpus.name}\n`);
      const result = await trainSAE(spec, {
        source, backend: model.backend, checkpointDir: flags.checkpoints ?? join(flags.out, 'checkpoints'),
        checkpointEvery: flags['checkpoint-every'], stopAt: flags['stop-at'], signal: context.signal,
        onProgress: progressPrinter(terminal, flags['log-every'] ?? 50), metadata: { trained_with: 'dissect', corpus: corpus.name },
      });
      if (terminal.errIsTTY) terminal.err('\n');
      try {
        await saveSAE(result.sae, flags.out, { logSparsity: result.logSparsity, metadata: { trained_with: 'dissect', corpus: corpus.name } });
        const summary = {
          folder: flags.out, step: result.step, total_steps: steps, train_tokens: result.tokens, seconds: Math.round(result.seconds),
          tokens_per_second: Math.round(result.tokens / Math.max(result.seconds, 1e-9)), norm_scaling_factor: result.inputScale,
        };
        if (flags['no-eval'] || result.step < steps) {
          terminal.out(`${JSON.stringify(summary)}\n`);
          return 0;
        }
        const rows = await evalRows(flags, model, tokenizer, ctx, seed);
        const evaluation = await evaluateSAE(model, result.sae, { rows, signal: context.signal });
        printEval(terminal, evaluation, flags.json === true, summary);
      } finally {
        result.sae.dispose();
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
});
