// How big a model the browser takes: one limit, shared with the server's models list (see
// BROWSER_MODEL_LIMIT_BYTES in the API protocol for why 1 GiB).
import { BROWSER_MODEL_LIMIT_BYTES } from '../../api/protocol.js';

export const BROWSER_WEIGHT_LIMIT_BYTES = BROWSER_MODEL_LIMIT_BYTES;

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}
