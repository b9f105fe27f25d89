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

export function loadProgress(terminal: Terminal): LoadProgress {
  let lastDraw = 0;
  let drawn = false;
  const draw = (text: string, force: boolean) => {
    if (!terminal.errIsTTY) return;
    const now = Date.now();
    if (!force && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    drawn = true;
    terminal.err(`\r\x1b[K${text}`);
  };
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
    finish: () => {
      if (drawn) terminal.err('\r\x1b[K');
      drawn = false;
    },
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
