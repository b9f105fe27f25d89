// Activation patching: run the corrupted prompt, patch in one activation from the clean run (the
// current prompt), and measure how much of the clean behaviour comes back. The residual stream is
// swept per (layer × position), head outputs per (layer × head); each heatmap appears as soon as
// its sweep ends, with a progress bar over both and a Stop button.

import type { PatchGrid, PatchGridTarget, PatchMetric, PatchResponse } from '../../api/protocol.js';
import { divergingScale, formatValue } from '../../index.js';
import { promptOf, tokenSpec, type View, type ViewContext } from '../app/context.js';
import { field, h, replaceChildren } from '../app/dom.js';
import { touched, type AppState } from '../app/state.js';
import { isAbort } from '../client/client.js';
import { heatmap, positionLabels } from '../charts/heatmap.js';
import { tokenInput, type TokenInput } from './token-input.js';

const METRICS: { value: PatchMetric; label: string }[] = [
  { value: 'logit-diff', label: 'logit difference (answer − wrong)' },
  { value: 'prob', label: 'probability of the answer' },
  { value: 'kl', label: 'KL divergence from the clean run' },
];

const SWEEPS: { target: PatchGridTarget; title: string }[] = [
  { target: 'resid_pre', title: 'Residual stream (layer × position)' },
  { target: 'z', title: 'Attention head outputs (layer × head)' },
];

export class PatchingView implements View {
  readonly element = h('div', { class: 'view patch-view' });
  private readonly corrupted = h('textarea', { rows: 2, spellcheck: 'false', class: 'prompt-input', 'aria-label': 'corrupted prompt' });
  private readonly metric = h('select', {}, ...METRICS.map((m) => h('option', { value: m.value }, m.label)));
  private readonly normalise = h('input', { type: 'checkbox', checked: true });
  private readonly start = h('button', { type: 'button', class: 'primary' }, 'Run patching');
  private readonly stop = h('button', { type: 'button', disabled: true }, 'Stop');
  private readonly progress = h('progress', { max: 1, value: 0, 'aria-label': 'patching progress' });
  private readonly progressText = h('span', { class: 'hint', 'aria-live': 'polite' });
  private readonly results = h('div', { class: 'patch-results' });
  private readonly answer: TokenInput;
  private readonly wrong: TokenInput;
  private controller: AbortController | null = null;

  constructor(private readonly context: ViewContext) {
    this.answer = tokenInput(context, 'Answer (clean)', 'e.g. " Mary"', (token) => context.store.update({ target: token }));
    this.wrong = tokenInput(context, 'Wrong (corrupted)', 'e.g. " John"', (token) => context.store.update({ distractor: token }), true);
    this.start.addEventListener('click', () => void this.runSweeps());
    this.stop.addEventListener('click', () => this.controller?.abort());
    this.element.append(
      h('div', { class: 'controls' },
        h('p', { class: 'hint wide' }, 'Clean run: the prompt above. Patching copies one activation from the clean run into a run of the corrupted prompt (same number of tokens) and measures the metric at the last position.'),
        field('Corrupted prompt', this.corrupted),
        this.answer.element, this.wrong.element,
        field('Metric', this.metric),
        h('label', { class: 'field checkbox' }, this.normalise, h('span', {}, 'normalise: 0 = corrupted run, 1 = clean run')),
        h('div', { class: 'actions' }, this.start, this.stop, this.progress, this.progressText)),
      this.results);
  }

  /** Suggests a corrupted prompt (used for the default IOI prompt). */
  setCorrupted(text: string): void {
    if (this.corrupted.value === '') this.corrupted.value = text;
  }

  update(state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>): void {
    if (touched(changed, 'target')) this.answer.show(state.target);
    if (touched(changed, 'distractor')) this.wrong.show(state.distractor);
    if (touched(changed, 'run', 'model')) {
      this.controller?.abort();
      this.results.replaceChildren();
    }
    this.start.disabled = !state.run || this.controller !== null;
    if (touched(changed, 'position', 'layer', 'head')) this.markSelection(state);
  }

