// Colours the UI adds to the library's scales (analysis/plots: diverging blue–white–red and
// viridis, both readable with the common colour-vision deficiencies): attention weights in one
// hue, white (0) to dark blue (1), as CircuitsVis draws them — a sparse pattern stays readable
// and the lightness alone carries the value.

const WHITE = [255, 255, 255];
const DARK_BLUE = [8, 48, 107]; // ColorBrewer Blues' darkest

export function attentionColor(weight: number): string {
  const t = Math.min(1, Math.max(0, Number.isFinite(weight) ? weight : 0)) ** 0.7;
  const rgb = WHITE.map((w, i) => Math.round(w + (DARK_BLUE[i] - w) * t));
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}

export function attentionTextColor(weight: number): string {
  return weight > 0.45 ? '#ffffff' : '#111111';
}
