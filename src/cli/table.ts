// Plain-text output of the analysis commands: aligned tables, and text wrapped to a column.

export interface TableOptions {
  /** Per column: 'left' (default for the first) or 'right' (default for the others). */
  align?: readonly ('left' | 'right')[];
}

/** Rows of cells under a header, columns padded to their widest cell, two spaces apart. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => [...(row[c] ?? '')].length)));
  const align = (c: number) => options.align?.[c] ?? (c === 0 ? 'left' : 'right');
  const render = (row: readonly string[]) => row.map((cell, c) => {
    const pad = ' '.repeat(widths[c] - [...cell].length);
    return align(c) === 'left' ? cell + pad : pad + cell;
  }).join('  ').trimEnd();
  return [render(header), ...rows.map(render)].join('\n');
}

/** `text` cut to `max` characters with '…' when longer. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Lines of at most `width` characters: breaks at spaces where it can, inside words where it must; keeps newlines. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let current = '';
    for (const word of paragraph.split(/(?<= )/)) {
      let rest = word;
      while ([...current].length + [...rest].length > width) {
        if (current !== '') {
          lines.push(current.trimEnd());
          current = '';
          rest = rest.trimStart();
          continue;
        }
        const chars = [...rest];
        lines.push(chars.slice(0, width).join(''));
        rest = chars.slice(width).join('');
      }
      current += rest;
    }
    lines.push(current.trimEnd());
  }
  return lines;
}
