// SVG → PNG with resvg (Rust, compiled to WebAssembly: one build for every platform, nothing
// downloaded or compiled at install). Text is drawn with the DejaVu Sans shipped in
// assets/fonts/ — never system fonts — so a figure looks the same on a bare server as here.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { initWasm, Resvg } from '@resvg/resvg-wasm';
import { IOError } from '../index.js';

/** PNG pixels per SVG unit: 2 keeps 11–13 px labels sharp on high-density screens and when zoomed. */
export const PNG_SCALE = 2;

// From dist/src/cli/ (and src/cli/) up to the package root.
const FONT_URL = new URL('../../../assets/fonts/DejaVuSans.ttf', import.meta.url);

let ready: Promise<Uint8Array> | null = null;

/** Loads the wasm module and the font once per process; resolves to the font's bytes. */
function setUp(): Promise<Uint8Array> {
  ready ??= (async () => {
    const wasmPath = createRequire(import.meta.url).resolve('@resvg/resvg-wasm/index_bg.wasm');
    await initWasm(await readFile(wasmPath));
    try {
      return await readFile(FONT_URL);
    } catch (err) {
      throw new IOError(`cannot read the plot font '${fileURLToPath(FONT_URL)}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (reinstall dissect)`);
    }
  })();
  return ready;
}

/** Rasterises an SVG document to PNG bytes at PNG_SCALE. */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const font = await setUp();
  const renderer = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: PNG_SCALE },
    font: { fontBuffers: [font], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  try {
    const image = renderer.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } finally {
    renderer.free();
  }
}
