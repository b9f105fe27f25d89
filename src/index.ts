// The public API: the only module cli/ and web/ import.
import { defaultBackend, getBackend, registeredBackends } from './backend/registry.js';
import type { BackendName } from './backend/types.js';
import './backend/ref/index.js';
import './backend/wasm/index.js';
import './backend/native/index.js';

export const VERSION = '0.1.0';

export * from './util/errors.js';
export { setNoticeHandler } from './util/log.js';
export type { NoticeHandler } from './util/log.js';
export type { Backend, BackendName, DType } from './backend/types.js';
export { defaultBackend, getBackend, setDefaultBackend, registeredBackends, disposeBackends } from './backend/registry.js';

export interface BackendStatus {
  name: BackendName;
  ok: boolean;
  threads: number;
  default: boolean;
  error?: string;
}

/** Each registered backend, whether it starts on this machine, and which one is the default. */
export function availableBackends(): BackendStatus[] {
  const chosen = defaultBackend().name;
  return registeredBackends().map((name) => {
    try {
      const backend = getBackend(name);
      return { name, ok: true, threads: backend.threads, default: name === chosen };
    } catch (err) {
      return { name, ok: false, threads: 0, default: false, error: (err as Error).message };
    }
  });
}
