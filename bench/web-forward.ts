// Forward-pass time in the browser vs in Node, both on the wasm backend with the same threads:
// world-4l (the shipped checkpoint) and a GPT-2-small-shaped model (124M, random init), one row of
// `seq` seeded random tokens, logits at every position, median of `rounds`. The browser side is
// bench/web (built here with Vite, served cross-origin isolated, run in Debian's Chromium through
// playwright-core, in a Web Worker as the UI runs models). Prints JSON lines and the ratio.
// `npm run bench -- web-forward [rounds] [seq] [threads]` (defaults 5, 64, 2).

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../src/backend/wasm/index.js';
import { createBackend } from '../src/backend/registry.js';
import { loadModelFolder } from '../src/io/load-model.js';
import type { HookedTransformer } from '../src/models/transformer.js';
import { Rng } from '../src/tensor/index.js';
import { findChromium, launchChromium, startStaticServer } from '../test/web/browser.js';
import { buildGpt2 } from './lib/gpt2-small.js';
import { medianMs } from './lib/timing.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Untimed calls first: V8 compiles wasm in a baseline tier and optimises hot functions later. */
const WARMUP = 3;

function randomTokens(vocab: number, seq: number): number[] {
  const rng = new Rng(1);
  return Array.from({ length: seq }, () => rng.int(0, vocab));
}

interface BrowserRow {
  model: string;
  seq: number;
  ms: number;
}

async function nodeTimes(rounds: number, seq: number, threads: number): Promise<Map<string, number>> {
  const backend = createBackend('wasm', { threads });
  const times = new Map<string, number>();
  try {
    for (const name of ['world-4l', 'gpt2-small']) {
      const model: HookedTransformer = name === 'world-4l'
        ? await loadModelFolder(join(repoRoot, 'models', 'world-4l'), { backend })
        : buildGpt2(backend);
      const tokens = randomTokens(model.config.dVocab, seq);
      times.set(name, medianMs(() => model.forward([tokens]).dispose(), rounds, WARMUP));
      model.dispose();
    }
  } finally {
    backend.dispose();
  }
  return times;
}

async function browserTimes(rounds: number, seq: number, threads: number): Promise<{ threads: number; isolated: boolean; results: BrowserRow[] }> {
  const chromium = findChromium();
  if (!chromium) throw new Error('no Chromium found (apt-get install chromium, or set CHROMIUM)');
  const { build } = await import('vite');
  const site = mkdtempSync(join(tmpdir(), 'dissect-bench-web-'));
  try {
    await build({
      configFile: join(repoRoot, 'vite.config.ts'),
      root: join(repoRoot, 'bench', 'web'),
      logLevel: 'warn',
      build: { outDir: site, emptyOutDir: true, sourcemap: false },
    });
    cpSync(join(repoRoot, 'models', 'world-4l'), join(site, 'world-4l'), { recursive: true });
    const server = await startStaticServer(site, true);
    const browser = await launchChromium(chromium);
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}?threads=${threads}&rounds=${rounds}&seq=${seq}`);
      const handle = await page.waitForFunction(() => (globalThis as { benchResult?: unknown }).benchResult, undefined, { timeout: 600_000 });
      const result = await handle.jsonValue() as { error?: string; threads: number; isolated: boolean; results: BrowserRow[] };
      if (result.error) throw new Error(`browser: ${result.error}`);
      return result;
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    rmSync(site, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? 5);
  const seq = Number(args[1] ?? 64);
  const threads = Number(args[2] ?? 2);
  const node = await nodeTimes(rounds, seq, threads);
  const browser = await browserTimes(rounds, seq, threads);
  for (const row of browser.results) {
    const nodeMs = node.get(row.model) as number;
    console.log(JSON.stringify({
      bench: 'web-forward', model: row.model, batch: 1, seq, threads, browser_threads: browser.threads,
      isolated: browser.isolated, node_wasm_ms: round(nodeMs), browser_wasm_ms: round(row.ms), ratio: round(row.ms / nodeMs, 3),
    }));
  }
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
