// dissect report ioi|facts|induction [model] --out DIR: the seed's examples end to end, each as a
// self-contained HTML report (inline SVG figures, the numbers in tables and as JSON) that states
// the claim, the method, the numbers and a verdict per section. The reports live in src/cli/report.

import { closestMatches } from '../../index.js';
import { modelLabel } from '../analysis-args.js';
import { defineCommand, type Command, type CommandContext } from '../command.js';
import { DEFAULT_MODEL, UsageError, type FlagSpec, type FlagValues } from '../flags.js';
import { MODEL_DETAILS, MODEL_FLAGS, missingTokenizer, openModel } from '../model-flags.js';
import { FACTS_STEPS, factsReport } from '../report/facts.js';
import type { ReportDocument } from '../report/html.js';
import { INDUCTION_STEPS, inductionReport } from '../report/induction.js';
import { tokenPool } from '../report/induction-data.js';
import { IOI_STEPS, ioiReport } from '../report/ioi.js';
import { commonMeta, reportPath, writeReport } from '../report/output.js';
import { ReportSteps, type ReportTarget } from '../report/steps.js';
import type { Terminal } from '../terminal.js';

const COMMON_FLAGS = {
  out: { type: 'string', placeholder: 'DIR', description: 'write the report to DIR/<kind>.html (or to a path ending in .html)' },
  seed: { type: 'integer', placeholder: 'S', description: 'seed of the prompts and random tokens (default 0)' },
} as const satisfies Record<string, FlagSpec>;

/** The command line as the report's header shows it (flags in the order given to the parser). */
function commandLine(kind: string, name: string, flags: Readonly<Record<string, unknown>>): string {
  const model = name === DEFAULT_MODEL ? [] : [name];
  const quote = (v: string) => (/^[\w./=-]+$/.test(v) ? v : `"${v.replace(/"/g, '\\"')}"`);
  const args = Object.entries(flags).filter(([, v]) => v !== undefined && v !== false).map(([k, v]) => (v === true ? `--${k}` : `--${k} ${quote(String(v))}`));
  return ['dissect report', kind, ...model, ...args].join(' ');
}

type Builder = (target: ReportTarget, steps: ReportSteps) => Promise<ReportDocument>;

/** The IOI and facts reports draw their prompts from the synthetic world: its words must be single tokens of the model. */
function requireWorldVocabulary(kind: string, target: ReportTarget): void {
  if (tokenPool(target.tokenizer, target.model.config.dVocab).source !== 'world words') {
    throw new UsageError(`the ${kind} report needs a model that speaks the synthetic world (such as world-4l): most of its names and places are not single tokens of ${target.label}`);
  }
}

async function runReport(kind: string, stepCount: number, name: string, flags: FlagValues<typeof MODEL_FLAGS> & { out?: string },
  terminal: Terminal, context: CommandContext, build: Builder, needsWorld = true): Promise<number> {
  const path = reportPath(flags.out, kind);
  const loaded = await openModel(name, flags, terminal, context);
  try {
    if (loaded.tokenizer === null) missingTokenizer(name);
    const target: ReportTarget = { model: loaded.model, tokenizer: loaded.tokenizer, label: modelLabel(name, loaded.location) };
    if (needsWorld) requireWorldVocabulary(kind, target);
    const steps = new ReportSteps(terminal, context.signal, kind, stepCount);
    const doc = await build(target, steps);
    const full = { ...doc, meta: [...commonMeta(target, commandLine(kind, name, flags), steps), ...doc.meta] };
    const bytes = await writeReport(path, full);
    terminal.out(`wrote ${path} (${(bytes / 1024).toFixed(0)} kB, ${steps.elapsed().toFixed(1)} s)\n`);
    return 0;
  } finally {
    loaded.model.dispose();
  }
}

function positiveInteger(flag: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new UsageError(`--${flag} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

const inductionCommand = defineCommand({
  name: 'report induction',
  summary: 'Induction heads: loss on repeated tokens, head scores, previous-token partners (K-composition, path patching), a pattern.',
  positionals: ['model'],
  flags: {
    ...COMMON_FLAGS,
    length: { type: 'integer', placeholder: 'N', description: 'length of the random segment, repeated once (default 20)' },
    batch: { type: 'integer', placeholder: 'B', description: 'random rows averaged (default 16)' },
    'example-length': { type: 'integer', placeholder: 'N', description: 'segment length of the row whose attention is drawn (default 10)' },
    ...MODEL_FLAGS,
  },
  details: `Example: dissect report induction models/attn-only-2l --out docs/reports\n${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    const settings = {
      length: positiveInteger('length', flags.length, 20, 2), batch: positiveInteger('batch', flags.batch, 16),
      seed: flags.seed ?? 0, exampleLength: positiveInteger('example-length', flags['example-length'], 10, 2),
    };
    return runReport('induction', INDUCTION_STEPS, name, flags, terminal, context, (target, steps) => inductionReport(target, settings, steps), false);
  },
});

