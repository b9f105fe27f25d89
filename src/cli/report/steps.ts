// Running a report's computations as named steps: each announces itself on stderr
// ("[ioi 3/6] path patching …") and its time when done, shows a progress bar on a terminal for
// sweeps, and stops at the next check once Ctrl-C aborts the command's signal.

import type { HookedTransformer, SweepControl, Tokenizer } from '../../index.js';
import { sweepProgress } from '../progress.js';
import type { Terminal } from '../terminal.js';

/** The model a report runs on, and how the report names it. */
export interface ReportTarget {
  model: HookedTransformer;
  tokenizer: Tokenizer;
  /** The model folder's name or hub id ('world-4l'). */
  label: string;
}

/** What a step's work receives to hand to library sweeps. */
export type StepControl = Required<Pick<SweepControl, 'onProgress' | 'signal'>>;

export interface StepTiming {
  label: string;
  seconds: number;
}

export class ReportSteps {
  readonly timings: StepTiming[] = [];
  private done = 0;
  private readonly started = performance.now();

  constructor(private readonly terminal: Terminal, private readonly signal: AbortSignal, private readonly kind: string,
    private readonly total: number) {}

  /**
   * Runs one step. `work` receives the control to hand to library sweeps (progress callback and the
   * abort signal); the step's seconds are returned with its value.
   */
  async run<T>(label: string, work: (control: StepControl) => Promise<T> | T): Promise<{ value: T; seconds: number }> {
    this.signal.throwIfAborted();
    this.done++;
    this.terminal.err(`[${this.kind} ${this.done}/${this.total}] ${label}\n`);
    const bar = sweepProgress(this.terminal, `  ${label}`);
    const start = performance.now();
    let value: T;
    try {
      value = await work({ onProgress: bar.onProgress, signal: this.signal });
    } finally {
      bar.finish();
    }
    // Synchronous work cannot be interrupted midway; stop here rather than start the next step.
    this.signal.throwIfAborted();
    const seconds = (performance.now() - start) / 1000;
    this.timings.push({ label, seconds });
    this.terminal.err(`  done in ${seconds.toFixed(1)} s\n`);
    return { value, seconds };
  }

  /** Seconds since the steps began. */
  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }
}
