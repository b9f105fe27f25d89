// Rendering the library's progress callbacks on stderr: a line redrawn in place on a terminal
// (at most ten times a second), and nothing but completed downloads when stderr is a file or pipe,
// so logs stay readable.

import type { Terminal } from './terminal.js';

const REDRAW_MS = 100;

export interface LoadProgress {
  /** For LoadModelOptions.onProgress: tensors read so far. */
  onProgress: (done: number, total: number, name: string) => void;
  /** For LoadModelOptions.onDownload: bytes of one hub file. */
  onDownload: (bytes: number, total: number | undefined, file: string) => void;
  /** Clears the progress line. */
  finish(): void;
}

/** A status line on stderr redrawn in place (TTY only, at most every REDRAW_MS unless forced). */
function statusLine(terminal: Terminal): { draw(text: string, force: boolean): void; clear(): void } {
  let lastDraw = 0;
  let drawn = false;
  return {
    draw(text, force) {
      if (!terminal.errIsTTY) return;
      const now = Date.now();
      if (!force && now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      drawn = true;
      terminal.err(`\r\x1b[K${text}`);
    },
    clear() {
      if (drawn) terminal.err('\r\x1b[K');
      drawn = false;
    },
  };
}

export function loadProgress(terminal: Terminal): LoadProgress {
  const status = statusLine(terminal);
  const draw = status.draw;
  const reported = new Set<string>();
  return {
    onProgress: (done, total) => draw(`loading weights: ${done}/${total} tensors`, done === total),
    onDownload: (bytes, total, file) => {
      const complete = total !== undefined && bytes >= total;
      if (terminal.errIsTTY) {
        draw(`downloading ${file}: ${formatBytes(bytes)}${total !== undefined ? ` / ${formatBytes(total)}` : ''}`, complete);
      } else if (complete && !reported.has(file)) {
        reported.add(file);
        terminal.err(`downloaded ${file} (${formatBytes(bytes)})\n`);
      }
    },
    finish: () => status.clear(),
  };
}

export interface SweepProgressBar {
  /** For a sweep's onProgress: units done of total. */
  onProgress: (done: number, total: number) => void;
  /** Clears the bar. */
  finish(): void;
}

const BAR_WIDTH = 24;

/**
 * A progress bar for a long analysis (patching sweeps, corpus scans): `patching resid_pre
 * [#########---------------]  38%  90/240` on a terminal, nothing in logs.
 */
export function sweepProgress(terminal: Terminal, label: string): SweepProgressBar {
  const status = statusLine(terminal);
  return {
    onProgress: (done, total) => {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(fraction * BAR_WIDTH);
      const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
      status.draw(`${label} [${bar}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${done}/${total}`, done >= total);
    },
    finish: () => status.clear(),
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
