// `dissect sae`: train a tiny SAE and a tiny transcoder on the default model (world-4l) through the
// CLI, then `sae info` and `sae eval` on what it wrote; usage errors are clean one-line messages.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { makeTempDir } from '../io/fixture-paths.js';
import { assertCleanFailure, dissect } from '../cli/run-cli.js';

const TINY = ['--steps', '3', '--batch-tokens', '256', '--width', '256', '--eval-rows', '2', '--context', '64'];

describe('dissect sae', () => {
  const temp = makeTempDir('sae-cli');
  after(() => temp.cleanup());

  test('train writes a SAELens folder and prints the evaluation; info and eval read it', async () => {
    const out = join(temp.dir, 'topk');
    const trained = await dissect(['sae', 'train', '--hook', 'blocks.1.hook_resid_pre', '--arch', 'topk', '--k', '8', ...TINY, '--out', out, '--json']);
    assert.equal(trained.code, 0, trained.stderr);
    for (const file of ['cfg.json', 'sae_weights.safetensors', 'sparsity.safetensors']) assert.ok(existsSync(join(out, file)), file);
    const report = JSON.parse(trained.stdout) as Record<string, number>;
    assert.equal(report.step, 3);
    for (const key of ['l0', 'explainedVariance', 'ceLossRecovered', 'klWithSAE', 'deadFraction']) assert.equal(typeof report[key], 'number', key);
    assert.ok(report.l0 > 0 && report.l0 <= 8, `L0 ${report.l0} within k`);
    const cfg = JSON.parse(readFileSync(join(out, 'cfg.json'), 'utf8')) as { architecture: string; k: number; metadata: { hook_name: string } };
    assert.deepEqual([cfg.architecture, cfg.k, cfg.metadata.hook_name], ['topk', 8, 'blocks.1.hook_resid_pre']);

    const info = await dissect(['sae', 'info', out, '--json']);
    assert.equal(info.code, 0, info.stderr);
    assert.deepEqual((JSON.parse(info.stdout) as { parameters: Record<string, number[]> }).parameters.W_enc, [128, 256]);

    const evaluated = await dissect(['sae', 'eval', '--sae', out, '--eval-rows', '2', '--json']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const metrics = JSON.parse(evaluated.stdout) as Record<string, number>;
    assert.ok(Math.abs(metrics.explainedVariance - report.explainedVariance) < 1e-9, 'eval after training and `sae eval` see the same held-out rows');
  });

  test('a transcoder from ln2.hook_normalized to hook_mlp_out', async () => {
    const out = join(temp.dir, 'transcoder');
    const trained = await dissect(['sae', 'train', '--hook', 'blocks.0.ln2.hook_normalized', '--hook-out', 'blocks.0.hook_mlp_out',
      '--arch', 'standard', ...TINY, '--out', out, '--json']);
    assert.equal(trained.code, 0, trained.stderr);
    const cfg = JSON.parse(readFileSync(join(out, 'cfg.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([cfg.architecture, cfg.hook_name_out, cfg.apply_b_dec_to_input], ['transcoder', 'blocks.0.hook_mlp_out', false]);
  });

  test('--text trains on a file\'s paragraphs and evaluates on its held-out tenth', async () => {
    const file = join(temp.dir, 'corpus.txt');
    const names = ['Mary', 'John', 'Anna', 'Paul', 'Rose', 'Tom'];
    writeFileSync(file, Array.from({ length: 120 }, (_, i) =>
      `When ${names[i % 6]} and ${names[(i + 1) % 6]} went to the store, ${names[(i + 1) % 6]} gave a drink to ${names[i % 6]}.`).join('\n\n'));
    const out = join(temp.dir, 'text');
    const trained = await dissect(['sae', 'train', '--hook', 'blocks.0.hook_resid_post', '--arch', 'jumprelu', ...TINY, '--text', file, '--out', out, '--json']);
    assert.equal(trained.code, 0, trained.stderr);
    const report = JSON.parse(trained.stdout) as Record<string, number>;
    assert.equal(report.train_tokens, 3 * 256);
    assert.equal(typeof report.ceLossRecovered, 'number');
    assert.match(trained.stderr, /held-out|nine tenths/);
  });

  test('usage errors', async () => {
    assertCleanFailure(await dissect(['sae', 'trian']), /unknown sae subcommand 'trian'; did you mean 'train'/, 2);
    assertCleanFailure(await dissect(['sae', 'train', '--out', temp.dir]), /needs --hook/, 2);
    assertCleanFailure(await dissect(['sae', 'train', '--hook', 'blocks.1.hook_resid_pre', '--arch', 'gated', '--out', temp.dir]), /--arch must be one of/, 2);
    assertCleanFailure(await dissect(['sae', 'train', '--hook', 'blocks.9.hook_resid_pre', '--steps', '1', '--out', join(temp.dir, 'x')]), /no hook 'blocks.9.hook_resid_pre'/);
    const help = await dissect(['sae', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /train[\s\S]*eval[\s\S]*info[\s\S]*dashboard/);
  });
});
