// Finding and loading the N-API addon that scripts/build-native.mjs builds into
// <package root>/native/build/Release/ (or the file DISSECT_NATIVE_ADDON names). Every way this
// can fail (not built, built for another Node ABI, a CPU without AVX2/FMA, not Node at all)
// becomes a BackendError whose message says why, so the registry can fall back to wasm.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendError } from '../../util/errors.js';

/** Opaque handle of a native thread pool (a napi_external). */
export interface NativePool {
  readonly __brand: 'NativePool';
}

/**
 * The addon's functions (native/src/addon.cc). Typed arrays are passed whole with an element
 * offset; ops are indices into UNARY_OPS / BINARY_OPS; the addon bounds-checks every range.
 */
export interface NativeAddon {
  cpuSupported(): boolean;
  createPool(threads: number): NativePool;
  destroyPool(pool: NativePool): void;
  matmul(pool: NativePool, a: Float32Array, aOffset: number, aBatchStride: number, aRowStride: number,
    aColStride: number, b: Float32Array, bOffset: number, bBatchStride: number, bRowStride: number,
    bColStride: number, batch: number, m: number, k: number, n: number, out: Float32Array, accumulate: boolean): void;
  binary(pool: NativePool, op: number, a: Float32Array, aOffset: number, aMode: number, b: Float32Array,
    bOffset: number, bMode: number, rows: number, n: number, out: Float32Array): void;
  binaryScalar(pool: NativePool, op: number, x: Float32Array, xOffset: number, scalar: number,
    scalarOnLeft: boolean, length: number, out: Float32Array): void;
  unary(pool: NativePool, op: number, x: Float32Array, xOffset: number, length: number, out: Float32Array): void;
  softmax(pool: NativePool, x: Float32Array, rows: number, n: number, log: boolean, causalQueryLen: number,
    causalOffset: number, out: Float32Array): void;
  layerNorm(pool: NativePool, x: Float32Array, rows: number, d: number, weight: Float32Array | null,
    bias: Float32Array | null, eps: number, out: Float32Array, mean: Float32Array | null,
    rstd: Float32Array | null): void;
  rmsNorm(pool: NativePool, x: Float32Array, rows: number, d: number, weight: Float32Array | null,
    weightOffset: number, eps: number, out: Float32Array, rstd: Float32Array | null): void;
  /** op: 0 sum, 1 max, 2 min. */
  reduce(pool: NativePool, op: number, x: Float32Array, outer: number, n: number, inner: number,
    out: Float32Array): void;
}

const ADDON_FILE = join('native', 'build', 'Release', 'dissect_native.node');

/** The nearest folder above this module that holds a package.json: the package root. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new BackendError(`native addon: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Where the addon is expected, whether or not it exists: DISSECT_NATIVE_ADDON, else the build output. */
export function addonPath(): string {
  return process.env.DISSECT_NATIVE_ADDON || join(packageRoot(), ADDON_FILE);
}

let loaded: NativeAddon | null = null;

/** The addon, loaded once; throws BackendError with the reason when it cannot run here. */
export function loadAddon(): NativeAddon {
  if (loaded) return loaded;
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new BackendError('the native backend needs Node.js');
  }
  if (process.arch !== 'x64') {
    throw new BackendError(`the native backend needs an x64 CPU with AVX2/FMA, this is ${process.arch}`);
  }
  const path = addonPath();
  if (!existsSync(path)) {
    throw new BackendError(`the native addon is not built (no ${path}; run \`npm run build:native\`)`);
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    throw new BackendError(`the native addon at ${path} failed to load: ${(err as Error).message}`);
  }
  if (!addon.cpuSupported()) throw new BackendError('this CPU lacks AVX2/FMA, which the native kernels need');
  loaded = addon;
  return addon;
}
