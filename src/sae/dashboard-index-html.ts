// The index page over several feature dashboards: one table row per feature with its density, its
// activations, its strongest context (a few tokens around the maximum) and the tokens it promotes,
// each feature linking to its own page.

import { escapeXml as escape, formatValue } from '../analysis/plots/svg.js';
import { visibleToken } from '../analysis/plots/text-metrics.js';
import type { DashboardExample, DashboardIndex } from './dashboard-data.js';
import { contextMarkup, formatPercent, sourceLine } from './dashboard-html.js';
import { DASHBOARD_CSS } from './dashboard-style.js';

/** The example cut to `before` tokens before its focus and `after` after it, for a table cell. */
function shortened(example: DashboardExample, before: number, after: number): DashboardExample {
  const start = Math.max(0, example.focus - before);
  const end = Math.min(example.tokens.length, example.focus + after + 1);
  return {
    ...example, context_start: example.context_start + start, focus: example.focus - start,
    token_ids: example.token_ids.slice(start, end), tokens: example.tokens.slice(start, end), activations: example.activations.slice(start, end),
  };
}

/** The index as a complete HTML document; links point at each entry's html file. */
export function dashboardIndexHtml(index: DashboardIndex, title = 'SAE features'): string {
  const special = new Set(index.corpus.excluded_token_ids);
  const rows = index.features.map((f) => {
    const context = f.top_example === null ? '<span class="empty">never fires</span>'
      : `<span class="ctx">${contextMarkup(shortened(f.top_example, 6, 2), f.max_activation, special)}</span>`;
    const promoted = f.positive_tokens.map((t) => `<span class="chip">${escape(visibleToken(t))}</span>`).join(' ');
    return `<tr><td><a href="${escape(f.html)}">Feature ${f.feature}</a></td>`
      + `<td class="num">${formatPercent(f.density)}</td><td class="num">${escape(formatValue(f.max_activation))}</td>`
      + `<td class="num">${f.mean_activation === null ? '–' : escape(formatValue(f.mean_activation))}</td>`
      + `<td>${context}</td><td>${promoted || '<span class="empty">–</span>'}</td></tr>`;
  }).join('');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`
    + `<title>${escape(title)} · ${escape(index.sae.hook_name)}</title><style>${DASHBOARD_CSS}</style></head><body>`
    + `<header><h1>${escape(title)}</h1><p class="meta">${sourceLine(index)}</p></header><main>`
    + '<div class="table-card"><table class="features"><thead><tr><th scope="col">Feature</th><th scope="col" class="num">Density</th>'
    + '<th scope="col" class="num">Max</th><th scope="col" class="num">Mean if firing</th><th scope="col">Strongest context</th>'
    + `<th scope="col">Promotes</th></tr></thead><tbody>${rows}</tbody></table></div>`
    + '<p class="note">Density: the share of tokens where the feature is non-zero. Each context is highlighted on its feature\'s own scale (0 to its max); the outlined token is the maximum.</p>'
    + '</main></body></html>\n';
}
