// Public surface of src/editing (re-exported by src/index.ts): where facts live and how to change
// them — causal tracing (Meng et al. 2022) and ROME rank-one editing with its evaluation.

// Subjects among a prompt's tokens.
export {
  SUBJECT_SLOT, encodeWithSubject, findSubjectRange, toTemplate, type SubjectPrompt, type SubjectRange,
} from './subject.js';

// Causal tracing: corrupt the subject, restore one state at a time, average, draw.
export {
  causalTrace, causalTraceMany, indirectEffects,
  type CausalTraceOptions, type CausalTraceResult, type TraceGrid, type TracePrompt,
} from './causal-trace.js';
export { TRACE_KINDS, traceHookName, windowLayers, type TraceKind } from './trace-engine.js';
export { embeddingStd } from './trace-noise.js';
export {
  TRACE_TOKEN_GROUPS, strongestEffect, tokenGroups, traceSummary,
  type TraceSummary, type TraceSummaryOptions, type TraceTokenGroup,
} from './trace-summary.js';
export { traceFigure, traceSummaryFigure, traceTokenLabels, type TraceFigureOptions } from './trace-figures.js';

// ROME: key statistics, keys, values, the rank-one update, evaluation and saving.
export {
  computeKeyStatistics, corpusRows, keyHookName, solveKeyStatistics, type KeyStatistics, type KeyStatisticsOptions,
} from './key-statistics.js';
export {
  cachedKeyStatistics, keyStatisticsPath, readKeyStatistics, writeKeyStatistics, type CachedKeyStatisticsOptions,
} from './key-statistics-cache.js';
export {
  contextPrefixes, contextPrompts, downProjection, keysAtSubject, meanKey, type ContextOptions,
} from './rome-key.js';
export { ROME_GPT2_XL, optimiseValue, type ValueInputs, type ValueOptions, type ValueResult, type ValueStep } from './rome-value.js';
export {
  applyRankOneUpdate, restoreDownProjection, romeEdit,
  type EditRequest, type RankOneUpdate, type RomeEdit, type RomeOptions,
} from './rome.js';
export {
  evaluateEdit, ngramEntropy, perplexity,
  type EditEvaluation, type EditEvaluationSpec, type NeighbourScore, type PromptScore,
} from './edit-evaluation.js';
export { saveEditedModel, type SaveEditedOptions } from './save-edited.js';
