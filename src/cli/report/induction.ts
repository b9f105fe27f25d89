// `dissect report induction`: do the model's induction heads exist, where, and which
// previous-token heads feed their keys — on repeated random tokens (Olsson et al. 2022).

import { arrangeFigures, divergingScale, heatmapFigure, sequentialScale, visibleToken, type HeadRef } from '../../index.js';
import { tokenStrings } from '../analysis-args.js';
import { UsageError } from '../flags.js';
import { fmt, headLabels, headList, headName, num, sameHead } from './format.js';
import { figure, paragraph, table, type ReportDocument, type ReportSection, type Verdict } from './html.js';
import {
  HEAD_THRESHOLD, attentionPattern, compositionBaseline, detectionScores, kComposition, keyPathPatching, lossByPosition, rankHeads,
  repeatedRows, tokenPool, type HeadGrid, type HeadKind, type ScoredHead,
} from './induction-data.js';
import { lineChartFigure } from './line-chart.js';
import type { ReportSteps, ReportTarget } from './steps.js';

export interface InductionSettings {
  /** Length of the random segment (rows are BOS + 2 × length tokens). */
  length: number;
  /** Rows averaged. */
  batch: number;
  seed: number;
  /** Segment length of the row whose attention is drawn. */
  exampleLength: number;
}

export const INDUCTION_STEPS = 4;

const KIND_TITLES: Record<HeadKind, string> = { previous_token: 'previous-token', duplicate_token: 'duplicate-token', induction: 'induction' };

/** A layer × head heatmap: scores from 0 to 1, or signed effects on a diverging scale of ±`limit`. */
function gridFigure(grid: HeadGrid, title: string, legend: string, limit?: number) {
  return heatmapFigure({
    title, values: grid,
    rowLabels: grid.map((_, l) => String(l)), columnLabels: grid[0].map((_, h) => String(h)),
    rowAxisLabel: 'layer', columnAxisLabel: 'head',
    scale: limit === undefined ? sequentialScale(grid, { min: 0, max: 1 }) : divergingScale(grid, { limit }), legendLabel: legend,
  });
}

/** The heads to explain: those above the threshold (at most 4), or the single best one when none is. */
function inductionHeadsToExplain(ranked: readonly ScoredHead[]): ScoredHead[] {
  const strong = ranked.filter((h) => h.score >= HEAD_THRESHOLD && h.layer > 0).slice(0, 4);
  return strong.length > 0 ? strong : ranked.filter((h) => h.layer > 0).slice(0, 1);
}

