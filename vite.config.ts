// Builds the browser UI (src/web) into dist/web: `npx vite build` (run by `npm run build`).
//
// The UI imports the library through src/index.ts, which also carries Node-only code (file and hub
// IO, the native addon loader, organism checkpoints). None of it runs in the browser, but its
// `import ... from 'node:fs'` lines must still bundle. Each `node:*` module therefore resolves to a
// stand-in (nodeBuiltinsForBrowser below) that exports the real module's names as functions
// throwing "node:fs is not available in the browser" — a clear error should a browser code path
// ever reach one — except node:path, whose pure string functions some modules call at load time
// and which src/web/shims/node-path.ts implements for real.

import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('./src/web/', import.meta.url));
const PREFIX = '\0dissect-node-stub:';

function nodeBuiltinsForBrowser(): Plugin {
  const pathShim = fileURLToPath(new URL('./src/web/shims/node-path.ts', import.meta.url));
  return {
    name: 'dissect-node-builtins-for-browser',
    enforce: 'pre',
    resolveId(id) {
      const bare = id.startsWith('node:') ? id.slice(5) : id;
      if (!id.startsWith('node:') && !builtinModules.includes(bare)) return null;
      if (bare === 'path' || bare === 'path/posix') return pathShim;
      return PREFIX + bare;
    },
    async load(id) {
      if (!id.startsWith(PREFIX)) return null;
      const name = id.slice(PREFIX.length);
      const real = (await import(`node:${name}`)) as Record<string, unknown>;
      const exported = Object.keys(real).filter((key) => key !== 'default' && /^[A-Za-z_$][\w$]*$/.test(key));
      const lines = [
        'function unavailable(what) {',
        `  return function () { throw new Error('node:${name} ' + what + ' is not available in the browser (this code path is Node only)'); };`,
        '}',
        ...exported.map((key) => `export const ${key} = unavailable(${JSON.stringify(key)});`),
        `export default new Proxy({}, { get: (_, key) => unavailable(String(key)) });`,
      ];
      return lines.join('\n');
    },
  };
}

// The wasm backend starts its kernel workers with `new WorkerClass(new URL('./worker-browser.js',
// import.meta.url))` (platform-browser.ts avoids DOM types by reading Worker off globalThis). Vite
// bundles a worker only when the call is spelled `new Worker(new URL(...))`, so that one call is
// respelled here; `Worker` is the worker scope's own constructor, the same class.
function bundleWasmKernelWorkers(): Plugin {
  return {
    name: 'dissect-bundle-wasm-kernel-workers',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/backend/wasm/platform-browser.ts')) return null;
      const respelled = code.replace('new WorkerClass(new URL(', 'new Worker(new URL(');
      if (respelled === code) {
        this.error('platform-browser.ts no longer starts workers with `new WorkerClass(new URL(`: update vite.config.ts');
      }
      return { code: respelled, map: null };
    },
  };
}

// io/tokenizer.ts imports node:fs lazily for Node, which in the bundle is a stub either way; and
// the plugin timing report is noise in `npm run build`.
const QUIET_CHECKS = { ineffectiveDynamicImport: false, pluginTimings: false };

export default defineConfig({
  root,
  base: './',
  publicDir: false,
  logLevel: 'warn',
  plugins: [nodeBuiltinsForBrowser(), bundleWasmKernelWorkers()],
  worker: {
    format: 'es',
    rolldownOptions: { checks: QUIET_CHECKS },
    plugins: () => [nodeBuiltinsForBrowser(), bundleWasmKernelWorkers()],
  },
  build: {
    outDir: fileURLToPath(new URL('./dist/web/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The worker bundle carries the whole library; its size is expected.
    chunkSizeWarningLimit: 4096,
    assetsInlineLimit: 0,
    rolldownOptions: { checks: QUIET_CHECKS },
  },
});
