// A hand-built dashboard shared by the data and page tests: two rows of IOI-like tokens, one
// feature whose activation is known at every token (Mary fires more the later she appears, John a
// little, ' to' barely), BOS excluded, and made-up logit effects.

import { FeatureStatsAccumulator, type FeatureStatistics } from '../../src/sae/dashboard-stats.js';
import { featureDashboard, type DashboardSource, type FeatureDashboard } from '../../src/sae/dashboard-data.js';
import type { LogitEffects } from '../../src/sae/dashboard-scan.js';

export const VOCAB = ['<|endoftext|>', 'When', ' Mary', ' and', ' John', ' went', ' to', ' the', ' store', ',', ' gave', ' a', ' drink', '.', '\n', ' <b>park</b>'];
export const ROWS = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 4, 10, 11, 12, 6, 2, 13],
  [0, 1, 4, 3, 2, 5, 6, 7, 15, 9, 2, 10, 11, 12, 6, 4, 13],
];
export const FEATURE = 7;

/** The feature's activation at token `id` in position `position` (BOS never fires). */
export function activationOf(id: number, position: number): number {
  if (id === 2) return Math.fround(1 + position * 0.3);
  if (id === 4) return Math.fround(0.4 + position * 0.05);
  return id === 6 ? Math.fround(0.1) : 0;
}

export const SOURCE: DashboardSource = {
  model: 'hand-built',
  sae: { hook_name: 'blocks.1.hook_resid_post', d_in: 128, d_sae: 1024 },
  corpus: { name: 'two hand-written rows', rows: ROWS.length, tokens: 32, excluded_token_ids: [0] },
};

export const EFFECTS: LogitEffects = {
  feature: FEATURE,
  positive: [{ token: 2, value: 2.31 }, { token: 15, value: 1.2 }, { token: 12, value: 0.5 }],
  negative: [{ token: 4, value: -1.9 }, { token: 9, value: -0.7 }, { token: 14, value: -0.2 }],
};

export const tokenStrings = (ids: readonly number[]): string[] => ids.map((id) => VOCAB[id]);

export function handBuiltStatistics(): FeatureStatistics {
  const acc = new FeatureStatsAccumulator([FEATURE], { topK: 8, examplesPerInterval: 3, window: { before: 12, after: 4 } });
  ROWS.forEach((row, r) => acc.addBatch([r], row.length, Float32Array.from(row, (id, p) => activationOf(id, p)), Uint8Array.from(row, (id) => (id === 0 ? 0 : 1))));
  return acc.finish()[0];
}

export function handBuiltDashboard(): FeatureDashboard {
  return featureDashboard(handBuiltStatistics(), ROWS, tokenStrings, SOURCE, { effects: EFFECTS, method: 'the test method' });
}
