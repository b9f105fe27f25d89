// SAE features: the dashboards `dissect sae dashboard` writes (index.json plus feature-<n>.json,
// schema 'dissect/sae-feature-dashboard'), from a folder the user opens or the one a static site
// ships (build-web --dashboards). A list of features on the left; the chosen one's dashboard on the
// right, drawn by the library's own featureDashboardFragment inside a shadow root so its CSS stays
// its own.

import {
  DASHBOARD_CSS, DASHBOARD_INDEX_SCHEMA, DASHBOARD_SCHEMA_VERSION, FEATURE_DASHBOARD_SCHEMA, featureDashboardFragment, formatValue,
  type DashboardIndex, type FeatureDashboard,
} from '../../index.js';
import type { View } from '../app/context.js';
import { h, replaceChildren, showToken } from '../app/dom.js';
import type { AppState } from '../app/state.js';

/** Reads a dashboard folder's files by name (picked files or a URL folder). */
type DashboardFiles = (name: string) => Promise<unknown>;

export class FeaturesView implements View {
  readonly element = h('div', { class: 'view features-view' });
  private readonly folderInput = h('input', { type: 'file', hidden: true, webkitdirectory: true, multiple: true });
  private readonly list = h('div', { class: 'feature-list', role: 'listbox', 'aria-label': 'features' });
  private readonly detail = h('div', { class: 'feature-detail panel' });
  private readonly status = h('p', { class: 'hint', role: 'status' }, 'Open the folder `dissect sae dashboard --out DIR` wrote (index.json and feature-<n>.json).');
  private files: DashboardFiles | null = null;
  private autoLoaded = false;

  constructor(private readonly siteDashboards: () => string | null) {
    const open = h('button', { type: 'button' }, 'Open dashboard folder…');
    open.addEventListener('click', () => this.folderInput.click());
    this.folderInput.addEventListener('change', () => {
      const byName = new Map([...(this.folderInput.files ?? [])].map((f) => [f.name, f]));
      void this.load(async (name) => {
        const file = byName.get(name);
        if (!file) throw new Error(`the folder has no ${name}`);
        return JSON.parse(await file.text());
      }, this.folderInput.files?.[0]?.webkitRelativePath.split('/')[0] ?? 'folder');
    });
    this.element.append(
      h('div', { class: 'controls' }, open, this.folderInput, this.status),
      h('div', { class: 'features-columns' }, h('section', { class: 'panel' }, h('h3', {}, 'Features'), this.list), this.detail));
  }

  update(state: Readonly<AppState>): void {
    if (state.view !== 'features' || this.autoLoaded) return;
    const base = this.siteDashboards(); // known once connected
    if (base) {
      this.autoLoaded = true;
      const url = new URL(base.endsWith('/') ? base : `${base}/`, document.baseURI);
      void this.load(async (name) => {
        const response = await fetch(new URL(name, url));
        if (!response.ok) throw new Error(`${new URL(name, url).href}: HTTP ${response.status}`);
        return response.json();
      }, base);
    }
  }

  /** Loads index.json from `files` and lists its features; shows the first. */
  async load(files: DashboardFiles, label: string): Promise<void> {
    try {
      const index = await files('index.json') as DashboardIndex;
      if (index?.schema !== DASHBOARD_INDEX_SCHEMA || index.version !== DASHBOARD_SCHEMA_VERSION) {
        throw new Error(`index.json is not a '${DASHBOARD_INDEX_SCHEMA}' version ${DASHBOARD_SCHEMA_VERSION} file (schema ${JSON.stringify(index?.schema)}, version ${JSON.stringify(index?.version)})`);
      }
      this.files = files;
      this.status.textContent = `${label}: SAE on ${index.sae.hook_name} of ${index.model} · ${index.features.length} features · ${index.corpus.tokens} tokens of ${index.corpus.name}`;
      replaceChildren(this.list, ...index.features.map((entry, i) => h('button', {
        type: 'button', class: 'feature-entry', role: 'option', 'data-feature': entry.feature, 'aria-selected': String(i === 0),
        onClick: () => void this.show(entry.json, entry.feature),
      },
      h('strong', {}, `#${entry.feature}`),
      h('span', { class: 'hint' }, `density ${formatValue(entry.density)} · max ${formatValue(entry.max_activation)}`),
      h('span', { class: 'feature-tokens' }, entry.positive_tokens.map(showToken).join(' ')))));
      if (index.features[0]) await this.show(index.features[0].json, index.features[0].feature);
    } catch (err) {
      this.status.textContent = (err as Error).message;
      this.status.classList.add('error');
    }
  }

  private async show(file: string, feature: number): Promise<void> {
    if (!this.files) return;
    for (const entry of this.list.querySelectorAll('.feature-entry')) {
      entry.setAttribute('aria-selected', String(entry.getAttribute('data-feature') === String(feature)));
    }
    try {
      const dashboard = await this.files(file) as FeatureDashboard;
      if (dashboard?.schema !== FEATURE_DASHBOARD_SCHEMA) throw new Error(`${file} is not a '${FEATURE_DASHBOARD_SCHEMA}' file`);
      const host = h('div', { class: 'dashboard-host', 'data-feature': feature });
      const shadow = host.attachShadow({ mode: 'open' });
      shadow.innerHTML = `<style>${DASHBOARD_CSS}</style><h2>Feature ${dashboard.feature}</h2>${featureDashboardFragment(dashboard)}`;
      replaceChildren(this.detail, host);
    } catch (err) {
      replaceChildren(this.detail, h('p', { class: 'error' }, (err as Error).message));
    }
  }
}
