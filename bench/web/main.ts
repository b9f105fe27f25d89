// The benchmark page: starts the worker with the page's query (threads, rounds, seq) and exposes
// its answer as window.benchResult for the driver (bench/web-forward.ts). Written without DOM types.

interface BenchWorker {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

const scope = globalThis as unknown as {
  Worker: new (url: URL, options: { type: 'module' }) => BenchWorker;
  location: { search: string };
  benchResult?: unknown;
};
const Worker = scope.Worker;
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
worker.onmessage = (event) => {
  scope.benchResult = event.data;
};
const params = new URLSearchParams(scope.location.search);
worker.postMessage({ threads: Number(params.get('threads') ?? 2), rounds: Number(params.get('rounds') ?? 5), seq: Number(params.get('seq') ?? 64) });
