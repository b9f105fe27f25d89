// SAE training checkpoints: `training.safetensors` (the parameters as trained — in the scaled
// activation space, JumpReLU's log_threshold —, Adam's moments, and the dead-feature counters),
// `trainer-state.json` (the spec, step counts, the activation scales, BatchTopK's threshold, where
// the data stream stopped), and `sae/`, an inference-ready SAELens folder of the SAE at that step.
// Written to `next/` and renamed over `latest/`, so an interrupted save never leaves half a checkpoint.
// Node only.

import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import { openSafetensors, writeAtomically, writeSafetensors, type LoadedTensor, type TensorToWrite } from '../io/safetensors.js';
import { tensor, type AdamW, type Tensor } from '../tensor/index.js';
import { FormatError } from '../util/errors.js';

export interface SAETrainerState {
  /** The training spec as JSON; a checkpoint only resumes the same spec. */
  spec: Record<string, unknown>;
  step: number;
  tokens: number;
  adamSteps: number[];
  /** The next activation-store harvest chunk (resumed runs continue on unseen data). */
  nextChunk: number;
  inputScale: number;
  outputScale: number;
  topkThreshold: number;
  /** Tokens counted into fire_counts since the last density window reset. */
  densityTokens: number;
  seconds: number;
}

export interface CheckpointTensors {
  /** Trained parameters by name (W_enc, b_enc, W_dec, b_dec, log_threshold). */
  params: Map<string, Tensor>;
  optimizer: AdamW;
  stepsSinceFired: Float32Array;
  fireCounts: Float32Array;
}

const STATE_FILE = 'trainer-state.json';
const TENSORS_FILE = 'training.safetensors';

function dense(t: Tensor): TensorToWrite {
  return { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.toArray()) };
}

/** Writes a checkpoint; `writeInference(folder)` adds the SAELens folder of the SAE at this step. */
export async function saveTrainingCheckpoint(dir: string, tensors: CheckpointTensors, state: SAETrainerState,
  writeInference: (folder: string) => Promise<void>): Promise<void> {
  const next = join(dir, 'next');
  await rm(next, { recursive: true, force: true });
  await mkdir(next, { recursive: true });
  const entries: Record<string, TensorToWrite> = {};
  const names = [...tensors.params.keys()];
  for (const [name, t] of tensors.params) entries[`param.${name}`] = dense(t);
  const exported = tensors.optimizer.exportState();
  names.forEach((name, i) => {
    const m = exported.expAvg[i];
    const v = exported.expAvgSq[i];
    if (m !== null) entries[`exp_avg.${name}`] = dense(m);
    if (v !== null) entries[`exp_avg_sq.${name}`] = dense(v);
  });
  for (const t of [...exported.expAvg, ...exported.expAvgSq]) t?.dispose();
  entries.steps_since_fired = { dtype: 'F32', shape: [tensors.stepsSinceFired.length], data: tensors.stepsSinceFired };
  entries.fire_counts = { dtype: 'F32', shape: [tensors.fireCounts.length], data: tensors.fireCounts };
  await writeSafetensors(join(next, TENSORS_FILE), entries);
  await writeInference(join(next, 'sae'));
  const bytes = new TextEncoder().encode(`${JSON.stringify({ ...state, adamSteps: exported.steps })}\n`);
  await writeAtomically(join(next, STATE_FILE), async (write) => write(bytes));
  const latest = join(dir, 'latest');
  await rm(latest, { recursive: true, force: true });
  await rename(next, latest);
}

/** The newest complete checkpoint folder under dir, or null. */
export async function findTrainingCheckpoint(dir: string): Promise<string | null> {
  for (const name of ['latest', 'next']) {
    const folder = join(dir, name);
    if (await stat(join(folder, STATE_FILE)).then(() => true, () => false)) return folder;
  }
  return null;
}

export interface LoadedCheckpoint {
  state: SAETrainerState;
  /** Every tensor of training.safetensors by name; the caller turns them into parameters. */
  tensors: Map<string, LoadedTensor>;
}

export async function readTrainingCheckpoint(folder: string): Promise<LoadedCheckpoint> {
  const path = join(folder, STATE_FILE);
  let state: SAETrainerState;
  try {
    state = JSON.parse(await readFile(path, 'utf8')) as SAETrainerState;
  } catch (error) {
    throw new FormatError(`${path}: not readable JSON (${(error as Error).message})`);
  }
  if (!Number.isInteger(state.step) || typeof state.spec !== 'object' || !Array.isArray(state.adamSteps)) {
    throw new FormatError(`${path}: not an SAE trainer state (needs spec, step, adamSteps)`);
  }
  const file = await openSafetensors(join(folder, TENSORS_FILE));
  const tensors = new Map<string, LoadedTensor>();
  try {
    for (const name of file.names()) tensors.set(name, await file.read(name));
  } finally {
    await file.close();
  }
  return { state, tensors };
}

/** Restores Adam's moments (names in the optimizer's parameter order) and step counts. */
export function restoreOptimizer(optimizer: AdamW, names: readonly string[], loaded: LoadedCheckpoint, backend: Backend): void {
  const read = (key: string): Tensor | null => {
    const t = loaded.tensors.get(key);
    return t === undefined ? null : tensor(t.data as Float32Array, t.shape, { backend });
  };
  const expAvg = names.map((n) => read(`exp_avg.${n}`));
  const expAvgSq = names.map((n) => read(`exp_avg_sq.${n}`));
  optimizer.loadState({ steps: [...loaded.state.adamSteps], expAvg, expAvgSq });
  for (const t of [...expAvg, ...expAvgSq]) t?.dispose();
}
