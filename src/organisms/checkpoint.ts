// Training checkpoints: the model as a Hugging Face folder (so any checkpoint loads like a shipped
// model), the AdamW moments in optimizer.safetensors, and the step counts in trainer-state.json.
// A checkpoint is written to `next/` and then renamed over `latest/`, so an interrupted save
// never leaves a half-written `latest/`. Node only.

import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import { writeAtomically } from '../io/atomic-write.js';
import { loadModelFolder } from '../io/load-model.js';
import { openSafetensors, writeSafetensors, type TensorToWrite } from '../io/safetensors.js';
import type { RawConfig } from '../models/arch/hf-config.js';
import type { HookedTransformer } from '../models/transformer.js';
import { tensor, type AdamW, type AdamWState } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { FormatError } from '../util/errors.js';
import { saveModelFolder } from './save.js';

export interface TrainerState {
  /** The recipe's name and seed, checked on resume so a checkpoint never continues another run. */
  recipe: string;
  seed: number;
  /** Steps completed. */
  step: number;
  /** Per optimizer group: AdamW's per-parameter step counts. */
  adamSteps: number[][];
  /** Loss of every completed step. */
  losses: number[];
  /** Wall-clock seconds spent training, summed over resumed runs. */
  seconds?: number;
}

/** Optimizer groups with the checkpoint names of their parameters, in order. */
export interface NamedGroup {
  optimizer: AdamW;
  names: readonly string[];
}

export async function saveCheckpoint(dir: string, model: HookedTransformer, raw: RawConfig, groups: readonly NamedGroup[], state: TrainerState): Promise<void> {
  const next = join(dir, 'next');
  await rm(next, { recursive: true, force: true });
  await mkdir(next, { recursive: true });
  await saveModelFolder(model, raw, next);
  const moments: Record<string, TensorToWrite> = {};
  groups.forEach((group, g) => {
    const exported = group.optimizer.exportState();
    group.names.forEach((name, i) => {
      for (const [key, t] of [['exp_avg', exported.expAvg[i]], ['exp_avg_sq', exported.expAvgSq[i]]] as const) {
        if (t !== null) moments[`${g}.${key}.${name}`] = { dtype: 'F32', shape: [...t.shape], data: t.toArray() as Float32Array };
      }
    });
    for (const t of [...exported.expAvg, ...exported.expAvgSq]) t?.dispose();
  });
  await writeSafetensors(join(next, 'optimizer.safetensors'), moments);
  await saveJson(join(next, 'trainer-state.json'), state);
  const latest = join(dir, 'latest');
  await rm(latest, { recursive: true, force: true });
  await rename(next, latest);
}

async function saveJson(path: string, value: unknown): Promise<void> {
  await writeAtomically(path, async (write) => write(new TextEncoder().encode(`${JSON.stringify(value)}\n`)));
}

/** The folder of the newest complete checkpoint under dir, or null. */
export async function findCheckpoint(dir: string): Promise<string | null> {
  for (const name of ['latest', 'next']) {
    const folder = join(dir, name);
    if (await stat(join(folder, 'trainer-state.json')).then(() => true, () => false)) return folder;
  }
  return null;
}

export async function readTrainerState(folder: string): Promise<TrainerState> {
  const path = join(folder, 'trainer-state.json');
  const state = JSON.parse(await readFile(path, 'utf8')) as TrainerState;
  if (!Number.isInteger(state.step) || !Array.isArray(state.adamSteps) || !Array.isArray(state.losses)) {
    throw new FormatError(`${path}: not a trainer state (needs step, adamSteps, losses)`);
  }
  return state;
}

export async function loadCheckpointModel(folder: string, backend?: Backend): Promise<HookedTransformer> {
  return loadModelFolder(folder, { backend });
}

/** Restores the AdamW moments and step counts saved by saveCheckpoint. */
export async function loadOptimizerState(folder: string, groups: readonly NamedGroup[], state: TrainerState, backend: Backend): Promise<void> {
  const file = await openSafetensors(join(folder, 'optimizer.safetensors'));
  try {
    const names = new Set(file.names());
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g];
      const read = async (key: string, name: string): Promise<Tensor | null> => {
        const full = `${g}.${key}.${name}`;
        if (!names.has(full)) return null;
        const loaded = await file.read(full);
        return tensor(loaded.data as Float32Array, loaded.shape, { backend });
      };
      const expAvg: (Tensor | null)[] = [];
      const expAvgSq: (Tensor | null)[] = [];
      for (const name of group.names) {
        expAvg.push(await read('exp_avg', name));
        expAvgSq.push(await read('exp_avg_sq', name));
      }
      const restored: AdamWState = { steps: state.adamSteps[g], expAvg, expAvgSq };
      group.optimizer.loadState(restored);
      for (const t of [...expAvg, ...expAvgSq]) t?.dispose();
    }
  } finally {
    await file.close();
  }
}
