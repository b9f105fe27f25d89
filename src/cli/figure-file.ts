// Writing a figure where --out says: .svg as is, .png rasterised. The extension is checked
// before any model runs, so a typo costs nothing.

import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { IOError, svgDocument, type Figure } from '../index.js';
import { UsageError } from './flags.js';
import { svgToPng } from './png.js';

export type FigureFormat = 'svg' | 'png';

/** The format --out names, or a UsageError. */
export function figureFormat(path: string): FigureFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.svg') return 'svg';
  if (ext === '.png') return 'png';
  throw new UsageError(`--out must end in .svg or .png, got '${path}'`);
}

/** Writes `figure` to `path` (format from its extension); returns the bytes written. */
export async function writeFigure(path: string, figure: Figure): Promise<number> {
  const svg = svgDocument(figure);
  const bytes = figureFormat(path) === 'png' ? await svgToPng(svg) : new TextEncoder().encode(svg);
  try {
    await writeFile(path, bytes);
  } catch (err) {
    throw new IOError(`cannot write '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return bytes.length;
}
