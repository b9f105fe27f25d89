// Importing this module makes the native backend available to the registry. When the addon is not
// built or cannot run here, the factory throws (the registry then falls back to wasm) and the
// first failure is reported once through notice().

import { BackendError } from '../../util/errors.js';
import { notice } from '../../util/log.js';
import { registerBackend } from '../registry.js';
import { NativeBackend } from './backend.js';

let unavailableNoticed = false;

registerBackend('native', (options) => {
  try {
    return new NativeBackend(options);
  } catch (err) {
    if (err instanceof BackendError && !unavailableNoticed) {
      unavailableNoticed = true;
      notice(`native backend unavailable (${err.message}); using wasm`);
    }
    throw err;
  }
});

export { NativeBackend, type NativeBackendOptions } from './backend.js';
export { addonPath } from './addon.js';
