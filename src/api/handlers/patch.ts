// patch: activation patching — run the corrupted prompt, patch in one activation from the clean
// run, and record the metric; one heatmap per target (the residual stream per layer × position,
// head outputs per layer × head by default). Reports progress after every forward pass and stops
// between passes when the signal fires.

import {
  activationPatching, answerProbability, klDivergence, logitDiff, metricBaselines, normalisedMetric, planFor,
  type HookedTransformer, type Metric,
} from '../../index.js';
import { badRequest, checkAborted } from '../errors.js';
import { objectOf, optionalBoolean, optionalChoice, optionalChoiceList, type Fields } from '../fields.js';
import {
  PATCH_GRID_TARGETS, type PatchGrid, type PatchGridTarget, type PatchMetric, type PatchRequest, type PatchResponse,
} from '../protocol.js';
import type { ApiSession, HandlerContext, ModelHandle } from '../session.js';
import { jsonNumber, modelSummary, nestedPromptIds, singleToken, tokenInfos, withModel } from '../tokens.js';

const KEYS = ['model', 'clean', 'corrupted', 'metric', 'answer', 'wrong', 'normalise', 'targets'];
const METRICS: readonly PatchMetric[] = ['logit-diff', 'prob', 'kl'];
const DEFAULT_TARGETS: readonly PatchGridTarget[] = ['resid_pre', 'z'];

function buildMetric(kind: PatchMetric, model: HookedTransformer, clean: number[], answer: number | undefined, wrong: number | undefined): Metric {
  switch (kind) {
    case 'logit-diff':
      if (answer === undefined || wrong === undefined) throw badRequest(answer === undefined ? 'answer' : 'wrong', "metric 'logit-diff' needs answer and wrong");
      return logitDiff(answer, wrong);
    case 'prob':
      if (answer === undefined) throw badRequest('answer', "metric 'prob' needs answer");
      return answerProbability(answer);
    case 'kl': {
      const cleanLogits = model.forward([clean], { logitPositions: 'last' });
      try {
        return klDivergence(cleanLogits);
      } finally {
        cleanLogits.dispose();
      }
    }
    default:
      return kind satisfies never;
  }
}

async function patchOn(handle: ModelHandle, fields: Fields, session: ApiSession, context: HandlerContext): Promise<PatchResponse> {
  const { model, tokenizer } = handle;
  const c = model.config;
  const clean = nestedPromptIds(fields, 'clean', 'clean', handle, session.limits);
  const corrupted = nestedPromptIds(fields, 'corrupted', 'corrupted', handle, session.limits);
  if (clean.length !== corrupted.length) {
    throw badRequest('corrupted', `the clean prompt has ${clean.length} tokens and the corrupted one ${corrupted.length}; patching needs equal lengths`);
  }
  const metricName = optionalChoice(fields, 'metric', METRICS, 'logit-diff');
  const answer = singleToken(fields, 'answer', handle);
  const wrong = singleToken(fields, 'wrong', handle);
  const normalise = optionalBoolean(fields, 'normalise', false);
  const targets = optionalChoiceList(fields, 'targets', PATCH_GRID_TARGETS, DEFAULT_TARGETS);
  // Plans are built up front: a target the model lacks (resid_mid with a parallel residual) fails before any work.
  const plans = targets.map((target) => planFor(target, c, corrupted.length));
  const total = plans.reduce((sum, plan) => sum + plan.patches.length, 0);

  const raw = buildMetric(metricName, model, clean, answer, wrong);
  const baselines = metricBaselines(model, raw, { cleanTokens: [clean], corruptedTokens: [corrupted] });
  const metric = normalise ? normalisedMetric(raw, baselines) : raw;
  const grids: PatchGrid[] = [];
  let before = 0;
  for (const [i, target] of targets.entries()) {
    checkAborted(context.signal);
    const result = await activationPatching(model, target, {
      cleanTokens: [clean],
      corruptedTokens: [corrupted],
      metric,
      signal: context.signal,
      onProgress: (done) => context.onProgress?.({ stage: target, done: before + done, total }),
    });
    before += plans[i].patches.length;
    const [layers, columns] = result.values.shape;
    const data = result.values.toArray();
    result.values.dispose();
    grids.push({
      target,
      axes: result.axes[1] === 'pos' ? ['layer', 'pos'] : ['layer', 'head'],
      values: Array.from({ length: layers }, (_, l) => Array.from(data.subarray(l * columns, (l + 1) * columns), jsonNumber)),
    });
  }
  return {
    model: modelSummary(handle),
    cleanTokens: tokenInfos(clean, tokenizer),
    corruptedTokens: tokenInfos(corrupted, tokenizer),
    metric: metricName,
    normalised: normalise,
    answer: answer === undefined ? null : tokenInfos([answer], tokenizer)[0],
    wrong: wrong === undefined ? null : tokenInfos([wrong], tokenizer)[0],
    baselines,
    grids,
  };
}

export async function patch(session: ApiSession, request: PatchRequest, context: HandlerContext = {}): Promise<PatchResponse> {
  const fields = objectOf(request, '', KEYS);
  return withModel(session, fields, context, (handle) => patchOn(handle, fields, session, context));
}
