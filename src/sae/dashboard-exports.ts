// Feature dashboards (as SAEDashboard and Neuronpedia draw them): statistics over a corpus, the
// versioned JSON, and self-contained HTML pages. One line in sae/index.ts re-exports this.

export {
  FeatureStatsAccumulator, type ActivationInterval, type FeatureExample, type FeatureStatistics, type FeatureStatsOptions,
} from './dashboard-stats.js';
export { LOGIT_EFFECT_METHOD, featureLogitEffects, scanFeatures, type FeatureScanOptions, type LogitEffects } from './dashboard-scan.js';
export {
  DASHBOARD_INDEX_SCHEMA, DASHBOARD_SCHEMA_VERSION, FEATURE_DASHBOARD_SCHEMA, FEATURE_RANKINGS, dashboardFileNames, dashboardIndex,
  featureDashboard, topFeatures,
  type DashboardExample, type DashboardIndex, type DashboardIndexEntry, type DashboardInterval, type DashboardSource,
  type FeatureDashboard, type FeatureRanking, type TokenEffect, type TokenStrings,
} from './dashboard-data.js';
export { featureDashboardFragment, featureDashboardHtml, type DashboardPageOptions } from './dashboard-html.js';
export { dashboardIndexHtml } from './dashboard-index-html.js';
export { DASHBOARD_CSS, activationColors } from './dashboard-style.js';
