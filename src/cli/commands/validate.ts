// dissect validate: the method validation report — each analysis method run on the model organism
// whose mechanism is known by construction, with pass/fail and the numbers behind the verdict.
// Exits 1 when any check fails (skipped checks do not fail).

import { fileURLToPath } from 'node:url';
import { validateOrganisms } from '../../index.js';
import { defineCommand } from '../command.js';
import { formatTable } from '../table.js';

// dist/src/cli/commands/validate.js → the package root's models/ folder.
const SHIPPED_MODELS = fileURLToPath(new URL('../../../../models/', import.meta.url));

export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'Run each analysis method on the model organisms and report pass/fail with the numbers.',
  positionals: [],
  flags: {
    models: { type: 'string', placeholder: 'DIR', description: 'folder holding attn-only-2l, world-4l and superposition-toy (default: the shipped models/)' },
    json: { type: 'boolean', description: 'print the results as JSON instead of a table' },
  },
  details: 'Checks: head detection on attn-only-2l (induction heads in layer 1, previous-token heads in layer 0);\n'
    + 'activation patching of head outputs at the end of world-4l IOI prompts (the effect sits in a few heads that attend\n'
    + 'from the end to the names, a name mover among them);\n'
    + 'causal tracing on world-4l facts (restoring MLPs at the last subject token brings the answer back most, in the\n'
    + 'layers its card names); superposition on superposition-toy (more features than dimensions only when sparse).',
  async run({ flags }, terminal) {
    const checks = await validateOrganisms(flags.models ?? SHIPPED_MODELS);
    if (flags.json) {
      terminal.out(`${JSON.stringify(checks)}\n`);
    } else {
      const table = formatTable(['organism', 'method', 'result', 'numbers'],
        checks.map((c) => [c.organism, c.method, c.status, c.summary]), { align: ['left', 'left', 'left', 'left'] });
      const failed = checks.filter((c) => c.status === 'fail').length;
      terminal.out(`${table}\n${failed === 0 ? 'all checks passed' : `${failed} of ${checks.length} checks failed`}\n`);
    }
    return checks.some((c) => c.status === 'fail') ? 1 : 0;
  },
});
