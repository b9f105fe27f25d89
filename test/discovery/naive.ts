// Independent oracles for the discovery tests, written with plain hooks and one forward pass per
// intervention: the effect of ablating one edge (the receiver's input gets the sender's ablated
// output in place of its clean one), and of replacing whole writers' outputs by their corrupted or
// mean values (activation patching).

import { logitDiff, metricValue } from '../../src/analysis/metrics.js';
import type { GraphInput, GraphNode } from '../../src/discovery/graph.js';
import type { Hook } from '../../src/hooks/hook-set.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { noGrad, tidy } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';

export interface Pair {
  clean: number[];
  corrupted: number[];
  answer: number;
  wrong: number;
}

/** Where a node's output is read: hook and head index (null: no head axis). */
export function writerSite(node: GraphNode): { hook: string; head: number | null } {
  if (node.kind === 'input') return { hook: 'blocks.0.hook_resid_pre', head: null };
  if (node.kind === 'head') return { hook: `blocks.${node.layer}.attn.hook_result`, head: node.head };
  if (node.kind === 'mlp') return { hook: `blocks.${node.layer}.hook_mlp_out`, head: null };
  throw new Error(`node ${node.id} writes nothing`);
}

/** Where an input is read: hook and head (or kv head) index. */
export function readerSite(input: GraphInput, nLayers: number): { hook: string; head: number | null } {
  switch (input.kind) {
    case 'q': case 'k': case 'v': return { hook: `blocks.${input.layer}.hook_${input.kind}_input`, head: input.head };
    case 'mlp': return { hook: `blocks.${input.layer}.hook_mlp_in`, head: null };
    case 'logits': return { hook: `blocks.${nLayers - 1}.hook_resid_post`, head: null };
    default: return input.kind satisfies never;
  }
}

function slice(t: Tensor, head: number | null): Tensor {
  return head === null ? t : t.index(null, null, head);
}

export class NaiveOracle {
  readonly rows: number[][];
  readonly metric: ReturnType<typeof logitDiff>;
  readonly clean: number;
  private readonly cleanCache;
  private readonly corruptedCache;

  constructor(readonly model: HookedTransformer, pairs: readonly Pair[], readonly nodes: readonly GraphNode[]) {
    this.rows = pairs.map((p) => p.clean);
    this.metric = logitDiff(pairs.map((p) => p.answer), pairs.map((p) => p.wrong));
    const names = [...new Set(nodes.filter((n) => n.kind !== 'logits').map((n) => writerSite(n).hook))];
    const run = (rows: number[][]) => noGrad(() => model.runWithCache(rows, { names }));
    const clean = run(this.rows);
    const corrupted = run(pairs.map((p) => p.corrupted));
    this.clean = metricValue(this.metric, clean.logits);
    clean.logits.dispose();
    corrupted.logits.dispose();
    this.cleanCache = clean.cache;
    this.corruptedCache = corrupted.cache;
  }

  value(hooks: Hook[]): number {
    return noGrad(() => tidy(() => metricValue(this.metric, this.model.forward(this.rows, { hooks }))));
  }

  /** metric(edge from → input ablated) − metric(clean). */
  edgeEffect(from: GraphNode, input: GraphInput): number {
    const w = writerSite(from);
    const r = readerSite(input, this.model.config.nLayers);
    const hook: Hook = {
      name: r.hook,
      fn: (act) => {
        const difference = slice(this.corruptedCache.get(w.hook), w.head).sub(slice(this.cleanCache.get(w.hook), w.head));
        return r.head === null ? act.add(difference) : act.indexPut([null, null, r.head], act.index(null, null, r.head).add(difference));
      },
    };
    return this.value([hook]) - this.clean;
  }

  /** The metric with these writers' outputs replaced by `source` ('corrupted', or 'mean' over prompts and positions of the clean run). */
  patchedWriters(nodes: readonly GraphNode[], source: 'corrupted' | 'mean'): number {
    const hooks: Hook[] = nodes.map((node) => {
      const w = writerSite(node);
      return {
        name: w.hook,
        fn: (act) => {
          const clean = slice(this.cleanCache.get(w.hook), w.head);
          const value = source === 'corrupted' ? slice(this.corruptedCache.get(w.hook), w.head) : clean.mean([0, 1], { keepdim: true }).expand(...clean.shape);
          return w.head === null ? value : act.indexPut([null, null, w.head], value);
        },
      };
    });
    return this.value(hooks);
  }

  dispose(): void {
    this.cleanCache.dispose();
    this.corruptedCache.dispose();
  }
}
