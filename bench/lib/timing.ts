// Shared timing helpers for benchmarks: best-of-rounds wall time (robust to a busy machine) and
// locating a Python with the packages a comparison needs.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Median of `rounds` timed calls after `warmup` untimed ones, in milliseconds. */
export function medianMs(fn: () => void, rounds: number, warmup = 1): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * A python3 that can import `modules`: $DISSECT_PYTHON, then /tmp/venv (the dev machine's torch
 * venv), then python3 on PATH. Null when none can.
 */
export function findPython(modules: readonly string[]): string | null {
  const candidates = [process.env.DISSECT_PYTHON, '/tmp/venv/bin/python', 'python3'].filter(
    (p): p is string => typeof p === 'string' && p.length > 0 && (p === 'python3' || existsSync(p)));
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return null;
}
