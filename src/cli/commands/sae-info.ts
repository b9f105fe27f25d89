// dissect sae info: what a SAELens-format SAE is — its configuration, parameter shapes, decoder-norm
// and threshold statistics, and its stored feature densities when the folder has sparsity.safetensors.

import { loadSAE, tidy } from '../../index.js';
import { formatNumber } from '../analysis-args.js';
import { defineCommand } from '../command.js';
import { formatTable } from '../table.js';

function stats(values: ArrayLike<number>): { min: number; mean: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
    sum += values[i];
  }
  return { min, mean: sum / values.length, max };
}

export const saeInfoCommand = defineCommand({
  name: 'sae info',
  summary: "Show an SAE's configuration, parameter shapes and weight statistics.",
  positionals: ['sae'],
  flags: {
    'sae-folder': { type: 'string', placeholder: 'DIR', description: 'hub repos: the folder inside the repo holding cfg.json' },
    json: { type: 'boolean', description: 'print as JSON' },
  },
  details: '<sae> is a SAELens-format folder (cfg.json + sae_weights.safetensors) or a hub repo id.',
  async run({ positionals: [path], flags }, terminal, context) {
    const { sae, logSparsity, folder } = await loadSAE(path, { folder: flags['sae-folder'], signal: context.signal });
    try {
      const norms = tidy(() => sae.decoderNorms().toArray());
      const info = {
        folder,
        config: sae.cfg,
        parameters: Object.fromEntries(Object.entries(sae.stateDict()).map(([k, t]) => [k, t.shape])),
        decoder_norms: stats(norms),
        ...(sae.threshold ? { threshold: stats(sae.threshold.toArray()) } : {}),
        ...(logSparsity ? { log10_feature_density: stats(logSparsity), never_fired: logSparsity.filter((v) => v <= -9.99).length } : {}),
      };
      if (flags.json) {
        terminal.out(`${JSON.stringify(info)}\n`);
        return 0;
      }
      const rows: string[][] = Object.entries(sae.cfg).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]);
      for (const [k, shape] of Object.entries(info.parameters)) rows.push([k, `[${shape.join(', ')}]`]);
      const line = (label: string, s: { min: number; mean: number; max: number }) => [label, `min ${formatNumber(s.min)}  mean ${formatNumber(s.mean)}  max ${formatNumber(s.max)}`];
      rows.push(line('decoder row norms', info.decoder_norms));
      if (info.threshold) rows.push(line('threshold', info.threshold));
      if (info.log10_feature_density) rows.push(line('log10 feature density', info.log10_feature_density), ['never fired', String(info.never_fired)]);
      terminal.out(`${folder}\n${formatTable(['field', 'value'], rows, { align: ['left', 'left'] })}\n`);
      return 0;
    } finally {
      sae.dispose();
    }
  },
});
