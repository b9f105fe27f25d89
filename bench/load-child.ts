// Child process of bench/load.ts: load one checkpoint on one backend and report peak RSS growth.
import '../src/backend/ref/index.js';
import '../src/backend/wasm/index.js';
import '../src/backend/native/index.js';
import { getBackend } from '../src/backend/registry.js';
import type { BackendName } from '../src/backend/types.js';
import { loadModelFolder } from '../src/io/load-model.js';

const [folder, backendName] = process.argv.slice(2);
const backend = getBackend(backendName as BackendName);
const baseline = process.memoryUsage().rss;
const start = performance.now();
const model = await loadModelFolder(folder, { backend });
const ms = performance.now() - start;
const peak = process.resourceUsage().maxRSS * 1024;
let weightBytes = 0;
for (const t of new Set(model.params.named.values())) weightBytes += t.size * 4;
const mb = (x: number): number => Math.round(x / 1048576);
console.log(JSON.stringify({
  bench: 'load', model: 'gpt2-small', backend: backend.name, weight_mb: mb(weightBytes),
  baseline_rss_mb: mb(baseline), peak_rss_mb: mb(peak), peak_over_weights: Math.round(((peak - baseline) / weightBytes) * 1000) / 1000,
  ms: Math.round(ms),
}));
model.dispose();
