// `dissect report ioi`: the indirect-object identification circuit — behaviour, activation
// patching, path patching along the textbook chain (name movers ← S-inhibition ← duplicate-token
// and induction heads), where the key heads look, and the circuit EAP / EAP-IG find.

import {
  IOI_TEMPLATES, arrangeFigures, barChartFigure, divergingScale, heatmapFigure, sequentialScale, visibleToken,
} from '../../index.js';
import { tokenStrings } from '../analysis-args.js';
import { fmt, headList, headName, num, pct } from './format.js';
import { figure, paragraph, table, type ReportDocument, type ReportSection } from './html.js';
import { ioiCircuitSection } from './ioi-circuit.js';
import {
  PATCHING_TEMPLATE, activationPatchingGrids, behaviourPrompts, discoveryPairs, headProfiles, ioiBehaviour, patchingPairs, positionRoles,
  type Grid,
} from './ioi-data.js';
import { pathPatchingSection } from './ioi-paths.js';
import type { ReportSteps, ReportTarget } from './steps.js';

export interface IoiSettings {
  /** Prompts for the logit difference. */
  prompts: number;
  /** Prompt pairs for patching and circuit discovery. */
  pairs: number;
  seed: number;
  /** Integrated-gradient steps of EAP-IG. */
  igSteps: number;
}

export const IOI_STEPS = 7;

/** The target the synthetic world's IOI training was given (models/world-4l's card): mean logit difference above 2 on held-out names. */
export const LOGIT_DIFF_TARGET = 2;
/** Localisation, as `dissect validate` checks it: few heads (≤ 25%) whose z patch restores ≥ 0.1 each, ≥ 0.5 together. */
const EFFECT_HEAD = 0.1;
const MAX_SHARE_OF_HEADS = 0.25;
const MIN_TOTAL_EFFECT = 0.5;

function layerGridFigure(grid: Grid, title: string, columns: readonly string[], columnAxis: string, limit: number, legend: string) {
  return heatmapFigure({
    title, values: grid, rowLabels: grid.map((_, l) => String(l)), columnLabels: columns, rowAxisLabel: 'layer', columnAxisLabel: columnAxis,
    scale: divergingScale(grid, { limit }), legendLabel: legend,
  });
}

function maxAbs(grids: readonly Grid[]): number {
  return Math.max(1e-9, ...grids.flatMap((g) => g.flat()).filter(Number.isFinite).map(Math.abs));
}

