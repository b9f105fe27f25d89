// How wide text will be, without a DOM to measure it: advance widths of DejaVu Sans (the font the
// PNG renderer ships and the first in FONT_FAMILY), in em, for printable ASCII — measured once
// with resvg — and conservative guesses for everything else. Layout uses them to size margins and
// to shorten labels that would not fit.

// U+0020 ' ' .. U+007E '~'.
const ASCII_ADVANCE = [
  0.318, 0.401, 0.46, 0.838, 0.637, 0.95, 0.78, 0.275, 0.39, 0.39, 0.5, 0.838, 0.318, 0.361, 0.317, 0.337,
  0.637, 0.637, 0.637, 0.637, 0.637, 0.637, 0.637, 0.637, 0.637, 0.637, 0.337, 0.337, 0.838, 0.838, 0.838, 0.531,
  1, 0.711, 0.686, 0.698, 0.77, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863, 0.748, 0.787,
  0.603, 0.787, 0.695, 0.635, 0.594, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685, 0.39, 0.337, 0.39, 0.838, 0.5,
  0.5, 0.613, 0.635, 0.55, 0.635, 0.615, 0.345, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634, 0.612,
  0.635, 0.635, 0.395, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525, 0.637, 0.337, 0.637, 0.838,
];

function advance(code: number): number {
  if (code >= 0x20 && code <= 0x7e) return ASCII_ADVANCE[code - 0x20];
  // East Asian scripts, full-width forms and emoji take a full em; other scripts about DejaVu's widest letters.
  if ((code >= 0x2e80 && code <= 0xa4cf) || (code >= 0xac00 && code <= 0xd7a3) || (code >= 0xf900 && code <= 0xfaff)
    || (code >= 0xff00 && code <= 0xff60) || code >= 0x1f000) return 1;
  return 0.75;
}

/** Width of `content` in pixels at `fontSize`. */
export function textWidth(content: string, fontSize: number): number {
  let em = 0;
  for (const char of content) em += advance(char.codePointAt(0) as number);
  return em * fontSize;
}

/** `content`, cut and ended with '…' when it is wider than `maxWidth` (never cut below one character). */
export function fitText(content: string, maxWidth: number, fontSize: number): string {
  if (textWidth(content, fontSize) <= maxWidth) return content;
  const chars = [...content];
  const budget = maxWidth - textWidth('…', fontSize);
  let width = 0;
  let kept = 0;
  while (kept < chars.length && width + textWidth(chars[kept], fontSize) <= budget) width += textWidth(chars[kept++], fontSize);
  return `${chars.slice(0, Math.max(1, kept)).join('')}…`;
}

/** `content` with its start cut and replaced by '…' when wider than `maxWidth` (keeps the end, e.g. a context's last token). */
export function fitTextStart(content: string, maxWidth: number, fontSize: number): string {
  if (textWidth(content, fontSize) <= maxWidth) return content;
  const reversed = fitText([...content].reverse().join(''), maxWidth, fontSize);
  return [...reversed].reverse().join('');
}

/**
 * A token string with its whitespace made visible, as plots label tokens: ' ' → '␣', newline →
 * '↵', tab → '⇥', other control characters → their escape (a token " the" and "the" differ).
 */
export function visibleToken(token: string): string {
  let out = '';
  for (const char of token) {
    const code = char.codePointAt(0) as number;
    if (char === ' ') out += '␣';
    else if (char === '\n') out += '↵';
    else if (char === '\r') out += '⏎';
    else if (char === '\t') out += '⇥';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return out === '' ? '∅' : out;
}
