// Finding a Python with torch and transformers for the cross-checks against Hugging Face. CI has
// none: tests then skip with a notice instead of failing.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

let found: string | null | undefined;

/** A python executable that imports torch and transformers, or null. */
export function torchPython(): string | null {
  if (found !== undefined) return found;
  const candidates = [...(existsSync('/tmp/venv/bin/python') ? ['/tmp/venv/bin/python'] : []), 'python3'];
  found = candidates.find((python) => spawnSync(python, ['-c', 'import torch, transformers'], { stdio: 'ignore' }).status === 0) ?? null;
  return found;
}

export const NO_TORCH = 'python3 with torch and transformers not found (`python3 -c "import torch, transformers"` fails); skipping the Hugging Face cross-check';

/** Runs a python script with JSON on stdin and returns its parsed JSON stdout. */
export function runPython(python: string, script: string, input: unknown): unknown {
  const result = spawnSync(python, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`python failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** Loads a folder with AutoModelForCausalLM (float32, eager attention) and returns its logits for `tokens` and the loading report. */
export const HF_LOGITS_SCRIPT = `
import json, sys, torch
from transformers import AutoModelForCausalLM
args = json.load(sys.stdin)
model, info = AutoModelForCausalLM.from_pretrained(args['folder'], torch_dtype=torch.float32, output_loading_info=True, attn_implementation='eager')
model.eval()
with torch.no_grad():
    logits = model(torch.tensor(args['tokens'])).logits
print(json.dumps({'logits': logits.flatten().tolist(), 'missing': list(info['missing_keys']), 'unexpected': list(info['unexpected_keys']),
  'mismatched': [str(m) for m in info['mismatched_keys']]}))
`;

export interface HfLogits {
  logits: number[];
  missing: string[];
  unexpected: string[];
  mismatched: string[];
}
