// The shipped transformer organisms come from the current recipes (their config.json and
// tokenizer.json are what the recipe and the world's data produce today, so `dissect train` can
// reproduce them), and the real recipes train deterministically on the default backend: two runs
// give bit-identical losses and weights, and a run resumed from a checkpoint continues exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../src/index.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { TRANSFORMER_RECIPES, WORLD_4L } from '../../src/organisms/recipes.js';
import { train } from '../../src/organisms/trainer.js';
import { world } from '../../src/organisms/world.js';
import { makeTempDir, repoRoot } from '../io/fixture-paths.js';

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

test('recipes: every shipped transformer organism has its recipe\'s config and the world\'s current tokenizer', () => {
  const { files } = world();
  for (const recipe of TRANSFORMER_RECIPES) {
    const folder = join(repoRoot, 'models', recipe.name);
    assert.deepEqual(readJson(join(folder, 'config.json')), recipe.spec().modelConfig, `${recipe.name}: config.json differs from its recipe`);
    assert.deepEqual(readJson(join(folder, 'tokenizer.json')), files.tokenizer,
      `${recipe.name}: tokenizer.json differs from the one the world's data builds (retrain after changing src/organisms/data)`);
  }
});

function weights(model: HookedTransformer): Map<string, Float32Array> {
  return new Map([...model.params.named].map(([name, t]) => [name, t.toArray() as Float32Array]));
}

test('world-4l recipe: two runs of a few steps on the default backend are bit-identical, and resuming continues exactly', async () => {
  const spec = WORLD_4L.spec();
  const tmp = makeTempDir('recipe-resume');
  const runs: HookedTransformer[] = [];
  try {
    const first = await train(spec, { stopAt: 3 });
    runs.push(first.model);
    const second = await train(spec, { stopAt: 3 });
    runs.push(second.model);
    const partial = await train(spec, { stopAt: 2, checkpointDir: tmp.dir });
    partial.model.dispose();
    const resumed = await train(spec, { stopAt: 3, checkpointDir: tmp.dir });
    runs.push(resumed.model);
    assert.equal(first.losses.length, 3);
    assert.deepEqual(second.losses, first.losses);
    assert.deepEqual(resumed.losses, first.losses);
    const reference = weights(first.model);
    for (const [what, run] of [['rerun', second], ['resumed', resumed]] as const) {
      for (const [name, values] of weights(run.model)) assert.deepEqual(values, reference.get(name), `${what}: ${name} differs`);
    }
  } finally {
    for (const model of runs) model.dispose();
    tmp.cleanup();
  }
});
