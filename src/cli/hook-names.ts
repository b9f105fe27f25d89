// Hook name selections typed on the command line: a comma list of exact names and globs, where
// `*` matches within one dot-separated part and `**` across parts:
//   blocks.*.hook_resid_post      every layer's residual stream
//   blocks.0.**                   everything in block 0
//   **.hook_pattern,ln_final.**   all attention patterns, and the final norm

import { matchHookNames, type HookPointInfo } from '../index.js';
import { UsageError } from './flags.js';

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') {
      source += '[^.]*';
    } else if (c === '?') {
      source += '[^.]';
    } else {
      source += c.replace(/[\\^$+.()|[\]{}]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/** The hook points `selection` names, in the model's order; unknown exact names list the closest real ones. */
export function selectHookNames(selection: string, points: readonly HookPointInfo[]): string[] {
  const parts = selection.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new UsageError(`--names has an empty entry in '${selection}'`);
  const wanted = new Set<string>();
  for (const part of parts) {
    if (/[*?]/.test(part)) {
      const pattern = globToRegExp(part);
      const matched = points.filter((p) => pattern.test(p.name)).map((p) => p.name);
      if (matched.length === 0) {
        throw new UsageError(`--names pattern '${part}' matches no hook point of this model (list them with 'dissect info <model>')`);
      }
      matched.forEach((name) => wanted.add(name));
    } else {
      matchHookNames(part, points).forEach((name) => wanted.add(name));
    }
  }
  return points.map((p) => p.name).filter((name) => wanted.has(name));
}

/** "1,2,3;4,5,6" → [[1, 2, 3], [4, 5, 6]]: rows split by ';', ids by ',', all rows the same length. */
export function parseIdRows(text: string): number[][] {
  const rows = text.split(';').map((row, r) => {
    const items = row.split(',').map((item) => item.trim());
    if (items.length === 1 && items[0] === '') throw new UsageError(`--ids row ${r + 1} is empty in '${text}'`);
    return items.map((item) => {
      if (!/^\d+$/.test(item)) throw new UsageError(`--ids: '${item}' in row ${r + 1} is not a token id (a non-negative integer); expected e.g. "1,2,3;4,5,6"`);
      return Number(item);
    });
  });
  const width = rows[0].length;
  const ragged = rows.findIndex((row) => row.length !== width);
  if (ragged >= 0) {
    throw new UsageError(`--ids row ${ragged + 1} has ${rows[ragged].length} ids but row 1 has ${width}; all rows must have the same length`);
  }
  return rows;
}
