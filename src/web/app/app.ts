// The app: connects (worker or server), lays out the views on one Store, opens models and runs the
// prompt. Views only read the state and call update(); this file owns what happens when a model
// or prompt changes.

import type { ModelId, RunResponse } from '../../api/protocol.js';
import type { DissectClient } from '../client/client.js';
import { AttentionView } from '../views/attention.js';
import { DlaView } from '../views/dla.js';
import { FeaturesView } from '../views/features.js';
import { GenerateView } from '../views/generate.js';
import { LensView } from '../views/lens.js';
import { ModelPicker } from '../views/model-picker.js';
import { PatchingView } from '../views/patching.js';
import { PredictionView } from '../views/prediction.js';
import { PromptView } from '../views/prompt.js';
import { Tabs } from '../views/tabs.js';
import { TokensView } from '../views/tokens.js';
import { connect, pageParams, type ModelChoice } from './connect.js';
import type { ViewContext } from './context.js';
import { h } from './dom.js';
import { formatBytes } from './limits.js';
import { initialState, Store, type AppState, type ViewName } from './state.js';

/** The indirect-object prompt the default model (world-4l) was trained on, and its corrupted twin. */
export const DEFAULT_PROMPT = 'When Mary and John went to the store, John gave a drink to';
export const DEFAULT_CORRUPTED = 'When Mary and John went to the store, Mary gave a drink to';
const DEFAULT_ANSWERS = [' Mary', ' John'];

export class App {
  readonly store = new Store(initialState());
  private client: DissectClient | null = null;
  private choices: ModelChoice[] = [];
  private readonly backendLine = h('span', { class: 'backend', id: 'backend' }, 'starting…');
  private readonly patching: PatchingView;
  private runController: AbortController | null = null;
  private lastRunText: string | null = null;
  private dashboards: string | null = null;

  constructor(root: HTMLElement) {
    const context: ViewContext = {
      store: this.store,
      client: () => {
        if (!this.client) throw new Error('not connected yet');
        return this.client;
      },
    };
    const picker = new ModelPicker(this.store, {
      open: (choice) => void this.open(choice),
      canOpenLocal: () => this.client?.kind === 'browser',
    });
    const prompt = new PromptView(this.store, () => void this.runPrompt());
    this.patching = new PatchingView(context);
    const tabs = new Tabs(this.store, [
      { name: 'attention', title: 'Attention', view: new AttentionView(context) },
      { name: 'lens', title: 'Logit lens', view: new LensView(context) },
      { name: 'dla', title: 'Logit attribution', view: new DlaView(context) },
      { name: 'patch', title: 'Patching', view: this.patching },
      { name: 'generate', title: 'Generate & steer', view: new GenerateView(context) },
      { name: 'features', title: 'SAE features', view: new FeaturesView(() => this.dashboards) },
    ]);
    const tokens = new TokensView(context);
    const prediction = new PredictionView(context);
    root.append(
      h('header', { class: 'topbar' }, h('h1', {}, 'dissect'), picker.element, this.backendLine),
      h('main', { class: 'layout' },
        prompt.element,
        h('section', { class: 'tokens-panel', 'aria-label': 'tokens' }, h('h2', { class: 'visually-hidden' }, 'Tokens'), tokens.element),
        h('div', { class: 'workspace' }, prediction.element, tabs.element)),
    );
    const views = [picker, prompt, tokens, prediction, tabs];
    this.store.subscribe((state, changed) => {
      for (const view of views) view.update(state, changed);
    });
    const all = new Set(Object.keys(this.store.get()) as (keyof AppState)[]);
    for (const view of views) view.update(this.store.get(), all);
  }

