// Every class of bad request becomes an ApiError of the right type, naming the field at fault,
// before any model work — and no failure leaves a model on loan.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ApiError, ERROR_STATUS, handle, type ApiErrorType } from '../../src/api/index.js';
import { IOI_CLEAN, IOI_CORRUPT, testSession } from './api-helpers.js';

const session = testSession({ limits: { maxPromptChars: 200, maxPromptTokens: 20 } });
after(() => session.dispose());

const m = { model: 'world-4l' };
const patch = { ...m, clean: { text: IOI_CLEAN }, corrupted: { text: IOI_CORRUPT }, answer: ' Mary', wrong: ' John' };

const CASES: [string, string, unknown, ApiErrorType, string | undefined][] = [
  ['unknown endpoint', 'explode', {}, 'not_found', undefined],
  ['body is an array', 'run', [1], 'bad_request', undefined],
  ['body is null', 'tokenize', null, 'bad_request', undefined],
  ['unknown field (a typo)', 'run', { ...m, text: 'a', topk: 3 }, 'bad_request', 'topk'],
  ['no model', 'run', { text: 'a' }, 'bad_request', 'model'],
  ['model of the wrong type', 'run', { model: 3, text: 'a' }, 'bad_request', 'model'],
  ['unknown model', 'run', { model: 'nope', text: 'a' }, 'not_found', 'model'],
  ['text and ids', 'run', { ...m, text: 'a', ids: [1] }, 'bad_request', 'text'],
  ['neither text nor ids', 'lens', { ...m }, 'bad_request', 'text'],
  ['id out of the vocabulary', 'run', { ...m, ids: [1, 1e6] }, 'bad_request', 'ids[1]'],
  ['id not an integer', 'run', { ...m, ids: [1.5] }, 'bad_request', 'ids[0]'],
  ['empty ids', 'run', { ...m, ids: [] }, 'bad_request', 'ids'],
  ['bos with ids', 'run', { ...m, ids: [1], bos: true }, 'bad_request', 'bos'],
  ['text over the character limit', 'run', { ...m, text: 'a '.repeat(150) }, 'too_large', 'text'],
  ['ids over the token limit', 'run', { ...m, ids: new Array(21).fill(1) }, 'too_large', 'ids'],
  ['text over the token limit', 'run', { ...m, text: `${IOI_CLEAN} ${IOI_CLEAN}` }, 'too_large', 'text'],
  ['topK 0', 'run', { ...m, text: 'a', topK: 0 }, 'bad_request', 'topK'],
  ['topK a string', 'lens', { ...m, text: 'a', topK: '5' }, 'bad_request', 'topK'],
  ['attention layer out of range', 'run', { ...m, text: 'a', attentionLayers: [0, 9] }, 'bad_request', 'attentionLayers[1]'],
  ['attention layers without attention', 'run', { ...m, text: 'a', attention: false, attentionLayers: [0] }, 'bad_request', 'attentionLayers'],
  ['bad choice', 'run', { ...m, text: 'a', predictions: 'first' }, 'bad_request', 'predictions'],
  ['random without headScores random', 'run', { ...m, text: 'a', random: { seqLen: 3 } }, 'bad_request', 'random'],
  ['random.seqLen too long for the context', 'run', { ...m, text: 'a', headScores: 'random', random: { seqLen: 1000 } }, 'bad_request', 'random.seqLen'],
  ['target of several tokens', 'lens', { ...m, text: 'a', target: ' Mary John' }, 'bad_request', 'target'],
  ['target id out of range', 'lens', { ...m, text: 'a', target: -1 }, 'bad_request', 'target'],
  ['tuned lens the model lacks', 'lens', { ...m, text: 'a', lens: 'tuned' }, 'not_found', 'lens'],
  ['norm with a tuned lens', 'lens', { ...m, text: 'a', lens: 'tuned', norm: 'cached' }, 'bad_request', 'norm'],
  ['dla without target', 'dla', { ...m, text: 'a b' }, 'bad_request', 'target'],
  ['dla position outside the prompt', 'dla', { ...m, ids: [1, 2], target: 3, position: 2 }, 'bad_request', 'position'],
  ['patch prompts of different lengths', 'patch', { ...patch, corrupted: { text: 'When Mary' } }, 'bad_request', 'corrupted'],
  ['patch clean prompt missing', 'patch', { ...patch, clean: undefined }, 'bad_request', 'clean'],
  ['patch clean prompt malformed', 'patch', { ...patch, clean: { txt: 'a' } }, 'bad_request', 'clean.txt'],
  ['logit-diff without wrong', 'patch', { ...patch, wrong: undefined }, 'bad_request', 'wrong'],
  ['unknown patch target', 'patch', { ...patch, targets: ['resid_post'] }, 'bad_request', 'targets[0]'],
  ['a target twice', 'patch', { ...patch, targets: ['z', 'z'] }, 'bad_request', 'targets[1]'],
  ['models with fields', 'models', { verbose: true }, 'bad_request', 'verbose'],
];

describe('api validation', () => {
  for (const [what, endpoint, body, type, field] of CASES) {
    it(`${what} → ${type} (${ERROR_STATUS[type]})`, async () => {
      await assert.rejects(handle(session, endpoint, body), (err: unknown) => {
        assert.ok(err instanceof ApiError, String(err));
        assert.equal(err.type, type, err.message);
        assert.equal(err.field, field, err.message);
        assert.deepEqual(err.toBody(), { error: { type, message: err.message, ...(field === undefined ? {} : { field }) } });
        return true;
      });
    });
  }

  it('leaves no model on loan and keeps answering good requests', async () => {
    assert.equal(session.outstanding(), 0);
    const ok = await handle(session, 'tokenize', { ...m, text: 'When Mary' }) as { tokens: unknown[] };
    assert.ok(ok.tokens.length > 0);
  });
});