  private async runSweeps(): Promise<void> {
    const state = this.context.store.get();
    if (!state.run || !state.model) return;
    const metric = this.metric.value as PatchMetric;
    const base = {
      model: state.model,
      clean: { ids: promptOf(state).ids },
      corrupted: { text: this.corrupted.value, bos: state.bos },
      metric,
      answer: tokenSpec(state.target),
      wrong: metric === 'logit-diff' ? tokenSpec(state.distractor) : undefined,
      normalise: this.normalise.checked,
    };
    const controller = new AbortController();
    this.controller = controller;
    this.start.disabled = true;
    this.stop.disabled = false;
    this.results.replaceChildren(...SWEEPS.map((sweep) => h('section', { class: 'panel', 'data-target': sweep.target }, h('h3', {}, sweep.title), h('p', { class: 'muted' }, 'waiting…'))));
    // The two sweeps' sizes are known from the model: positions × layers and heads × layers.
    const { nLayers, nHeads } = state.run.model;
    const sizes = [nLayers * state.run.tokens.length, nLayers * nHeads];
    const total = sizes[0] + sizes[1];
    let before = 0;
    this.showProgress(0, total, 'starting');
    try {
      for (const [i, sweep] of SWEEPS.entries()) {
        const response = await this.context.client().call('patch', { ...base, targets: [sweep.target] }, {
          signal: controller.signal,
          onProgress: (p) => this.showProgress(before + p.done, total, sweep.target),
        });
        before += sizes[i];
        this.showProgress(before, total, i + 1 < SWEEPS.length ? 'next sweep' : 'done');
        this.drawGrid(response, response.grids[0]);
      }
    } catch (err) {
      const message = isAbort(err) ? 'Stopped.' : (err as Error).message;
      for (const panel of this.results.querySelectorAll('section')) {
        if (panel.querySelector('svg')) continue;
        replaceChildren(panel, panel.querySelector('h3'), h('p', { class: isAbort(err) ? 'muted' : 'error' }, message));
      }
      this.progressText.textContent = message;
    } finally {
      this.controller = null;
      this.start.disabled = false;
      this.stop.disabled = true;
    }
  }

  private showProgress(done: number, total: number, stage: string): void {
    this.progress.max = total;
    this.progress.value = done;
    this.progressText.textContent = `${done} / ${total} patches · ${stage}`;
  }

  private drawGrid(response: PatchResponse, grid: PatchGrid): void {
    const panel = this.results.querySelector(`section[data-target="${grid.target}"]`) as HTMLElement;
    const state = this.context.store.get();
    const byPosition = grid.axes[1] === 'pos';
    const columns = byPosition ? positionLabels(response.cleanTokens) : grid.values[0].map((_, hIndex) => `H${hIndex}`);
    const metricName = METRICS.find((m) => m.value === response.metric)?.label ?? response.metric;
    const scale = response.normalised ? divergingScale(grid.values.flat().map((v) => v ?? NaN), { limit: 1 }) : divergingScale(grid.values.flat().map((v) => v ?? NaN));
    const sweep = SWEEPS.find((s) => s.target === grid.target);
    const chart = heatmap({
      label: `patching ${grid.target}`,
      values: grid.values,
      rowLabels: grid.values.map((_, l) => `L${l}`),
      columnLabels: columns,
      rowAxis: 'layer',
      columnAxis: byPosition ? 'position' : 'head',
      showValues: !byPosition || response.cleanTokens.length <= 14,
      scale,
      legend: response.normalised ? 'recovered (0 → 1)' : metricName,
      selected: byPosition ? { column: state.position } : {},
      tooltip: (l, c) => [`patch ${grid.target} at layer ${l}, ${byPosition ? `position ${columns[c]}` : `head ${c}`}`,
        `${metricName}: ${grid.values[l][c] === null ? 'n/a' : formatValue(grid.values[l][c] as number)}`],
      onSelect: (l, c) => this.context.store.update(byPosition ? { layer: l, position: c } : { layer: l, head: c }),
    });
    const changed = response.cleanTokens.map((t, i) => (t.id !== response.corruptedTokens[i]?.id
      ? `position ${i}: ${JSON.stringify(t.text)} → ${JSON.stringify(response.corruptedTokens[i]?.text ?? '')}` : null)).filter(Boolean);
    replaceChildren(panel,
      h('h3', {}, sweep?.title ?? grid.target),
      h('p', { class: 'subtitle' }, `${metricName}: clean ${formatValue(response.baselines.clean)}, corrupted ${formatValue(response.baselines.corrupted)}. Tokens that differ: ${changed.join(', ') || 'none'}.`),
      chart);
    this.markSelection(state);
  }

  private markSelection(state: Readonly<AppState>): void {
    const z = this.results.querySelector('section[data-target="z"]');
    z?.querySelectorAll('rect.cell.chosen').forEach((cell) => cell.classList.remove('chosen'));
    z?.querySelector(`rect.cell[data-row="${state.layer}"][data-col="${state.head}"]`)?.classList.add('chosen');
  }
}
