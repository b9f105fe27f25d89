// The one prompt state every view reads: which model, the prompt and its run (tokens, predictions,
// attention), and the selections that link the views — the selected token position, the selected
// head, and the target (and distractor) token of the lens, DLA and patching. A view changes the
// state through update(); every subscriber hears which keys changed and redraws what depends on them.

import type { ModelId, RunResponse, TokenInfo } from '../../api/protocol.js';
import type { ModelChoice } from './connect.js';

export type ViewName = 'attention' | 'lens' | 'dla' | 'patch' | 'generate' | 'features';

export interface ModelStatus {
  state: 'none' | 'loading' | 'ready' | 'error';
  message: string;
  /** 0..1 while loading, when known. */
  fraction?: number;
}

export interface AppState {
  /** What the model picker offers. */
  models: readonly ModelChoice[];
  model: ModelId | null;
  modelStatus: ModelStatus;
  prompt: string;
  /** Prepend the model's BOS token (TransformerLens's default for analyses). */
  bos: boolean;
  run: RunResponse | null;
  /** A run of the current prompt is in flight. */
  running: boolean;
  /** The last failure worth showing (cleared by the next success). */
  error: string | null;
  /** Selected token position in run.tokens. */
  position: number;
  layer: number;
  head: number;
  /** Token whose probability / logit the lens, DLA and patching follow; a text spec until a response names its id. */
  target: TokenInfo | null;
  distractor: TokenInfo | null;
  view: ViewName;
}

export type Listener = (state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>) => void;

export class Store {
  private state: AppState;
  private readonly listeners = new Set<Listener>();

  constructor(initial: AppState) {
    this.state = initial;
  }

  get(): Readonly<AppState> {
    return this.state;
  }

  update(patch: Partial<AppState>): void {
    const changed = new Set<keyof AppState>();
    for (const key of Object.keys(patch) as (keyof AppState)[]) {
      if (!Object.is(this.state[key], patch[key])) changed.add(key);
    }
    if (changed.size === 0) return;
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener(this.state, changed);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function initialState(): AppState {
  return {
    models: [],
    model: null,
    modelStatus: { state: 'none', message: 'no model loaded' },
    prompt: '',
    bos: true,
    run: null,
    running: false,
    error: null,
    position: 0,
    layer: 0,
    head: 0,
    target: null,
    distractor: null,
    view: 'attention',
  };
}

/** Any of these changed? */
export function touched(changed: ReadonlySet<keyof AppState>, ...keys: (keyof AppState)[]): boolean {
  return keys.some((key) => changed.has(key));
}
