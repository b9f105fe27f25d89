// dissect info: what a model is — family, the normalised config, parameter count, and every hook
// point with its axes (the names to pass to `cache --names`, hooks and SAEs).

import type { HookedTransformer } from '../../index.js';
import { defineCommand } from '../command.js';
import { MODEL_DETAILS, MODEL_FLAGS, openModel } from '../model-flags.js';

/** Distinct weight tensors' elements (a tied unembedding counts once, as HF's num_parameters). */
function parameterCount(model: HookedTransformer): number {
  let total = 0;
  for (const t of new Set(model.params.named.values())) total += t.size;
  return total;
}

export const infoCommand = defineCommand({
  name: 'info',
  summary: 'Show a model\'s architecture, normalised config, parameter count and hook points.',
  positionals: ['model'],
  flags: { json: { type: 'boolean', description: 'print JSON' }, ...MODEL_FLAGS },
  details: MODEL_DETAILS,
  async run({ positionals: [name], flags }, terminal, context) {
    const { model, location } = await openModel(name, flags, terminal, context);
    try {
      const info = {
        model: name,
        source: location.source,
        folder: location.folder,
        ...(location.commit ? { commit: location.commit } : {}),
        family: model.config.family,
        parameters: parameterCount(model),
        backend: model.backend.name,
        config: model.config,
        hookPoints: model.hookPoints.map((p) => ({ name: p.name, layer: p.layer, axes: p.axes })),
      };
      if (flags.json) {
        terminal.out(`${JSON.stringify(info, null, 2)}\n`);
        return 0;
      }
      const lines = [
        `model       ${name} (${location.source}${location.commit ? ` @ ${location.commit.slice(0, 12)}` : ''})`,
        `family      ${info.family}`,
        `parameters  ${info.parameters.toLocaleString('en-US')}`,
        `backend     ${info.backend}`,
        'config',
        ...Object.entries(model.config).map(([key, value]) => `  ${key.padEnd(24)} ${JSON.stringify(value)}`),
        `hook points (${info.hookPoints.length})`,
      ];
      const width = Math.max(...info.hookPoints.map((p) => p.name.length));
      for (const p of info.hookPoints) lines.push(`  ${p.name.padEnd(width)}  [${p.axes.join(', ')}]`);
      terminal.out(`${lines.join('\n')}\n`);
      return 0;
    } finally {
      model.dispose();
    }
  },
});