export async function ioiReport(target: ReportTarget, settings: IoiSettings, steps: ReportSteps): Promise<ReportDocument> {
  const { model, tokenizer } = target;
  const c = model.config;
  const sections: ReportSection[] = [];

  // 1. Behaviour.
  const prompts = behaviourPrompts(settings.prompts, settings.seed);
  const behaviour = await steps.run('logit difference on held-out-name prompts', () => ioiBehaviour(model, tokenizer, prompts));
  const results = behaviour.value;
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  const meanDiff = mean(results.map((r) => r.logitDiff));
  const accuracy = mean(results.map((r) => (r.logitDiff > 0 ? 1 : 0)));
  const top1 = mean(results.map((r) => (r.top1 ? 1 : 0)));
  const byTemplate = IOI_TEMPLATES.map((t, i) => {
    const rs = results.filter((r) => r.prompt.template === i);
    return { template: t, count: rs.length, meanDiff: mean(rs.map((r) => r.logitDiff)), accuracy: mean(rs.map((r) => (r.logitDiff > 0 ? 1 : 0))) };
  });
  const byOrder = (['ABBA', 'BABA'] as const).map((o) => ({ order: o, ...(() => {
    const rs = results.filter((r) => r.prompt.order === o);
    return { count: rs.length, meanDiff: mean(rs.map((r) => r.logitDiff)), accuracy: mean(rs.map((r) => (r.logitDiff > 0 ? 1 : 0))) };
  })() }));
  const shown = byTemplate.filter((t) => t.count > 0);
  sections.push({
    id: 'behaviour',
    title: 'The model solves IOI on names it never saw in IOI sentences',
    claim: `After "When Mary and John went to the store, John gave a drink to", the model prefers the indirect object (Mary) to the subject (John): mean logit(IO) − logit(S) above ${LOGIT_DIFF_TARGET} on held-out names.`,
    method: `${settings.prompts} prompts from the ${IOI_TEMPLATES.length} IOI templates (both name orders) with names held out of IOI training (seed ${settings.seed}); logit difference at the last position.`,
    blocks: [
      figure(barChartFigure({
        title: `Mean logit difference by template · ${target.label}`,
        labels: shown.map((t) => `${t.template.slice(0, 46)}${t.template.length > 46 ? '…' : ''} (${t.count})`),
        values: shown.map((t) => t.meanDiff), valueAxisLabel: 'logit(IO) − logit(S)',
      }), 'logit difference by template', 'Mean logit(IO) − logit(S) for the prompts of each template (count in brackets). Positive = the model prefers the right name; every bar should be well to the right of zero.'),
      table({
        caption: 'Overall and by name order (ABBA: the IO is mentioned first; BABA: the subject is).',
        header: ['prompts', 'count', 'mean logit diff', 'IO above S', 'IO top-1'],
        rows: [
          ['all', String(results.length), num(meanDiff), num(accuracy, pct(accuracy)), num(top1, pct(top1))],
          ...byOrder.map((o) => [o.order, String(o.count), num(o.meanDiff), num(o.accuracy, pct(o.accuracy)), '–']),
        ],
      }),
    ],
    verdict: {
      status: meanDiff > LOGIT_DIFF_TARGET ? 'met' : 'not met',
      text: `Mean logit difference ${fmt(meanDiff)} (target > ${LOGIT_DIFF_TARGET}); the IO beats the subject on ${pct(accuracy)} of prompts and is the top-1 token on ${pct(top1)}.`,
    },
    seconds: behaviour.seconds,
  });

  // 2. Activation patching.
  const pairs = patchingPairs(tokenizer, settings.pairs, settings.seed + 1);
  const tokens = tokenStrings(pairs[0].clean, tokenizer);
  const roles = positionRoles(pairs[0], tokens);
  const positionsStep = await steps.run('activation patching: residual stream, attention and MLP outputs by layer × position', (control) => activationPatchingGrids(model, pairs, 'positions', control));
  const headsStep = await steps.run('activation patching: heads (z, q, k, v, pattern)', (control) => activationPatchingGrids(model, pairs, 'heads', control));
  const pos = positionsStep.value;
  const heads = headsStep.value;
  const z = heads.grids.z;
  const effectHeads = z.flatMap((row, layer) => row.map((effect, head) => ({ layer, head, effect }))).filter((h) => h.effect >= EFFECT_HEAD).sort((a, b) => b.effect - a.effect);
  const together = effectHeads.reduce((s, h) => s + h.effect, 0);
  const localised = effectHeads.length > 0 && effectHeads.length <= MAX_SHARE_OF_HEADS * c.nLayers * c.nHeads && together >= MIN_TOTAL_EFFECT;
  const end = roles.length - 1;
  const endResid = pos.grids.resid_pre.map((row) => row[end]);
  const endAttn = pos.grids.attn_out.map((row) => row[end]);
  const topAttnLayer = endAttn.indexOf(Math.max(...endAttn));
  const positionLabels = roles.map((r, p) => `${visibleToken(r)} ${p}`);
  const posLimit = maxAbs(Object.values(pos.grids));
  const headLimit = maxAbs(Object.values(heads.grids));
  sections.push({
    id: 'activation-patching',
    title: 'Activation patching: where the answer is carried',
    claim: 'The difference between the clean and the corrupted prompt is carried by the name tokens early and reaches the last position (END) late, through a few attention heads.',
    method: `${pairs.length} prompt pairs of one template ("${PATCHING_TEMPLATE}", IO first), so every position plays the same role in every prompt. Corrupted: the three names replaced by three other names (no name repeats, nothing points at either answer). Each activation of the corrupted run is replaced by its clean value in turn; the logit difference is normalised so 0 = corrupted run (${fmt(pos.baselines.corrupted)}) and 1 = clean run (${fmt(pos.baselines.clean)}).`,
    blocks: [
      figure(arrangeFigures(['resid_pre', 'attn_out', 'mlp_out'].map((k) => layerGridFigure(pos.grids[k], `patching ${k}`, positionLabels, 'position (role in the prompt)', posLimit, '0 = corrupted,\n1 = clean')),
        { direction: 'column', title: `Activation patching by layer × position · ${target.label}` }),
      'activation patching by position', 'Red cells restore the clean answer when patched, blue ones push away from it, white = no effect. Column labels give each position\'s role (IO, S1, S2, END) or the first prompt\'s token. Read the residual panel left to right and top to bottom: where the information sits at each layer, and the layer where it has moved to END.'),
      figure(arrangeFigures(['z', 'q', 'k', 'v', 'pattern'].map((k) => layerGridFigure(heads.grids[k], `patching ${k}`, Array.from({ length: c.nHeads }, (_, h) => String(h)), 'head', headLimit, '0 = corrupted,\n1 = clean')),
        { direction: 'row', columns: 3, title: `Activation patching by head (all positions) · ${target.label}` }),
      'activation patching by head', "Each head's output (z), query, key, value and attention pattern patched at every position at once. Heads that matter light up in the z panel; the q, k, v and pattern panels tell whether what changed is where the head looks (q, k, pattern) or what it moves (v)."),
      table({
        caption: `Heads whose output (z) alone restores ≥ ${EFFECT_HEAD} of the logit difference.`,
        header: ['head', 'z', 'q', 'k', 'v', 'pattern'],
        rows: effectHeads.map((h) => [headName(h), num(h.effect), ...['q', 'k', 'v', 'pattern'].map((k) => num(heads.grids[k][h.layer][h.head]))]),
      }),
      table({
        caption: 'At END, by layer: the residual stream entering the layer, and the layer\'s attention output.',
        header: ['layer', 'resid_pre at END', 'attn_out at END'],
        rows: endResid.map((v, l) => [String(l), num(v), num(endAttn[l])]),
      }),
    ],
    verdict: {
      status: localised ? 'met' : 'not met',
      text: `${effectHeads.length} of ${c.nLayers * c.nHeads} heads restore ≥ ${EFFECT_HEAD} each (${headList(effectHeads)}; ${fmt(together)} together; the rule: at most ${pct(MAX_SHARE_OF_HEADS)} of heads, ≥ ${MIN_TOTAL_EFFECT} together). `
        + `The residual at END carries ${fmt(endResid[endResid.length - 1])} of the effect entering the last layer; the attention output of layer ${topAttnLayer} at END restores ${fmt(endAttn[topAttnLayer])}.`,
    },
    seconds: positionsStep.seconds + headsStep.seconds,
  });

  // 3. Path patching, and 4. attention of the key heads.
  const profileStep = await steps.run('attention and direct logit attribution of every head', () => headProfiles(model, pairs));
  const profiles = profileStep.value;
  const paths = await pathPatchingSection(target, pairs, profiles, steps);
  sections.push(paths.section);
  sections.push(attentionSection(target, profiles, paths.keyHeads, profileStep.seconds));

  // 5. Circuit discovery.
  const examples = discoveryPairs(tokenizer, settings.pairs, settings.seed + 2);
  const circuit = await ioiCircuitSection(target, examples, paths.keyHeads, settings, steps);
  sections.push(circuit.section);

  return {
    title: `The IOI circuit in ${target.label}`,
    lede: 'Indirect-object identification (Wang et al. 2022): in "When Mary and John went to the store, John gave a drink to", a model should say "Mary". In GPT-2 small a circuit of name-mover heads (attend from the last token to the indirect object and copy it), S-inhibition heads (tell the name movers not to attend to the repeated subject) and duplicate-token and induction heads (detect the repeat) does it. This report measures the behaviour on names held out of training, localises it with activation and path patching, reads where the key heads look, and compares with the circuit edge attribution patching finds. Where the model does not show the textbook circuit, the sections say what it shows instead.',
    meta: [['prompts', `${settings.prompts} for the logit difference; ${settings.pairs} pairs for patching and for circuit discovery; seed ${settings.seed}`]],
    sections,
    data: {
      kind: 'ioi', settings,
      behaviour: { meanLogitDiff: meanDiff, accuracy, top1, byTemplate, byOrder, target: LOGIT_DIFF_TARGET },
      patching: {
        pairs: pairs.map((p) => ({ clean: p.clean, corrupted: p.corrupted, answer: p.answer, wrong: p.wrong })), roles,
        baselines: pos.baselines, positions: pos.grids, heads: heads.grids, effectHeads, localised,
      },
      pathPatching: paths.data, profiles, circuit: circuit.data,
    },
  };
}