  async start(): Promise<void> {
    const params = pageParams();
    const view = params.get('view') as ViewName | null;
    this.store.update({ prompt: params.get('prompt') ?? DEFAULT_PROMPT, ...(view ? { view } : {}) });
    if (!params.get('prompt')) this.patching.setCorrupted(DEFAULT_CORRUPTED);
    try {
      const connection = await connect();
      this.client = connection.client;
      this.choices = connection.choices;
      this.dashboards = connection.dashboards;
      this.backendLine.textContent = connection.client.description;
      this.store.update({ models: this.choices });
      const wanted = params.get('model') ?? connection.defaultModel;
      const choice = this.choices.find((c) => c.id === wanted) ?? this.choices[0];
      if (choice) await this.open(choice);
      else this.store.update({ modelStatus: { state: 'none', message: 'No model offered here: open a local folder or a hub id.' } });
    } catch (err) {
      this.backendLine.textContent = 'not connected';
      this.store.update({ modelStatus: { state: 'error', message: (err as Error).message } });
    }
  }

  private async open(choice: ModelChoice): Promise<void> {
    if (!this.choices.some((c) => c.id === choice.id)) {
      this.choices = [...this.choices, choice];
      this.store.update({ models: this.choices });
    }
    this.runController?.abort();
    this.store.update({ model: choice.id, run: null, target: null, distractor: null, error: null });
    if (!choice.fits) {
      this.store.update({ modelStatus: { state: 'error', message: `${choice.label} (${formatBytes(choice.sizeBytes)}) is too big to run in the browser; run it with \`dissect serve\`.` } });
      return;
    }
    this.store.update({ modelStatus: { state: 'loading', message: `loading ${choice.label}…`, fraction: 0 } });
    try {
      await (this.client as DissectClient).openModel(choice.id, choice.label, choice.origin, {
        onProgress: (p) => {
          const unit = p.stage === 'download' ? `${formatBytes(p.done)} of ${formatBytes(p.total)}` : `${p.done}/${p.total}`;
          this.store.update({ modelStatus: { state: 'loading', message: `loading ${choice.label}: ${p.stage} ${unit}`, fraction: p.total > 0 ? p.done / p.total : undefined } });
        },
      });
    } catch (err) {
      if (this.store.get().model === choice.id) this.store.update({ modelStatus: { state: 'error', message: (err as Error).message } });
      return;
    }
    if (this.store.get().model !== choice.id) return;
    this.store.update({ modelStatus: { state: 'ready', message: `${choice.label} ready` } });
    this.lastRunText = null;
    await this.runPrompt();
  }

  /**
   * Target and distractor for a new prompt: the names of the default IOI prompt (the indirect
   * object and the subject), else the two most likely next tokens after the last position.
   */
  private async defaultTargets(run: RunResponse, prompt: string, model: ModelId): Promise<Pick<AppState, 'target' | 'distractor'>> {
    if (prompt === DEFAULT_PROMPT) {
      const names = await Promise.all(DEFAULT_ANSWERS.map((text) => (this.client as DissectClient).call('tokenize', { model, text }).catch(() => null)));
      const [target, distractor] = names.map((n) => (n?.tokens.length === 1 ? n.tokens[0] : null));
      if (target && distractor) return { target, distractor };
    }
    const top = run.predictions.find((p) => p.position === run.tokens.length - 1)?.top ?? [];
    const token = (i: number) => (top[i] ? { id: top[i].id, text: top[i].text } : null);
    return { target: token(0), distractor: token(1) };
  }

  private async runPrompt(): Promise<void> {
    const state = this.store.get();
    if (!this.client || !state.model || state.modelStatus.state !== 'ready') return;
    this.runController?.abort();
    const controller = new AbortController();
    this.runController = controller;
    this.store.update({ running: true });
    const model: ModelId = state.model;
    try {
      const run = await this.client.call('run', {
        model, text: state.prompt, bos: state.bos, topK: 10, predictions: 'all', attention: true, headScores: 'prompt',
      }, { signal: controller.signal });
      if (controller !== this.runController) return;
      const last = run.tokens.length - 1;
      const newText = this.lastRunText !== `${state.prompt}\u0000${state.bos}`;
      this.lastRunText = `${state.prompt}\u0000${state.bos}`;
      const targets = newText || !state.target ? await this.defaultTargets(run, state.prompt, model) : {};
      if (controller !== this.runController) return;
      this.store.update({ run, running: false, error: null, position: newText ? last : Math.min(state.position, last), ...targets });
    } catch (err) {
      if (controller !== this.runController) return;
      this.store.update({ running: false, error: (err as Error).message });
    }
  }
}
