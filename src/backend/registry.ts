// Which backend runs the kernels: automatic (native, else wasm, else ref), overridable with
// DISSECT_BACKEND=ref|wasm|native or setDefaultBackend(). Backends are created on first use.

import { BackendError } from '../util/errors.js';
import type { Backend, BackendName } from './types.js';

/** Options a factory may honour; `threads` counts the caller's thread (1 = no workers). */
export interface BackendOptions {
  threads?: number;
}

export type BackendFactory = (options?: BackendOptions) => Backend;

const BACKEND_NAMES: readonly BackendName[] = ['ref', 'wasm', 'native'];
const factories = new Map<BackendName, BackendFactory>();
const instances = new Map<BackendName, Backend>();
let defaultName: BackendName | null = null;

/** Called by each backend's module to make itself available. */
export function registerBackend(name: BackendName, factory: BackendFactory): void {
  factories.set(name, factory);
}

function checkName(name: string): BackendName {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new BackendError(`unknown backend '${name}': expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  return name as BackendName;
}

/** The backend of that name, created on first use. Throws BackendError if it cannot run here. */
export function getBackend(name: BackendName): Backend {
  checkName(name);
  let backend = instances.get(name);
  if (backend) return backend;
  const factory = factories.get(name);
  if (!factory) throw new BackendError(`backend '${name}' is not available in this build`);
  backend = factory();
  instances.set(name, backend);
  return backend;
}

/**
 * A new, unshared instance of that backend with these options (benchmarks compare thread counts
 * this way). The caller owns it and must dispose() it.
 */
export function createBackend(name: BackendName, options: BackendOptions = {}): Backend {
  checkName(name);
  const factory = factories.get(name);
  if (!factory) throw new BackendError(`backend '${name}' is not available in this build`);
  return factory(options);
}

export function setDefaultBackend(name: BackendName): void {
  defaultName = checkName(name);
}

/** Names of backends that are registered (not necessarily working on this machine). */
export function registeredBackends(): BackendName[] {
  return BACKEND_NAMES.filter((n) => factories.has(n));
}

function envChoice(): BackendName | null {
  const value = typeof process !== 'undefined' ? process.env?.DISSECT_BACKEND : undefined;
  return value ? checkName(value) : null;
}

/**
 * The backend new tensors go to: setDefaultBackend's choice, else DISSECT_BACKEND, else the
 * fastest registered one that starts (the fallback chain lives in each factory: native's factory
 * throws when its addon did not build, and we move on to wasm).
 */
export function defaultBackend(): Backend {
  if (defaultName) return getBackend(defaultName);
  const fromEnv = envChoice();
  if (fromEnv) {
    defaultName = fromEnv;
    return getBackend(fromEnv);
  }
  const errors: string[] = [];
  for (const name of ['native', 'wasm', 'ref'] as const) {
    if (!factories.has(name)) continue;
    try {
      const backend = getBackend(name);
      defaultName = name;
      return backend;
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new BackendError(`no backend could start: ${errors.join('; ')}`);
}

/** Dispose every created backend (tests, and processes that want their worker threads gone). */
export function disposeBackends(): void {
  for (const backend of instances.values()) backend.dispose();
  instances.clear();
  defaultName = null;
}