export async function inductionReport(target: ReportTarget, settings: InductionSettings, steps: ReportSteps): Promise<ReportDocument> {
  const { model, tokenizer } = target;
  const c = model.config;
  if (c.nLayers < 2) throw new UsageError(`the induction report needs at least 2 layers (a previous-token head feeding an induction head); ${target.label} has ${c.nLayers}`);
  const bos = c.bosTokenId ?? null;
  const pool = tokenPool(tokenizer, c.dVocab);
  const rows = repeatedRows(pool.ids, settings.length, settings.batch, settings.seed, bos);
  const sections: ReportSection[] = [];

  // 1. Loss by position.
  const lossStep = await steps.run('loss on repeated random tokens', () => {
    const main = lossByPosition(model, rows, settings.length);
    const other = pool.source === 'world words' ? tokenPool(tokenizer, c.dVocab, 'word tokens') : null;
    const broad = other ? lossByPosition(model, repeatedRows(other.ids, settings.length, settings.batch, settings.seed, bos), settings.length) : null;
    return { main, broad, broadPool: other?.ids.length ?? 0 };
  });
  const { main: loss, broad } = lossStep.value;
  const uniform = Math.log(c.dVocab);
  const lossMet = loss.secondHalf < 0.5 * loss.firstHalf;
  const offset = rows[0].length - 2 * settings.length;
  sections.push({
    id: 'loss',
    title: 'Loss on repeated random tokens',
    claim: 'The model predicts the second copy of a random token sequence far better than the first: it copies from context (the behaviour induction heads implement).',
    method: `${settings.batch} rows of ${bos === null ? '' : 'a BOS token, then '}${settings.length} tokens drawn uniformly from ${pool.ids.length} ${pool.source === 'world words' ? "single-token content words of the synthetic world (names, places, objects, …)" : 'word tokens of the vocabulary (" word")'}, repeated once (seed ${settings.seed}); the next-token loss at every position, averaged over rows.`,
    blocks: [
      figure(lineChartFigure({
        title: `Next-token loss by position · ${target.label}`,
        subtitle: `${settings.batch} rows of ${settings.length} random tokens, repeated`,
        series: [{ name: 'mean loss', points: loss.loss.map((v, p) => [p + 1, v] as const) }],
        xLabel: 'position of the predicted token', yLabel: 'loss (nats)', integerX: true,
        horizontalLines: [{ y: uniform, label: `uniform guess, ln ${c.dVocab} = ${fmt(uniform)}` }],
        verticalLines: [{ x: offset + settings.length, label: 'second copy' }],
      }), 'loss by position', `Mean next-token loss at each position. Left of the dashed line the tokens are random, so no model can do better than chance on average (the horizontal line is a uniform guess over the vocabulary); right of it each token repeats the token ${settings.length} positions earlier. A low flat line there means the model finds the earlier occurrence of the current token and copies what followed it.`),
      table({
        caption: 'Mean loss over each copy (the second copy\'s first token is left out: nothing predicts it).',
        header: ['probe', 'first copy (nats)', 'second copy (nats)', 'ratio second / first'],
        rows: [
          [`${pool.source} (${pool.ids.length} tokens)`, num(loss.firstHalf), num(loss.secondHalf), num(loss.secondHalf / loss.firstHalf)],
          ...(broad ? [[`any word token (${lossStep.value.broadPool} tokens)`, num(broad.firstHalf), num(broad.secondHalf), num(broad.secondHalf / broad.firstHalf)]] : []),
        ],
      }),
      ...(broad ? [paragraph(`The second row repeats the measurement with tokens drawn from every " word" token of the vocabulary, function words and sentence openers included — tokens the model never saw in random spans during training. ${broad.secondHalf < 0.5 * broad.firstHalf ? 'Copying survives this change of distribution.' : 'Copying largely fails there: the model\'s induction is specific to the kind of tokens it was trained to copy.'}`)] : []),
    ],
    verdict: {
      status: lossMet ? 'met' : 'not met',
      text: `Second-copy loss ${fmt(loss.secondHalf)} nats against ${fmt(loss.firstHalf)} for the first copy (${lossMet ? 'below' : 'not below'} half of it, the criterion here).`,
    },
    seconds: lossStep.seconds,
  });

  // 2. Head scores.
  const scoreStep = await steps.run('head scores', () => detectionScores(model, rows, settings.length));
  const scores = scoreStep.value;
  const inductionRanked = rankHeads(scores.induction);
  const previousRanked = rankHeads(scores.previous_token);
  const inductionHeads = inductionHeadsToExplain(inductionRanked);
  const strongInduction = inductionRanked.filter((h) => h.score >= HEAD_THRESHOLD);
  const strongPrevious = previousRanked.filter((h) => h.score >= HEAD_THRESHOLD);
  const ordered = strongInduction.some((i) => strongPrevious.some((p) => p.layer < i.layer));
  sections.push({
    id: 'heads',
    title: 'Induction and previous-token heads',
    claim: 'Some head attends from each token of the second copy to the token after its first occurrence (an induction head), and a head in an earlier layer attends to the previous token (the partner that makes the induction head\'s keys).',
    method: 'On the rows above, each head\'s mean attention on the key its kind expects, over the queries that have one: the previous token (every query); the same token in the first copy (duplicate token) and the token after it (induction), for the second copy\'s queries. 1 = all of the attention. (TransformerLens\'s detector, `dissect heads`, divides by every query\'s attention instead, so there a perfect induction head scores about one half.)',
    blocks: [
      figure(arrangeFigures((['previous_token', 'duplicate_token', 'induction'] as const).map((k) => gridFigure(scores[k], `${KIND_TITLES[k]} score`, 'share of attention')),
        { direction: 'row', title: `Head scores · ${target.label}`, subtitle: `${settings.batch} rows of ${settings.length} random tokens repeated` }),
      'head scores', 'Each cell is one head (rows: layers, columns: heads), coloured from 0 (dark) to 1 (yellow). An induction head lights up in the right panel; the previous-token heads it relies on must sit in an earlier layer of the left panel.'),
      table({
        caption: `The strongest heads of each kind (a head counts from a score of ${HEAD_THRESHOLD}).`,
        header: ['kind', 'best head', 'score', 'second', 'score', `heads ≥ ${HEAD_THRESHOLD}`],
        rows: (['induction', 'previous_token', 'duplicate_token'] as const).map((k) => {
          const r = rankHeads(scores[k]);
          return [KIND_TITLES[k], headName(r[0]), num(r[0].score), headName(r[1]), num(r[1].score), String(r.filter((h) => h.score >= HEAD_THRESHOLD).length)];
        }),
      }),
    ],
    verdict: {
      status: ordered ? 'met' : strongInduction.length > 0 ? 'partly' : 'not met',
      text: `Induction heads (score ≥ ${HEAD_THRESHOLD}): ${headList(strongInduction)}; previous-token heads: ${headList(strongPrevious)}.`
        + (ordered ? ' At least one previous-token head sits in an earlier layer than an induction head, as the two-head circuit needs.'
          : ' No induction head has a previous-token head in an earlier layer.'),
    },
    seconds: scoreStep.seconds,
  });

  // 3. Pairing: K-composition and path patching into each induction head's keys.
  const pairStep = await steps.run('K-composition and path patching into the induction heads\' keys', async (control) => {
    const senders = (layers: number) => Array.from({ length: layers * c.nHeads }, (_, i) => ({ layer: Math.floor(i / c.nHeads), head: i % c.nHeads }));
    const maxLayer = Math.max(...inductionHeads.map((h) => h.layer));
    const composition = inductionHeads.map((r) => senders(maxLayer).map((s) => (s.layer < r.layer ? kComposition(model, s, r) : Number.NaN)));
    const baseline = compositionBaseline(model, 16, settings.seed);
    const corrupted = repeatedRows(pool.ids, settings.length, settings.batch, settings.seed + 1, bos).map((row, b) => [...row.slice(0, offset + settings.length), ...rows[b].slice(offset + settings.length)]);
    const patching = [];
    for (const [i, r] of inductionHeads.entries()) {
      patching.push(await keyPathPatching(model, rows, corrupted, settings.length, r, {
        ...control, onProgress: (done, total) => control.onProgress(i * total + done, inductionHeads.length * total),
      }));
    }
    return { composition, baseline, patching, corrupted, senderCount: maxLayer * c.nHeads };
  });
  const { composition, baseline, patching, corrupted, senderCount } = pairStep.value;
  const senderLabels = headLabels(senderCount / c.nHeads, c.nHeads);
  const patchLimit = Math.max(1e-9, ...patching.flatMap((p) => p.values.flat().map(Math.abs)));
  const pairs = inductionHeads.map((r, i) => {
    const bySender = (values: number[], better: (a: number, b: number) => boolean) => {
      let best = -1;
      values.forEach((v, s) => { if (Number.isFinite(v) && (best < 0 || better(v, values[best]))) best = s; });
      return { head: { layer: Math.floor(best / c.nHeads), head: best % c.nHeads } as HeadRef, value: values[best] };
    };
    const comp = bySender(composition[i], (a, b) => a > b);
    const path = bySender(patching[i].values.flat(), (a, b) => a < b);
    const previousPartner = previousRanked.find((p) => p.layer < r.layer) as ScoredHead;
    return { receiver: r, comp, path, previousPartner, agree: sameHead(path.head, previousPartner) };
  });
  const allAgree = pairs.every((p) => p.agree && scores.previous_token[p.path.head.layer][p.path.head.head] >= HEAD_THRESHOLD);
  sections.push({
    id: 'pairing',
    title: 'Which previous-token head feeds each induction head',
    claim: 'Each induction head finds its target through K-composition: its keys read the output of a previous-token head in an earlier layer.',
    method: `Two measurements for ${headList(inductionHeads)}. Weights: the K-composition score ‖W_OV(sender) W_QK(receiver)ᵀ‖ / (‖W_OV‖ ‖W_QK‖) for every earlier head (norm weights folded in; rotary position embeddings, where the model has them, are left out, as TransformerLens does). Causal: path patching from each earlier head into the induction head's keys only — clean rows as above; corrupted rows whose first copy is replaced by other random tokens — measuring the mean log-probability of the second copy's tokens, normalised so 0 = clean and −1 = corrupted.`,
    blocks: [
      figure(heatmapFigure({
        title: 'K-composition with earlier heads', subtitle: `random-matrix baseline ${fmt(baseline)}`,
        values: composition, rowLabels: inductionHeads.map(headName), columnLabels: senderLabels,
        rowAxisLabel: 'induction head (reads with its keys)', columnAxisLabel: 'earlier head (writes)',
        scale: sequentialScale(composition, { min: 0 }), legendLabel: 'composition score',
      }), 'K-composition scores', `Composition scores between what each earlier head writes (columns) and what each induction head's keys read (rows)${composition.flat().some(Number.isNaN) ? '; grey cells are heads in the same or a later layer' : ''}. Random matrices of the same shapes score about ${fmt(baseline)}, so only cells well above that mean the two heads share a subspace.`),
      figure(arrangeFigures(patching.map((p, i) => gridFigure(p.values, `into ${headName(inductionHeads[i])}'s keys`, '0 = clean run,\n−1 = corrupted run', patchLimit)),
        { direction: 'row', title: 'Path patching into the induction heads\' keys', subtitle: `mean log P(second-copy token): clean run ${fmt(patching[0].clean)}, corrupted run ${fmt(patching[0].corrupted)}` }),
      'path patching into keys', `Each cell: how much of the induction behaviour is lost when only that earlier head's output, as the induction head's keys read it, comes from the corrupted rows (every other path stays clean). Blue = the head supplies the keys; white = no effect.${inductionHeads.length > 1 ? ' When several induction heads do the same job, corrupting the keys of one of them loses only its share: the others still predict the second copy.' : ''}`),
      table({
        caption: 'For each induction head: its strongest partner by weights and by path patching, and the best previous-token head in an earlier layer.',
        header: ['induction head', 'induction score', 'top K-composition sender', 'composition', 'top path-patching sender', 'path effect', 'best earlier previous-token head', 'previous-token score', 'path sender = that head?'],
        rows: pairs.map((p) => [headName(p.receiver), num(p.receiver.score), headName(p.comp.head), num(p.comp.value), headName(p.path.head), num(p.path.value),
          headName(p.previousPartner), num(p.previousPartner.score), p.agree ? 'yes' : 'no']),
      }),
    ],
    verdict: pairingVerdict(pairs, allAgree),
    seconds: pairStep.seconds,
  });

  // 4. Attention pattern of the best induction head and its partner.
  const best = inductionHeads[0];
  const partner = pairs[0].path.head;
  const example = repeatedRows(pool.ids, settings.exampleLength, 1, settings.seed + 2, bos)[0];
  const exampleStep = await steps.run('attention pattern of the best induction head', () => ({
    induction: attentionPattern(model, example, best), partner: attentionPattern(model, example, partner),
  }));
  const labels = tokenStrings(example, tokenizer).map((t, p) => `${p} ${visibleToken(t)}`);
  const exOffset = example.length - 2 * settings.exampleLength;
  const queries = Array.from({ length: settings.exampleLength }, (_, i) => exOffset + settings.exampleLength + i); // the second copy
  const stripe = queries.reduce((s, q) => s + exampleStep.value.induction[q][q - settings.exampleLength + 1], 0) / queries.length;
  const panel = (grid: number[][], head: HeadRef, role: string) => heatmapFigure({
    title: `${headName(head)} (${role})`, values: grid, rowLabels: labels, columnLabels: labels,
    rowAxisLabel: 'query position', columnAxisLabel: 'key position', scale: sequentialScale(grid, { min: 0, max: 1 }),
    legendLabel: 'attention', showValues: false, cellWidth: 18, cellHeight: 18,
  });
  sections.push({
    id: 'pattern',
    title: 'Attention pattern on a repeated sequence',
    claim: 'The best induction head attends from each token of the second copy to the token that followed that token in the first copy; its partner attends to the previous token.',
    method: `One row of ${settings.exampleLength} random tokens repeated (seed ${settings.seed + 2}); the attention pattern of ${headName(best)} and of the head that feeds its keys most (${headName(partner)}, from path patching).`,
    blocks: [
      figure(arrangeFigures([panel(exampleStep.value.induction, best, 'induction'), panel(exampleStep.value.partner, partner, 'its key source')], { direction: 'row', title: `Attention patterns · ${target.label}` }),
        'attention patterns', `Rows are query positions, columns key positions (causal: nothing above the diagonal). An induction head draws a stripe ${settings.exampleLength - 1} positions left of the diagonal in the lower half: query p (token x) attends to key p − ${settings.exampleLength - 1}, the token after x's first occurrence. A previous-token head draws the line just left of the diagonal.`),
    ],
    verdict: {
      status: stripe >= 0.5 ? 'met' : 'not met',
      text: `${headName(best)} puts ${fmt(stripe)} of its attention (mean over the second copy's queries) on the induction target in this row.`,
    },
    seconds: exampleStep.seconds,
  });

  return {
    title: `Induction heads in ${target.label}`,
    lede: 'Induction heads copy from context: at a token that occurred before, they attend to whatever followed it last time and predict that. They need a previous-token head in an earlier layer, whose output the induction head\'s keys read (K-composition). This report measures the behaviour, finds the heads, pairs each induction head with its previous-token partner by weights and by path patching, and shows one attention pattern.',
    meta: [['probe', `${settings.batch} rows × (${bos === null ? '' : 'BOS + '}2 × ${settings.length}) tokens, seed ${settings.seed}`]],
    sections,
    data: {
      kind: 'induction', settings, pool: { source: pool.source, ids: pool.ids }, rows,
      loss: { byPosition: loss.loss, firstHalf: loss.firstHalf, secondHalf: loss.secondHalf, uniform, broad },
      scores, inductionHeads, composition: { receivers: inductionHeads, senders: senderLabels, values: composition, baseline },
      pathPatching: { corrupted, receivers: patching.map((p, i) => ({ receiver: inductionHeads[i], ...p })) },
      pairs: pairs.map((p) => ({ receiver: p.receiver, kComposition: p.comp, pathPatching: p.path, previousToken: p.previousPartner, agree: p.agree })),
      example: { tokens: example, head: best, partner, stripe, pattern: exampleStep.value.induction },
    },
  };
}

function pairingVerdict(pairs: readonly { receiver: HeadRef; comp: { head: HeadRef }; path: { head: HeadRef }; agree: boolean }[], allAgree: boolean): Verdict {
  const compAgree = pairs.filter((p) => sameHead(p.comp.head, p.path.head)).length;
  const text = pairs.map((p) => `${headName(p.receiver)} ← ${headName(p.path.head)}${p.agree ? ' (its best earlier previous-token head)' : ' (not the best earlier previous-token head)'}`).join('; ')
    + `. K-composition names the same sender for ${compAgree} of ${pairs.length} head(s).`;
  return { status: allAgree ? 'met' : pairs.some((p) => p.agree) ? 'partly' : 'not met', text };
}
