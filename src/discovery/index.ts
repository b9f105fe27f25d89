// Public surface of src/discovery (re-exported by src/index.ts): circuit discovery by edge
// attribution patching.
//
//   const examples = ioiCircuitExamples(tokenizer, ioiEvalSet(new Rng(1), 32), { names: ALL_NAMES });
//   const scores = await attributeEdges(model, examples, { method: 'eap-ig', steps: 5 });
//   const circuit = selectCircuit(scores, { topN: 40 });
//   const { faithfulness } = await evaluateCircuit(model, examples, circuit);
//   const svg = circuitSvg(scores, circuit);

export {
  buildGraph, headNodeIndex, mlpNodeIndex,
  type ComputeGraph, type GraphNode, type GraphInput, type GraphEdge, type NodeKind, type InputKind,
} from './graph.js';
export {
  exampleBatches, batchMetric, DEFAULT_BATCH_SIZE,
  type CircuitExample, type ExampleBatch, type CircuitMetric, type CircuitRunOptions,
} from './dataset.js';
export { ioiCircuitExamples, singleWordToken, type NamedPrompt, type IoiPairOptions } from './ioi-dataset.js';
export {
  attributeEdges, ATTRIBUTION_METHODS, type AttributionMethod, type EdgeAttributionOptions, type EdgeScores,
} from './attribution.js';
export { selectCircuit, circuitFromEdges, rankEdges, type Circuit, type CircuitSelection } from './circuit.js';
export {
  CircuitEvaluator, evaluateCircuit, faithfulnessCurve, defaultEdgeCounts,
  type CircuitEvaluation, type FaithfulnessPoint,
} from './faithfulness.js';
export { circuitToJson, type CircuitJson, type CircuitJsonExtras } from './export.js';
export { circuitSvg, circuitFigure, type CircuitSvgOptions } from './svg.js';
export { endAttention, circuitHeads, type EndAttention } from './head-attention.js';
