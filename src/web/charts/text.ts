// Text measured as the browser will draw it (a canvas with the charts' font), and shortened with
// an ellipsis to fit a width.

let context: CanvasRenderingContext2D | null = null;

/** Width in px of `text` at `size` px in the charts' font. */
export function measure(text: string, size: number): number {
  context ??= document.createElement('canvas').getContext('2d') as CanvasRenderingContext2D;
  context.font = `${size}px system-ui, sans-serif`;
  return context.measureText(text).width;
}

/** `text`, cut with "…" until it fits `width` px. */
export function fit(text: string, width: number, size: number): string {
  if (measure(text, size) <= width) return text;
  let shown = text;
  while (shown.length > 1 && measure(`${shown}…`, size) > width) shown = shown.slice(0, -1);
  return `${shown}…`;
}
