// Importing this module makes the ref backend available to the registry.

import { registerBackend } from '../registry.js';
import { RefBackend } from './backend.js';

registerBackend('ref', () => new RefBackend());

export { RefBackend } from './backend.js';
export { refKernels, type Kernels } from './kernels.js';
export { erf } from './scalar-math.js';
export { denseStrides, StridedRows, type StridedLayout } from './strided.js';
