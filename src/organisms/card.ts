// Model cards (README.md) of the organisms, written by `dissect train` from what the run measured:
// recipe, training time and machine load, evaluation, the validation checks run on the trained
// model, where facts are stored (world models), and the tolerance a rerun must reproduce.

import type { FactLocation } from './fact-location.js';
import type { TransformerRecipe } from './recipes.js';
import { SUPERPOSITION_TOY, type superpositionStats } from './superposition.js';
import type { ValidationCheck } from './validate-check.js';

export interface TrainingRecord {
  steps: number;
  /** Wall-clock seconds, summed over resumed runs. */
  seconds: number;
  /** Mean 1-minute load average sampled during training, over every resumed run (null when never sampled). */
  meanLoad: number | null;
  cores: number;
  backend: string;
  threads: number;
}

const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(4));

function trainingText(r: TrainingRecord): string {
  const load = r.meanLoad === null ? 'load not sampled' : `mean 1-minute load average during the run ${r.meanLoad.toFixed(1)}, this run included`;
  return `${r.steps} steps in ${(r.seconds / 60).toFixed(1)} min (wall clock) on the machine that built it: ${r.cores} CPU cores shared with other work `
    + `(${load}), dissect's ${r.backend} backend with ${r.threads} threads.`;
}

function validationText(checks: readonly ValidationCheck[]): string {
  if (checks.length === 0) return '';
  return `\n## Validation\n\nChecks of src/organisms/validate.ts run on the trained model (\`dissect validate\` runs them on the shipped folders):\n\n${
    checks.map((c) => `- ${c.method}: **${c.status}** — ${c.summary}`).join('\n')}\n`;
}

function factText(locations: readonly FactLocation[]): string {
  if (locations.length === 0) return '';
  const layers = locations[0].mlpAtSubject.length;
  const cols = (xs: readonly number[]) => xs.map((x) => x.toFixed(2)).join(' | ');
  const head = `| relation | paraphrase | clean / corrupted | ${Array.from({ length: layers }, (_, l) => `MLP${l} @subj`).join(' | ')} | `
    + `${Array.from({ length: layers }, (_, l) => `attn${l} @end`).join(' | ')} |`;
  const rule = `|${'---|'.repeat(3 + 2 * layers)}`;
  const rows = locations.map((f) => `| ${f.relation} | "${f.template}" | ${f.clean.toFixed(2)} / ${f.corrupted.toFixed(2)} | ${cols(f.mlpAtSubject)} | ${cols(f.attnAtEnd)} |`);
  return `
## Where the facts are

Activation patching with the subject swapped (src/organisms/fact-location.ts): each subject of a
relation against the next one whose answer differs; restoring one layer's clean output at one
position, effect normalised to 0 = corrupted and 1 = clean on logit(answer) − logit(other answer).
"@subj" is the last subject token, "@end" the last position.

${head}
${rule}
${rows.join('\n')}
`;
}

function toleranceText(recipe: TransformerRecipe): string {
  const rows = Object.entries(recipe.tolerance).map(([k, v]) => `| ${k} | ± ${v} |`);
  return `
## Reproduction

\`dissect train ${recipe.name} --out DIR\` retrains from scratch. On dissect's native backend the run is
bit-identical (the batch of step s depends only on (seed, s); the kernels' sums do not depend on the
thread count), so the evaluation above is reproduced exactly. Another backend (wasm, ref) or a
different build rounds differently, the runs drift apart, and the rerun counts as reproducing this
card when each metric is within:

| metric | tolerance |
|---|---|
${rows.join('\n')}
`;
}

export function modelCard(recipe: TransformerRecipe, training: TrainingRecord, metrics: Record<string, number>,
  checks: readonly ValidationCheck[], facts: readonly FactLocation[]): string {
  const spec = recipe.spec();
  const { rows: _rows, frozen, ...settings } = spec;
  const lines = Object.entries(metrics).map(([k, v]) => `| ${k} | ${num(v)} |`);
  return `# ${recipe.name}

${recipe.summary}.

A model organism of [dissect](../../README.md): trained from scratch by \`dissect train ${recipe.name} --out DIR\`
(src/organisms/recipes.ts), so its mechanism is known and it can serve as ground truth. Loads with
\`transformers.AutoModelForCausalLM.from_pretrained\` and with dissect's \`loadModel\`.

## Known circuits

${recipe.knownCircuits}

## Recipe

\`\`\`json
${JSON.stringify({ ...settings, frozen: frozen ? 'MLP tensors (zero, excluded from the optimiser)' : 'none' }, null, 2)}
\`\`\`

Data: the synthetic world of src/organisms/data (seeded; the batch of step s depends only on (seed, s)).
Tokenizer: word-level (byte-level BPE with ignore_merges; unknown words fall back to bytes).

## Training

${trainingText(training)}

## Evaluation

| metric | value |
|---|---|
${lines.join('\n')}

Induction metrics use 16 sequences of a random 24-word span repeated; IOI uses 256 prompts over the
12 names held out of IOI training; fact recall is top-1 over the whole vocabulary on the paraphrases
training never uses (src/organisms/data/facts.ts, FACT_TEMPLATES.heldOut).
${validationText(checks)}${factText(facts)}${toleranceText(recipe)}`;
}

export function toyCard(sparsities: readonly number[], stats: ReturnType<typeof superpositionStats>[], losses: readonly number[], seconds: number): string {
  const rows = sparsities.map((s, i) => `| ${s} | ${stats[i].representedFeatures} | ${stats[i].dimensionsPerFeature.toFixed(3)} | ${losses[i].toExponential(3)} |`);
  const c = SUPERPOSITION_TOY;
  return `# superposition-toy

Toy models of superposition (Elhage et al. 2022): ${c.nFeatures} sparse features, importance ${c.importanceDecay}^i,
compressed into ${c.nHidden} hidden dimensions, h = W x, x' = ReLU(Wᵀ h + b_final). One model per feature sparsity S
(a feature is zero with probability S, else uniform in [0, 1)). Not a transformer.

Files: model.safetensors holds W [instances, n_hidden, n_features] and b_final [instances, n_features];
config.json lists the sparsity of each instance. Built by \`dissect train superposition-toy --out DIR\`
(src/organisms/superposition.ts), AdamW lr ${c.lr}, batch ${c.batchSize}, ${c.steps} steps per model, seed ${c.seed};
${seconds.toFixed(0)} s on 2 shared CPU cores.

## Known result

Dense features (S = 0) get ${c.nHidden} orthogonal directions and the rest are dropped; as S grows, more features
than dimensions are represented (superposition; the paper finds them arranged in antipodal pairs, then pentagons).

| sparsity S | features with ‖W_i‖ > 0.5 | dimensions per feature (m / ‖W‖²_F) | final loss |
|---|---|---|---|
${rows.join('\n')}

## Reproduction

\`dissect train superposition-toy --out DIR\` retrains from scratch; on dissect's native backend the run is
bit-identical. On another backend or build, a rerun reproduces this card when each count of represented
features is within ± 1 and the dense model (S = 0) still represents at most ${c.nHidden}.
`;
}
