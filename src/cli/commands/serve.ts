// dissect serve: the local server — the web UI and the JSON API over one start model, the
// embedded organisms, --allow folders and the Hugging Face cache — until Ctrl-C.

import { getBackend, type BackendName } from '../../index.js';
import { serve } from '../../server/index.js';
import { defineCommand, type Command } from '../command.js';
import { UsageError } from '../flags.js';
import { MODEL_DETAILS } from '../model-flags.js';

/** --allow may be repeated; the shared flag parser takes each flag once, so its values are taken out first. */
function takeAllow(args: readonly string[]): { allow: string[]; rest: string[] } {
  const allow: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      rest.push(...args.slice(i));
      break;
    }
    if (arg === '--allow') {
      if (i + 1 >= args.length) throw new UsageError('--allow needs a value (DIR)');
      allow.push(args[++i]);
    } else if (arg.startsWith('--allow=')) {
      allow.push(arg.slice('--allow='.length));
    } else {
      rest.push(arg);
    }
  }
  return { allow, rest };
}

/** The command with the --allow folders already taken out of its arguments. */
const withAllowed = (allowFolders: readonly string[]): Command => defineCommand({
  name: 'serve',
  summary: 'Serve the web UI and the JSON API (http://127.0.0.1:7860) over local models.',
  positionals: ['model'],
  flags: {
    port: { type: 'integer', placeholder: 'PORT', description: 'port to listen on (default 7860; 0 picks a free one)' },
    host: { type: 'string', placeholder: 'HOST', description: 'address to bind (default 127.0.0.1: this machine only)' },
    allow: { type: 'string', placeholder: 'DIR', description: 'also serve the models in DIR (a model folder or a folder of them); repeatable' },
    'cache-mb': { type: 'integer', placeholder: 'MB', description: 'memory for loaded models before the least recently used is dropped (default 4096)' },
    backend: { type: 'string', placeholder: 'NAME', description: 'compute backend: native, wasm or ref (default: the fastest that runs)' },
  },
  details: 'Requests may name the embedded models (world-4l, attn-only-2l...), <model>, models in --allow folders and\n'
    + 'models already in the Hugging Face cache (the server never downloads). API: POST /api/<endpoint> with JSON\n'
    + `(models, tokenize, run, lens, dla, patch, generate); see src/api/protocol.ts.\n${MODEL_DETAILS}`,
  async run({ positionals: [model], flags }, terminal, context) {
    const port = flags.port ?? 7860;
    if (port < 0 || port > 65535) throw new UsageError(`--port must be in 0..65535, got ${port}`);
    if (flags['cache-mb'] !== undefined && flags['cache-mb'] < 1) throw new UsageError(`--cache-mb must be at least 1, got ${flags['cache-mb']}`);
    let backend;
    if (flags.backend !== undefined) {
      const names: BackendName[] = ['native', 'wasm', 'ref'];
      if (!(names as string[]).includes(flags.backend)) throw new UsageError(`--backend must be one of ${names.join(', ')}, got '${flags.backend}'`);
      backend = getBackend(flags.backend as BackendName);
    }
    const running = await serve({
      model, allow: [...allowFolders], host: flags.host, port, backend, signal: context.signal,
      cacheBytes: flags['cache-mb'] === undefined ? undefined : flags['cache-mb'] * 1024 * 1024,
    });
    try {
      terminal.out(`dissect serve: ${running.url}  (model ${running.defaultModel}; Ctrl-C stops)\n`);
      await new Promise<void>((resolve) => {
        if (context.signal.aborted) resolve();
        else context.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      await running.close();
    }
    return 0;
  },
});

const described = withAllowed([]);

export const serveCommand: Command = {
  name: described.name,
  summary: described.summary,
  help: () => described.help(),
  execute(args, terminal, context) {
    const { allow, rest } = takeAllow(args);
    return withAllowed(allow).execute(rest, terminal, context);
  },
};
