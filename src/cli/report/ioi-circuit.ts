// The circuit-discovery section of the IOI report: score every edge with EAP and EAP-IG, measure
// how faithful the top-n circuits are as n grows, draw the smallest faithful EAP-IG circuit, and
// check that it keeps the heads that move the answer from END to the logits.

import {
  CircuitEvaluator, arrangeFigures, attributeEdges, circuitFigure, circuitHeads, defaultEdgeCounts, endAttention, faithfulnessCurve, rankEdges,
  selectCircuit, type CircuitExample, type EdgeScores, type FaithfulnessPoint, type HeadRef,
} from '../../index.js';
import { fmt, headList, headName, num, pct, yesNo } from './format.js';
import { figure, table, type ReportSection } from './html.js';
import { lineChartFigure } from './line-chart.js';
import type { ReportSteps, ReportTarget } from './steps.js';

/** A circuit is faithful from this share of the model's logit difference on. */
export const FAITHFULNESS_TARGET = 0.8;
/** ... and small when it keeps at most this share of the edges. */
export const SMALL_CIRCUIT = 0.1;
/** An END → IO head: END attends to IO more than to S (both mentions) and puts at least this much on it. */
const END_TO_IO = 0.2;

export async function ioiCircuitSection(target: ReportTarget, examples: readonly CircuitExample[], keyHeads: readonly HeadRef[],
  settings: { igSteps: number }, steps: ReportSteps): Promise<{ section: ReportSection; data: unknown }> {
  const { model } = target;
  const scoring = await steps.run('edge attribution patching (EAP and EAP-IG)', async (control) => {
    const half = (i: number) => ({ ...control, onProgress: (d: number, t: number) => control.onProgress(i * t + d, 2 * t) });
    const eap = await attributeEdges(model, examples, { method: 'eap', ...half(0) });
    const ig = await attributeEdges(model, examples, { method: 'eap-ig', steps: settings.igSteps, ...half(1) });
    return { eap, ig };
  });
  const { eap, ig } = scoring.value;
  const total = ig.graph.edges.length;
  const counts = defaultEdgeCounts(total);
  const curves = await steps.run('faithfulness of the top-n circuits', async (control) => {
    const evaluator = await CircuitEvaluator.create(model, examples, { signal: control.signal });
    try {
      const curve = (scores: EdgeScores, i: number) => faithfulnessCurve(evaluator, scores, counts, (d, t) => control.onProgress(i * t + d, 2 * t));
      return { eap: await curve(eap, 0), ig: await curve(ig, 1), clean: evaluator.clean, empty: evaluator.empty };
    } finally {
      evaluator.dispose();
    }
  });
  const { clean, empty } = curves.value;
  const faithful = curves.value.ig.find((p) => p.faithfulness >= FAITHFULNESS_TARGET);
  const topN = faithful?.topN ?? Math.round(SMALL_CIRCUIT * total);
  const circuit = selectCircuit(ig, { topN });
  const chosen = curves.value.ig.find((p) => p.topN === topN) as FaithfulnessPoint;
  const attention = endAttention(model, examples);
  const endToIo = attention.filter((a) => a.toAnswer > a.toWrong && a.toAnswer >= END_TO_IO);
  const inCircuit = circuitHeads(circuit);
  const edgeIndex = new Map(ig.graph.edges.map((e, i) => [e.id, i]));
  const candidates = [...endToIo, ...keyHeads].filter((h, i, all) => all.findIndex((o) => o.layer === h.layer && o.head === h.head) === i);
  const heads = candidates.map((h) => {
    const a = attention[h.layer * model.config.nHeads + h.head];
    const logitsEdge = edgeIndex.get(`a${h.layer}.h${h.head}->logits`);
    return {
      layer: h.layer, head: h.head, toAnswer: a.toAnswer, toWrong: a.toWrong,
      endToIo: endToIo.some((o) => o.layer === h.layer && o.head === h.head),
      keyHead: keyHeads.some((o) => o.layer === h.layer && o.head === h.head),
      inCircuit: inCircuit.some((o) => o.layer === h.layer && o.head === h.head),
      edgeToLogits: logitsEdge !== undefined && circuit.edges[logitsEdge] === 1,
    };
  });
  const endHeadsKept = heads.filter((h) => h.endToIo).every((h) => h.inCircuit);
  const small = faithful !== undefined && faithful.topN <= SMALL_CIRCUIT * total;
  const topEdges = rankEdges(ig.scores).slice(0, 12);
  const point = (p: FaithfulnessPoint) => [p.topN, p.faithfulness] as const;
  // Float noise of the empty circuit (−3e-8) reads as a number; show it as 0 (data-value keeps it).
  const faith = (p: FaithfulnessPoint, strong = false) => num(p.faithfulness, Math.abs(p.faithfulness) < 1e-6 ? '0' : fmt(p.faithfulness), strong);
  const eapAt = (n: number) => curves.value.eap.find((p) => p.topN === n) as FaithfulnessPoint;
  const section: ReportSection = {
    id: 'circuit',
    title: 'The circuit EAP and EAP-IG find',
    claim: `A small circuit (at most ${pct(SMALL_CIRCUIT)} of the model's edges) keeps at least ${pct(FAITHFULNESS_TARGET)} of the logit difference, and it includes the heads that carry the answer from END to the logits.`,
    method: `Edge attribution patching (Hanna et al. 2024) on ${examples.length} IOI pairs over every template (corrupted: three other names): each of the ${total} edges (input, heads' q/k/v inputs, MLPs, logits) gets a first-order estimate of the change in logit difference if it alone carried the corrupted value — EAP from the gradient at the clean run, EAP-IG averaged over ${settings.igSteps} points between the corrupted and the clean run. The top-n edges by |score| (pruned to input → logits paths) form a circuit, run with every other edge corrupted. Faithfulness = (circuit − all corrupted) / (clean − all corrupted): clean logit difference ${fmt(clean)}, all edges corrupted ${fmt(empty)}.`,
    blocks: [
      figure(lineChartFigure({
        title: `Faithfulness against edges kept · ${target.label}`, subtitle: `${examples.length} IOI pairs · ${total} edges`,
        series: [{ name: 'EAP', points: curves.value.eap.map(point) }, { name: `EAP-IG (${settings.igSteps} steps)`, points: curves.value.ig.map(point) }],
        xLabel: 'edges selected (top n by |score|, log scale)', yLabel: 'faithfulness', xScale: 'log1p',
        horizontalLines: [{ y: 1, label: 'whole model' }, { y: FAITHFULNESS_TARGET, label: `target ${FAITHFULNESS_TARGET}` }],
      }), 'faithfulness curve', `Faithfulness of the circuit made of the top-n edges, for n from 0 (every edge corrupted: 0) to all ${total} (the clean model: 1). The better the attribution, the faster its curve rises: fewer edges explain the behaviour. Values above 1 mean the circuit does better than the whole model (edges left out were working against the answer).`),
      figure(arrangeFigures([circuitFigure(ig, circuit)], {
        title: `EAP-IG circuit · ${target.label}`,
        subtitle: `${circuit.edgeCount} of ${total} edges, faithfulness ${fmt(chosen.faithfulness)}: the top ${topN} by |score| (${faithful ? `the fewest reaching ${FAITHFULNESS_TARGET}` : `none reaches ${FAITHFULNESS_TARGET}; ${pct(SMALL_CIRCUIT)} shown`}), pruned`,
      }), 'circuit graph', 'Layers run from the input (bottom) to the logits (top); each head has three ports (q, k, v) where edges into it arrive. Edge width grows with |score|. A score estimates how the logit difference would change if that edge alone were corrupted, so blue (negative) edges carry the answer and red (positive) ones work against it. Faint boxes are components outside the circuit. Hover an edge for its id and score.'),
      table({
        caption: 'Faithfulness of the top-n circuits, and the edges each keeps after pruning (the chosen EAP-IG circuit in bold).',
        header: ['top n', 'EAP: faithfulness', 'EAP: edges', 'EAP-IG: faithfulness', 'EAP-IG: edges'],
        rows: counts.map((n) => {
          const a = eapAt(n);
          const b = curves.value.ig.find((p) => p.topN === n) as FaithfulnessPoint;
          return [String(n), faith(a), String(a.edgeCount), faith(b, n === topN), String(b.edgeCount)];
        }),
      }),
      table({
        caption: 'The strongest edges by EAP-IG score (the estimated change of the logit difference if the edge alone were corrupted).',
        header: ['edge', 'EAP-IG score', 'EAP score', 'in the circuit'],
        rows: topEdges.map((e) => [ig.graph.edges[e].id, num(ig.scores[e]), num(eap.scores[e]), yesNo(circuit.edges[e] === 1)]),
      }),
      table({
        caption: `Heads that attend from END to IO (≥ ${END_TO_IO}, more than to S) or have a direct effect in path patching, and whether the circuit keeps them.`,
        header: ['head', 'END → IO', 'END → S', 'END → IO head', 'key head (path patching)', 'in circuit', 'its edge to the logits kept'],
        rows: heads.map((h) => [headName(h), num(h.toAnswer), num(h.toWrong), yesNo(h.endToIo), yesNo(h.keyHead), yesNo(h.inCircuit), yesNo(h.edgeToLogits)]),
      }),
    ],
    verdict: {
      status: small && endHeadsKept ? 'met' : faithful !== undefined || endHeadsKept ? 'partly' : 'not met',
      text: `${faithful ? `EAP-IG reaches faithfulness ${fmt(faithful.faithfulness)} with the top ${faithful.topN} edges (${pct(faithful.topN / total)} of ${total}; EAP: ${fmt(eapAt(faithful.topN).faithfulness)} there)` : `No EAP-IG circuit on the curve reaches ${FAITHFULNESS_TARGET}`}. `
        + `END → IO heads: ${headList(heads.filter((h) => h.endToIo))}; ${heads.some((h) => h.endToIo) ? (endHeadsKept ? 'the circuit includes each of them' : `the circuit includes ${headList(heads.filter((h) => h.endToIo && h.inCircuit))} only`) : 'none qualifies'}`
        + `${heads.some((h) => h.endToIo && h.inCircuit && !h.edgeToLogits) ? ` (${headList(heads.filter((h) => h.endToIo && h.inCircuit && !h.edgeToLogits))} through later components: the direct edge to the logits is not among the kept edges)` : ''}. `
        + `Key heads from path patching in the circuit: ${headList(heads.filter((h) => h.keyHead && h.inCircuit))} of ${headList(heads.filter((h) => h.keyHead))}.`,
    },
    seconds: scoring.seconds + curves.seconds,
  };
  return {
    section,
    data: {
      edges: total, clean, empty, curves: { eap: curves.value.eap, ig: curves.value.ig }, topN, edgeCount: circuit.edgeCount,
      faithfulness: chosen.faithfulness, heads, topEdges: topEdges.map((e) => ({ id: ig.graph.edges[e].id, ig: ig.scores[e], eap: eap.scores[e] })),
    },
  };
}
