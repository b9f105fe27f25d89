// `dissect cache` on the Hugging Face fixtures: the file it writes, read back with the safetensors
// reader, reproduces every tensor of the fixture's reference.safetensors (what transformers
// computed) within 1e-4, and holds every hook point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors } from '../../src/io/safetensors.js';
import { configFromHF } from '../../src/models/architectures.js';
import { hookPointsFor } from '../../src/models/hook-points.js';
import { makeTempDir, sharedFixtures } from '../io/fixture-paths.js';
import { dissect, GPT2_TOKENIZER } from './run-cli.js';

const TOLERANCE = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

async function referenceIds(folder: string): Promise<string> {
  const reference = await openSafetensors(join(folder, 'reference.safetensors'));
  const ids = await reference.read('input_ids');
  await reference.close();
  const [batch, pos] = ids.shape;
  return Array.from({ length: batch }, (_, b) => Array.from(ids.data.subarray(b * pos, (b + 1) * pos)).join(',')).join(';');
}

for (const model of ['gpt2-tiny', 'pythia-tiny', 'llama-tiny']) {
  test(`dissect cache ${model} --ids <reference input_ids> reproduces reference.safetensors within ${TOLERANCE}`, async () => {
    const folder = join(sharedFixtures, model);
    const { dir, cleanup } = makeTempDir('cli-cache');
    try {
      const out = join(dir, 'acts.safetensors');
      const result = await dissect(['cache', folder, '--ids', await referenceIds(folder), '--out', out]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^wrote \d+ tensors/);
      const written = await openSafetensors(out);
      const reference = await openSafetensors(join(folder, 'reference.safetensors'));
      for (const name of reference.names()) {
        const expected = await reference.read(name);
        const actual = await written.read(name);
        assert.deepEqual(actual.shape, expected.shape, `${name} shape`);
        assert.equal(actual.dtype, expected.dtype, `${name} dtype`);
        const diff = maxAbsDiff(actual.data, expected.data);
        assert.ok(diff <= (name === 'input_ids' ? 0 : TOLERANCE), `${model}: ${name} differs from HF by ${diff}`);
      }
      // Every hook point was saved, not only the ones the reference has.
      const config = configFromHF(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>);
      assert.deepEqual(written.names().filter((n) => n !== 'logits' && n !== 'input_ids').sort(), hookPointsFor(config).map((p) => p.name).sort());
      assert.equal(written.metadata.format, 'pt');
      await written.close();
      await reference.close();
    } finally {
      cleanup();
    }
  });
}

test('dissect cache --names selects hook points by glob and list; --text tokenizes with the folder\'s tokenizer', async () => {
  const { dir, cleanup } = makeTempDir('cli-cache-names');
  try {
    const out = join(dir, 'resid.safetensors');
    const folder = join(sharedFixtures, 'gpt2-tiny');
    const globbed = await dissect(['cache', folder, '--ids', '464,412,733', '--names', 'blocks.*.hook_resid_post, blocks.1.attn.hook_pattern', '--out', out]);
    assert.equal(globbed.code, 0, globbed.stderr);
    const file = await openSafetensors(out);
    assert.deepEqual(file.names().sort(), ['blocks.0.hook_resid_post', 'blocks.1.attn.hook_pattern', 'blocks.1.hook_resid_post', 'input_ids', 'logits']);
    assert.deepEqual(file.info('blocks.1.attn.hook_pattern').shape, [1, 4, 3, 3]);
    await file.close();

    const deep = join(dir, 'deep.safetensors');
    assert.equal((await dissect(['cache', folder, '--ids', '1,2', '--names', 'blocks.0.**', '--out', deep])).code, 0);
    const deepFile = await openSafetensors(deep);
    assert.ok(deepFile.names().includes('blocks.0.attn.hook_q') && deepFile.names().includes('blocks.0.ln1.hook_scale'));
    assert.ok(!deepFile.names().some((n) => n.startsWith('blocks.1.')));
    await deepFile.close();

    // A model folder that carries its tokenizer, as hub snapshots do.
    const withTokenizer = join(dir, 'gpt2-with-tokenizer');
    mkdirSync(withTokenizer);
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(folder, f), join(withTokenizer, f));
    copyFileSync(GPT2_TOKENIZER, join(withTokenizer, 'tokenizer.json'));
    const fromText = join(dir, 'text.safetensors');
    const text = await dissect(['cache', withTokenizer, '--text', 'The Eiffel Tower is located in the city of', '--names', 'hook_embed', '--out', fromText]);
    assert.equal(text.code, 0, text.stderr);
    const textFile = await openSafetensors(fromText);
    // transformers' ids for this text (reference_encodings.json of the gpt2-tokenizer fixture).
    assert.deepEqual(Array.from((await textFile.read('input_ids')).data), [464, 412, 733, 417, 8765, 318, 5140, 287, 262, 1748, 286]);
    assert.deepEqual(textFile.info('logits').shape, [1, 11, 50257]);
    await textFile.close();
  } finally {
    cleanup();
  }
});
