// A circuit as an SVG figure: layers from bottom (input) to top (logits); each layer's heads in a
// row with its MLP above them (beside them with a parallel residual, where both read the same
// input); edges as curves from the sender's top to the receiver's q, k or v port (or its bottom),
// coloured by score on the blue–white–red diverging scale (ColorBrewer RdBu: negative blue,
// positive red, readable with the common colour-vision deficiencies) and as wide as |score|.
// Nodes outside the circuit are drawn faint, so the layout always shows the whole model.

import { divergingScale } from '../analysis/plots/color-scales.js';
import { colorLegend, legendWidth } from '../analysis/plots/legend.js';
import { arrangeFigures, element, escapeXml, formatValue, rect, svgDocument, text, type Figure } from '../analysis/plots/svg.js';
import type { EdgeScores } from './attribution.js';
import type { Circuit } from './circuit.js';
import type { GraphNode } from './graph.js';

const NODE_W = 44;
const NODE_H = 22;
const GAP_X = 18;
const ROW_H = 74;
const MARGIN = 24;
const LABEL_W = 54;
const PORT_DX = { q: -13, k: 0, v: 13 } as const;

export interface CircuitSvgOptions {
  title?: string;
  subtitle?: string;
}

interface Placed {
  x: number; // centre
  y: number; // centre
}

/** Row of each node counted from the bottom, and the number of rows. */
function rows(scores: EdgeScores): { row: (node: GraphNode) => number; count: number } {
  const { graph } = scores;
  const perLayer = graph.parallelResidual ? 1 : 2;
  const row = (node: GraphNode): number => {
    switch (node.kind) {
      case 'input': return 0;
      case 'head': return 1 + (node.layer as number) * perLayer;
      case 'mlp': return 1 + (node.layer as number) * perLayer + (perLayer - 1);
      case 'logits': return 1 + graph.nLayers * perLayer;
      default: return node.kind satisfies never;
    }
  };
  return { row, count: 2 + graph.nLayers * perLayer };
}

/** The circuit drawn as a figure (compose it with arrangeFigures, or use circuitSvg for a document). */
export function circuitFigure(scores: EdgeScores, circuit: Circuit): Figure {
  const { graph } = scores;
  const { row, count } = rows(scores);
  const slots = graph.nHeads + (graph.parallelResidual ? 1 : 0);
  const plotW = slots * NODE_W + (slots - 1) * GAP_X;
  const height = 2 * MARGIN + (count - 1) * ROW_H + NODE_H;
  const left = MARGIN + LABEL_W;
  const place = (node: GraphNode): Placed => {
    const y = MARGIN + NODE_H / 2 + (count - 1 - row(node)) * ROW_H;
    if (node.kind === 'head') return { x: left + (node.head as number) * (NODE_W + GAP_X) + NODE_W / 2, y };
    if (node.kind === 'mlp' && graph.parallelResidual) return { x: left + graph.nHeads * (NODE_W + GAP_X) + NODE_W / 2, y };
    return { x: left + plotW / 2, y };
  };
  const positions = graph.nodes.map(place);
  const kept = graph.edges.map((_, e) => e).filter((e) => circuit.edges[e]);
  const keptScores = kept.map((e) => scores.scores[e]);
  const scale = divergingScale(keptScores.length ? keptScores : [1]);
  const largest = Math.max(1e-12, ...keptScores.map(Math.abs));
  const parts: string[] = [];

  for (let l = 0; l < graph.nLayers; l++) {
    const y = positions[1 + l * (graph.nHeads + 1)].y;
    parts.push(text(MARGIN, y, `layer ${l}`, { size: 11, fill: '#555', baseline: 'middle' }));
  }
  // Weakest first, so the strongest edges are drawn on top.
  for (const e of [...kept].sort((a, b) => Math.abs(scores.scores[a]) - Math.abs(scores.scores[b]))) {
    const edge = graph.edges[e];
    const input = graph.inputs[edge.to];
    const from = positions[edge.from];
    const width = 0.6 + 4.4 * Math.sqrt(Math.abs(scores.scores[e]) / largest);
    for (const target of input.feeds) {
      const to = positions[target];
      const dx = input.kind === 'q' || input.kind === 'k' || input.kind === 'v' ? PORT_DX[input.kind] : 0;
      const [x1, y1, x2, y2] = [from.x, from.y - NODE_H / 2, to.x + dx, to.y + NODE_H / 2];
      const bend = (y1 - y2) * 0.45;
      const d = `M${x1} ${y1} C${x1} ${y1 - bend} ${x2} ${y2 + bend} ${x2} ${y2}`;
      // A grey casing keeps the palest (near-zero) colours visible on white without changing them.
      parts.push(element('path', { d, fill: 'none', stroke: '#9a9a9a', 'stroke-width': width + 0.8, 'stroke-opacity': 0.35 }));
      parts.push(element('path', {
        d,
        fill: 'none', stroke: scale.color(scores.scores[e]), 'stroke-width': width, 'stroke-opacity': 0.85,
      }, element('title', {}, escapeXml(`${edge.id}: ${formatValue(scores.scores[e])}`))));
    }
  }
  graph.nodes.forEach((node, n) => {
    const { x, y } = positions[n];
    const active = circuit.nodes[n] === 1;
    const label = node.kind === 'head' ? `${node.layer}.${node.head}` : node.kind === 'mlp' ? `MLP ${node.layer}` : node.id;
    const w = node.kind === 'head' ? NODE_W : node.kind === 'mlp' && graph.parallelResidual ? NODE_W : NODE_W + 22;
    parts.push(rect(x - w / 2, y - NODE_H / 2, w, NODE_H, active ? '#ffffff' : '#f4f4f4', {
      stroke: active ? '#333' : '#c8c8c8', 'stroke-width': active ? 1.2 : 0.8, rx: node.kind === 'head' ? 4 : 2,
    }));
    parts.push(text(x, y, label, { size: 10, anchor: 'middle', baseline: 'middle', fill: active ? '#111' : '#aaa', weight: active ? 'bold' : 'normal' }));
    if (node.kind === 'head' && active) {
      for (const [port, dx] of Object.entries(PORT_DX)) parts.push(text(x + dx, y + NODE_H / 2 + 9, port, { size: 7, anchor: 'middle', fill: '#777' }));
    }
  });
  const legendX = left + plotW + 36;
  parts.push(colorLegend(scale, legendX, MARGIN, Math.min(220, height - 2 * MARGIN), 'edge score\n(metric change if ablated)', false));
  const width = legendX + legendWidth(scale, 'edge score\n(metric change if ablated)', Math.min(220, height - 2 * MARGIN)) + MARGIN;
  return { width, height, body: parts.join('') };
}

/** A standalone SVG document of the circuit, with a title. */
export function circuitSvg(scores: EdgeScores, circuit: Circuit, options: CircuitSvgOptions = {}): string {
  const title = options.title ?? `Circuit · ${scores.method.toUpperCase()}${scores.method === 'eap' ? '' : ` (${scores.steps} steps)`}`;
  const subtitle = options.subtitle ?? `${circuit.edgeCount} of ${scores.graph.edges.length} edges · ${scores.metric} · ${scores.examples} prompt pairs`;
  return svgDocument(arrangeFigures([circuitFigure(scores, circuit)], { title, subtitle }));
}