function attentionSection(target: ReportTarget, profiles: ReturnType<typeof headProfiles>, keyHeads: readonly { layer: number; head: number }[], seconds: number): ReportSection {
  const labels = profiles.map(headName);
  const end = profiles.map((p) => [p.endToIo, p.endToS1, p.endToS2]);
  const s2 = profiles.map((p) => [p.s2ToS1, p.s2ToAfterS1, p.s2ToPrevious]);
  const key = profiles.filter((p) => keyHeads.some((k) => k.layer === p.layer && k.head === p.head));
  const toIo = key.filter((p) => p.endToIo > p.endToS1 + p.endToS2);
  const panel = (values: number[][], title: string, columns: string[]) => heatmapFigure({
    title, values, rowLabels: labels, columnLabels: columns, rowAxisLabel: 'head', columnAxisLabel: 'attends to',
    scale: sequentialScale(values, { min: 0, max: 1 }), legendLabel: 'attention\n(mean over prompts)',
  });
  return {
    id: 'attention',
    title: 'Where the heads look',
    claim: 'Name-mover heads attend from END to the indirect object rather than to either mention of the subject.',
    method: 'Attention probabilities on the clean patching prompts, averaged: from END to IO, S1 and S2; and from S2 to S1 (a duplicate-token head), to the token after S1 (an induction head) and to the token before S2 (a previous-token head).',
    blocks: [
      figure(arrangeFigures([panel(end, 'from END', ['IO', 'S1', 'S2']), panel(s2, 'from S2', ['S1', 'S1 + 1', 'S2 − 1'])], { direction: 'row', title: `Attention of every head · ${target.label}` }),
        'attention from END and S2', 'Each row is a head; colours run from 0 (dark) to 1 (yellow). A name mover is bright under IO in the left panel; a duplicate-token head bright under S1 in the right panel; an induction head under S1 + 1.'),
      table({
        caption: 'The key heads (direct effect on the logits, from path patching) at END.',
        header: ['head', 'END → IO', 'END → S1', 'END → S2', 'logit attribution to IO', 'to S'],
        rows: key.map((p) => [headName(p), num(p.endToIo), num(p.endToS1), num(p.endToS2), num(p.dlaIo), num(p.dlaS)]),
      }),
      paragraph('The logit attributions are each head\'s END output projected on the unembedding of the IO and of the S token (through the final norm with the run\'s own scale): a name mover raises IO; a head that attends to S and lowers S\'s logit helps the logit difference in a different way (in GPT-2 small, negative name movers do the opposite: they attend to IO and lower it).'),
    ],
    verdict: {
      status: toIo.length > 0 ? (toIo.length === key.length ? 'met' : 'partly') : 'not met',
      text: `Of the key heads ${headList(key)}, ${toIo.length > 0 ? `${headList(toIo)} attend${toIo.length === 1 ? 's' : ''} from END to IO more than to S1 and S2 together` : 'none attends from END to IO more than to the subject'}; `
        + `${key.filter((p) => p.endToS1 + p.endToS2 > p.endToIo).map((p) => `${headName(p)} looks at S (${fmt(p.endToS1 + p.endToS2)}) and moves logit(S) by ${fmt(p.dlaS)}`).join('; ') || 'no key head looks mainly at S'}.`,
    },
    seconds,
  };
}