const ioiCommand = defineCommand({
  name: 'report ioi',
  summary: 'The IOI circuit: logit difference, activation and path patching, END attention, and the EAP / EAP-IG circuit.',
  positionals: ['model'],
  flags: {
    ...COMMON_FLAGS,
    prompts: { type: 'integer', placeholder: 'N', description: 'held-out-name IOI prompts for the logit difference (default 256)' },
    n: { type: 'integer', placeholder: 'N', description: 'prompt pairs for patching and circuit discovery (default 32)' },
    steps: { type: 'integer', placeholder: 'N', description: 'integrated-gradient steps of EAP-IG (default 5)' },
    ...MODEL_FLAGS,
  },
  details: `Needs a model that speaks the synthetic world (world-4l): the prompts use its held-out names.\n${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    const settings = {
      prompts: positiveInteger('prompts', flags.prompts, 256), pairs: positiveInteger('n', flags.n, 32), seed: flags.seed ?? 0,
      igSteps: positiveInteger('steps', flags.steps, 5),
    };
    return runReport('ioi', IOI_STEPS, name, flags, terminal, context, (target, steps) => ioiReport(target, settings, steps));
  },
});

const factsCommand = defineCommand({
  name: 'report facts',
  summary: 'Factual recall: causal tracing averaged over facts, and one ROME edit with its evaluation.',
  positionals: ['model'],
  flags: {
    ...COMMON_FLAGS,
    n: { type: 'integer', placeholder: 'N', description: 'facts traced per relation (default 16; three relations)' },
    samples: { type: 'integer', placeholder: 'N', description: 'noise samples per traced prompt (default 10)' },
    documents: { type: 'integer', placeholder: 'N', description: "world documents for the edited MLP's key statistics (default 1000)" },
    steps: { type: 'integer', placeholder: 'N', description: 'optimisation steps of the ROME value (default 100)' },
    ...MODEL_FLAGS,
  },
  details: `Needs a model that speaks the synthetic world (world-4l): the facts are its fictional countries and people.\n${MODEL_DETAILS}`,
  async run({ positionals: [name], flags }, terminal, context) {
    const settings = {
      perRelation: positiveInteger('n', flags.n, 16), samples: positiveInteger('samples', flags.samples, 10),
      documents: positiveInteger('documents', flags.documents, 1000), romeSteps: positiveInteger('steps', flags.steps, 100), seed: flags.seed ?? 0,
    };
    return runReport('facts', FACTS_STEPS, name, flags, terminal, context, (target, steps) => factsReport(target, settings, steps));
  },
});

const REPORTS: readonly Command[] = [ioiCommand, factsCommand, inductionCommand];

function reportName(command: Command): string {
  return command.name.replace(/^report /, '');
}

function help(): string {
  const width = Math.max(...REPORTS.map((c) => reportName(c).length));
  return `Self-contained HTML reports of the seed's examples, end to end: claim, method, figures, numbers and a verdict per section.

Usage: dissect report <kind> [model] --out DIR [options]

Kinds:
${REPORTS.map((c) => `  ${reportName(c).padEnd(width)}  ${c.summary}`).join('\n')}

Run 'dissect report <kind> --help' for its options.`;
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'HTML reports: ioi, facts, induction (figures, tables, verdicts).',
  help,
  async execute(args, terminal, context) {
    const [kind, ...rest] = args;
    if (kind === undefined || kind === '--help' || kind === '-h' || kind === 'help') {
      const sub = kind === 'help' && rest[0] !== undefined ? REPORTS.find((c) => reportName(c) === rest[0]) : undefined;
      terminal.out(`${sub ? sub.help() : help()}\n`);
      return 0;
    }
    const command = REPORTS.find((c) => reportName(c) === kind);
    if (command === undefined) {
      const close = closestMatches(kind, REPORTS.map(reportName));
      throw new UsageError(`unknown report '${kind}'${close.length ? `; did you mean ${close.map((c) => `'${c}'`).join(' or ')}?` : ''} (reports: ${REPORTS.map(reportName).join(', ')})`);
    }
    return command.execute(rest, terminal, context);
  },
};
