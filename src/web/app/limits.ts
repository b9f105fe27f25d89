// How big a model the browser takes. The wasm heap is one 32-bit memory (4 GiB at most, 1 GiB on
// some 32-bit hosts) that must also hold activations, caches and patching batches; past 1 GiB of
// float32 weights (~270M parameters; GPT-2 small fits) a tab runs out before the analyses do.
export const BROWSER_WEIGHT_LIMIT_BYTES = 2 ** 30;

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}
