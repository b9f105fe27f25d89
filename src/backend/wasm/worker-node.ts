// Worker entry point for Node (node:worker_threads); see platform-node.ts.

import { workerData } from 'node:worker_threads';
import type { WorkerInit } from './abi.js';
import { runWorkerLoop } from './worker-loop.js';

runWorkerLoop(workerData as WorkerInit);
