// Colour scales for heatmaps and bars. Signed values (logit differences, attributions, patching
// effects) use a diverging scale centred on zero — ColorBrewer's RdBu reversed, blue for negative,
// white for 0, red for positive (as CircuitsVis and TransformerLens's demos), readable with the
// common colour-vision deficiencies. Non-negative quantities (probabilities, scores) use viridis,
// perceptually uniform and readable in greyscale.

type Rgb = readonly [number, number, number];

// ColorBrewer RdBu (11 classes), reversed: index 0 is the most negative.
const BLUE_WHITE_RED = [
  '#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f',
].map(parseHex);

// matplotlib's viridis at 0, 1/8, ..., 1.
const VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'].map(parseHex);

/** Colour of a missing value (NaN): a neutral grey neither scale uses. */
export const MISSING_COLOR = '#d9d9d9';
/** Bar colours for negative and positive values, the ends of the diverging scale's darker half. */
export const NEGATIVE_COLOR = '#2166ac';
export const POSITIVE_COLOR = '#b2182b';

function parseHex(hex: string): Rgb {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;
}

function toHex(rgb: Rgb): string {
  return `#${rgb.map((c) => Math.round(Math.min(255, Math.max(0, c))).toString(16).padStart(2, '0')).join('')}`;
}

/** Piecewise-linear interpolation through evenly spaced colour stops, t in [0, 1] (clamped). */
function interpolate(stops: readonly Rgb[], t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return toHex([0, 1, 2].map((c) => stops[i][c] + (stops[i + 1][c] - stops[i][c]) * f) as unknown as Rgb);
}

export interface ColorScale {
  readonly kind: 'diverging' | 'sequential';
  /** The values mapped to the two ends of the scale (diverging: −limit and +limit). */
  readonly min: number;
  readonly max: number;
  /** The colour of a value; values outside [min, max] take the end colour, NaN the missing colour. */
  color(value: number): string;
  /** Values to label on a legend, min to max. */
  readonly ticks: readonly number[];
}

/** Finite values of a grid or list (NaN and ±∞ left out). */
function finite(values: readonly number[] | readonly (readonly number[])[]): number[] {
  return (values as readonly (number | readonly number[])[]).flat().filter((v) => Number.isFinite(v));
}

export interface DivergingOptions {
  /** The value drawn white (default 0): e.g. a baseline that "no effect" leaves unchanged. */
  center?: number;
  /** center ± limit are the darkest colours; default the largest |value − center| (1 when all equal it). */
  limit?: number;
}

/**
 * Blue–white–red, symmetric about `center`: center − limit → dark blue, center → white, center +
 * limit → dark red.
 */
export function divergingScale(values: readonly number[] | readonly (readonly number[])[], options: DivergingOptions = {}): ColorScale {
  const center = options.center ?? 0;
  const largest = Math.max(0, ...finite(values).map((v) => Math.abs(v - center)));
  const bound = options.limit ?? (largest > 0 ? largest : 1);
  return {
    kind: 'diverging',
    min: center - bound,
    max: center + bound,
    color: (v) => (Number.isNaN(v) ? MISSING_COLOR : interpolate(BLUE_WHITE_RED, ((v - center) / bound + 1) / 2)),
    ticks: [-1, -0.5, 0, 0.5, 1].map((f) => center + f * bound),
  };
}

/** Viridis from `min` (dark purple) to `max` (yellow); defaults to the values' range. */
export function sequentialScale(values: readonly number[] | readonly (readonly number[])[], range: { min?: number; max?: number } = {}): ColorScale {
  const present = finite(values);
  const min = range.min ?? (present.length ? Math.min(...present) : 0);
  let max = range.max ?? (present.length ? Math.max(...present) : 1);
  if (!(max > min)) max = min + 1;
  return {
    kind: 'sequential',
    min,
    max,
    color: (v) => (Number.isNaN(v) ? MISSING_COLOR : interpolate(VIRIDIS, (v - min) / (max - min))),
    ticks: [0, 0.25, 0.5, 0.75, 1].map((f) => min + f * (max - min)),
  };
}

/** Black or white, whichever reads better on `background` (a #rrggbb colour), by WCAG relative luminance. */
export function textColorOn(background: string): string {
  const [r, g, b] = parseHex(background).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // Contrast with black (L + 0.05) / 0.05 against white 1.05 / (L + 0.05): equal at L ≈ 0.179.
  return luminance > 0.179 ? '#111111' : '#ffffff';
}
