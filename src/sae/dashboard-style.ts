// How dashboard pages look: the activation colour scale and the page's CSS (inlined into every
// page, so a dashboard is one file that opens anywhere, offline).
//
// Activations are highlighted with ColorBrewer's single-hue "Oranges": sequential, readable with
// every common colour-vision deficiency and in greyscale, and distinct from the blue/red the logit
// effects use for signed values. Zero is no colour at all, so the eye goes to where the feature fires.

// ColorBrewer Oranges (9 classes) from its second class: the smallest activation is still visible on white.
const ORANGES = ['#fee6ce', '#fdd0a2', '#fdae6b', '#fd8d3c', '#f16913', '#d94801', '#a63603', '#7f2704']
  .map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));

/** Background and text colour of a token whose activation is `value`, on a scale whose top is `max` (null: no highlight). */
export function activationColors(value: number, max: number): { background: string; text: string } | null {
  if (!(value > 0) || !(max > 0)) return null;
  const x = Math.min(1, value / max) * (ORANGES.length - 1);
  const i = Math.min(ORANGES.length - 2, Math.floor(x));
  const f = x - i;
  const background = `#${[0, 1, 2].map((c) => Math.round(ORANGES[i][c] + (ORANGES[i + 1][c] - ORANGES[i][c]) * f).toString(16).padStart(2, '0')).join('')}`;
  return { background, text: textOn(background) };
}

/**
 * Pure black or white text, whichever contrasts more with `background` (#rrggbb). With the two
 * extremes the worse case, at relative luminance 0.179, is still 4.58:1 — WCAG AA for any
 * background (an off-black such as #111 falls to 4.2:1 on mid oranges).
 */
export function textOn(background: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const s = parseInt(background.slice(i, i + 2), 16) / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? '#000000' : '#ffffff';
}

/** The gradient of the scale, for a CSS legend. */
export function activationGradient(): string {
  const stops = ORANGES.map((rgb, i) => `rgb(${rgb.join(' ')}) ${Math.round((i / (ORANGES.length - 1)) * 100)}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

export const DASHBOARD_CSS = `
:root { --ink: #1d1d1f; --muted: #5b5b66; --line: #dcdce3; --card: #ffffff; --page: #f4f4f7; --accent: #0b57d0;
  --positive: #b2182b; --negative: #2166ac; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
header { padding: 20px 28px 8px; }
header h1 { margin: 0; font-size: 26px; }
header .meta { margin: 4px 0 0; color: var(--muted); }
.crumbs { margin: 0 0 6px; font-size: 14px; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
main { padding: 12px 28px 32px; }
.layout { display: grid; grid-template-columns: minmax(300px, 360px) minmax(0, 1fr); gap: 18px; align-items: start; }
@media (max-width: 900px) { .layout { grid-template-columns: minmax(0, 1fr); } }
.column { display: grid; gap: 18px; min-width: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px 16px; min-width: 0; }
.card h2 { margin: 0 0 10px; font-size: 16px; }
.note { margin: 8px 0 0; color: var(--muted); font-size: 13px; }
.stats { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 10px; margin: 0; }
.stats div { min-width: 0; }
.stats dt { color: var(--muted); font-size: 13px; }
.stats dd { margin: 0; font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.stats dd.sub { font-size: 12px; font-weight: 400; color: var(--muted); }
.effects { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.effects h3 { margin: 0 0 6px; font-size: 13px; color: var(--muted); font-weight: 600; }
.effects ol { list-style: none; margin: 0; padding: 0; }
.effects li { display: grid; grid-template-columns: minmax(0, 1fr) auto; align-items: center; column-gap: 6px;
  font-size: 13px; padding: 2px 0; }
.effects .bar { grid-column: 1 / -1; height: 4px; border-radius: 2px; }
.effects .chip { justify-self: start; max-width: 100%; }
.effects .value { font-variant-numeric: tabular-nums; color: var(--muted); }
.chip { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; background: #efeff4;
  border-radius: 4px; padding: 0 4px; white-space: pre; overflow: hidden; text-overflow: ellipsis; }
.legend { display: flex; align-items: center; gap: 8px; font-size: 12px; color: var(--muted); margin: 0 0 10px; }
.legend .ramp { width: 140px; height: 10px; border-radius: 3px; border: 1px solid var(--line); }
ol.contexts { list-style: none; margin: 0; padding: 0; }
ol.contexts > li { display: grid; grid-template-columns: 4.2em minmax(0, 1fr); column-gap: 10px; align-items: baseline; padding: 5px 6px;
  border-top: 1px solid #eeeef2; border-radius: 4px; cursor: default; }
ol.contexts > li:first-child { border-top: none; }
ol.contexts > li:hover { background: #fafafc; }
ol.contexts > li:focus { background: #f3f6fd; }
.act { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.ctx { line-height: 1.9; white-space: pre-wrap; overflow-wrap: anywhere; }
.tok { position: relative; border-radius: 3px; padding: 1px 0; }
.tok.special { color: var(--muted); font-size: 0.8em; letter-spacing: 0.02em; margin-right: 4px; }
.tok[data-act] { padding: 1px 1px; }
.tok.focus { box-shadow: 0 0 0 1.5px var(--ink); font-weight: 600; margin: 0 2px; }
.tok[data-act]:hover::after { content: attr(data-act); position: absolute; left: 50%; bottom: calc(100% + 4px);
  transform: translateX(-50%); background: var(--ink); color: #fff; font: 600 12px/1.4 system-ui, "DejaVu Sans", sans-serif;
  padding: 2px 6px; border-radius: 4px; white-space: nowrap; pointer-events: none; z-index: 2; }
.values { grid-column: 2; display: none; margin: 4px 0 2px; font-size: 12.5px; color: var(--muted); }
ol.contexts > li:focus .values { display: block; }
details { border-top: 1px solid var(--line); padding: 6px 0; }
details:first-of-type { border-top: none; }
summary { cursor: pointer; font-weight: 600; font-size: 14px; padding: 2px 0; }
summary .count { font-weight: 400; color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
.table-card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow-x: auto; }
table.features { border-collapse: collapse; width: 100%; font-size: 14px; }
table.features th, table.features td { text-align: left; padding: 7px 10px; border-bottom: 1px solid #eeeef2; vertical-align: top; }
table.features th { font-size: 13px; color: var(--muted); font-weight: 600; background: #fafafc; }
table.features .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; width: 1%; }
table.features td:first-child { white-space: nowrap; width: 1%; }
table.features tbody tr:last-child td { border-bottom: none; }
table.features .ctx { line-height: 1.7; }
svg text { font-family: system-ui, "DejaVu Sans", sans-serif; }
`;
