// What every view gets: the store, the client of the current connection, and helpers for the
// request fields that describe the current prompt.

import type { PromptSpec } from '../../api/protocol.js';
import type { DissectClient } from '../client/client.js';
import type { AppState, Store } from './state.js';

export interface ViewContext {
  readonly store: Store;
  client(): DissectClient;
}

/** The model and prompt of the current run (its token ids, so every view analyses exactly those tokens). */
export function promptOf(state: Readonly<AppState>): { model: string; ids: number[] } & PromptSpec {
  return { model: state.model as string, ids: (state.run?.tokens ?? []).map((t) => t.id) };
}

/** A token spec for requests: its id when known. */
export function tokenSpec(token: AppState['target']): number | undefined {
  return token === null ? undefined : token.id;
}

export interface View {
  readonly element: HTMLElement;
  /** Called on every state change, and once at start with every key changed. */
  update(state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>): void;
}
