// dissect train: build a model organism from its recipe — train (resuming from the checkpoints in
// the output folder), evaluate, and write a Hugging Face folder with a model card.

import { ORGANISM_NAMES, buildOrganism, type TrainProgress } from '../../index.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../flags.js';
import type { Terminal } from '../terminal.js';

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A progress line redrawn in place on a terminal; one line per `every` steps in logs. */
function progressPrinter(terminal: Terminal, every: number): (p: TrainProgress) => void {
  let lastDraw = 0;
  return (p) => {
    const line = `step ${p.step}/${p.totalSteps}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  `
      + `${Math.round(p.tokensPerSecond)} tok/s  elapsed ${formatSeconds(p.elapsedSeconds)}  eta ${formatSeconds(p.etaSeconds)}`;
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

export const trainCommand = defineCommand({
  name: 'train',
  summary: 'Train a model organism (a small model whose mechanism is known) from its recipe.',
  positionals: ['recipe'],
  flags: {
    out: { type: 'string', placeholder: 'DIR', description: 'folder to write the model to (required)' },
    checkpoints: { type: 'string', placeholder: 'DIR', description: 'checkpoint folder (default DIR/training); an existing checkpoint is resumed' },
    'checkpoint-every': { type: 'integer', placeholder: 'N', description: 'save a checkpoint every N steps (default 200)' },
    'stop-at': { type: 'integer', placeholder: 'STEP', description: 'stop after this step and write the model (resume later)' },
    'log-every': { type: 'integer', placeholder: 'N', description: 'when stderr is not a terminal, print progress every N steps (default 50)' },
  },
  details: `Recipes: ${ORGANISM_NAMES.join(', ')}.\nCtrl-C saves a checkpoint; running the same command again resumes from it.`,
  async run({ positionals: [recipe], flags }, terminal, context) {
    if (flags.out === undefined) throw new UsageError('train needs --out DIR');
    if (!ORGANISM_NAMES.includes(recipe)) throw new UsageError(`unknown recipe '${recipe}'; recipes: ${ORGANISM_NAMES.join(', ')}`);
    const result = await buildOrganism(recipe, {
      out: flags.out,
      checkpointDir: flags.checkpoints,
      checkpointEvery: flags['checkpoint-every'],
      stopAt: flags['stop-at'],
      signal: context.signal,
      onProgress: progressPrinter(terminal, flags['log-every'] ?? 50),
    });
    if (terminal.errIsTTY) terminal.err('\n');
    terminal.out(`${JSON.stringify({ folder: result.folder, step: result.step, total_steps: result.totalSteps, seconds: Math.round(result.seconds), metrics: result.metrics })}\n`);
    return 0;
  },
});
