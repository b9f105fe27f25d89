// Worker entry point for browsers (a module Web Worker); see platform-browser.ts. Written without
// DOM types: the only thing used is the worker's `onmessage`.

import type { WorkerInit } from './abi.js';
import { runWorkerLoop } from './worker-loop.js';

const scope = globalThis as unknown as { onmessage: ((event: { data: WorkerInit }) => void) | null };
scope.onmessage = (event) => {
  scope.onmessage = null;
  runWorkerLoop(event.data);
};
