// The path-patching section of the IOI report: follow the textbook chain backwards from the logits
// — heads with a direct effect (name movers), heads that act through their queries (S-inhibition),
// heads that act through the S-inhibition heads' values (duplicate-token, induction) — and, since
// a small model may route the information differently, through the key heads' keys and values too.

import { arrangeFigures, divergingScale, heatmapFigure, type CircuitExample, type HeadRef, type ReceiverInput } from '../../index.js';
import { fmt, headList, headName, num } from './format.js';
import { figure, paragraph, table, type ReportSection, type Verdict } from './html.js';
import { pathGrid, type Grid, type HeadProfile } from './ioi-data.js';
import type { ReportSteps, ReportTarget } from './steps.js';

/** A head is a key (direct-effect) head when corrupting its direct path loses ≥ 10% of the logit difference. */
export const DIRECT_THRESHOLD = 0.1;
/** A sender matters through a receiver input when corrupting that path loses ≥ 5%. */
export const VIA_THRESHOLD = 0.05;

interface Effect extends HeadRef {
  effect: number;
}

function strongest(grid: Grid, threshold: number): Effect[] {
  return grid.flatMap((row, layer) => row.map((effect, head) => ({ layer, head, effect }))).filter((h) => h.effect <= -threshold).sort((a, b) => a.effect - b.effect);
}

function profileOf(profiles: readonly HeadProfile[], h: HeadRef): HeadProfile {
  return profiles.find((p) => p.layer === h.layer && p.head === h.head) as HeadProfile;
}

/** What a key head is, judged by where END attends and what it writes (see the section's text). */
function role(p: HeadProfile): string {
  const toS = p.endToS1 + p.endToS2;
  if (p.endToIo > toS && p.dlaIo > 0) return 'name mover (END → IO, raises IO)';
  if (toS > p.endToIo && p.dlaS < 0) return 'S suppressor (END → S, lowers S)';
  if (p.endToIo > toS) return 'attends IO';
  return 'attends S';
}

export interface PathSection {
  section: ReportSection;
  /** The heads with a direct effect on the logits (the report's "key heads"). */
  keyHeads: Effect[];
  data: unknown;
}

export async function pathPatchingSection(target: ReportTarget, pairs: readonly CircuitExample[], profiles: readonly HeadProfile[],
  steps: ReportSteps): Promise<PathSection> {
  const { model } = target;
  const step = await steps.run('path patching: direct effects, then through the key heads\' queries, keys and values', async (control) => {
    const part = (i: number, parts: number) => ({ ...control, onProgress: (d: number, t: number) => control.onProgress(i * t + d, parts * t) });
    const direct = await pathGrid(model, pairs, 'logits', part(0, 5));
    let keyHeads = strongest(direct, DIRECT_THRESHOLD);
    if (keyHeads.length === 0) keyHeads = strongest(direct, -Infinity).slice(0, 2);
    const via = async (heads: readonly HeadRef[], input: ReceiverInput['input'], i: number) => (heads.every((h) => h.layer > 0)
      ? pathGrid(model, pairs, heads.map((h) => ({ ...h, input })), part(i, 5)) : null);
    const [q, k, v] = [await via(keyHeads, 'q', 1), await via(keyHeads, 'k', 2), await via(keyHeads, 'v', 3)];
    const sInhibition = q ? strongest(q, VIA_THRESHOLD) : [];
    const viaSInhibition = sInhibition.length > 0 ? await via(sInhibition, 'v', 4) : null;
    return { direct, keyHeads, q, k, v, sInhibition, viaSInhibition, upstream: viaSInhibition ? strongest(viaSInhibition, VIA_THRESHOLD) : [] };
  });
  const r = step.value;
  const panels: [string, Grid | null][] = [
    ['direct → logits', r.direct], ['→ key heads\' queries', r.q], ['→ key heads\' keys', r.k], ['→ key heads\' values', r.v],
    ['→ S-inhibition heads\' values', r.viaSInhibition],
  ];
  const shown = panels.filter((p): p is [string, Grid] => p[1] !== null);
  const limit = Math.max(1e-9, ...shown.flatMap(([, g]) => g.flat().map(Math.abs)));
  const heatmaps = shown.map(([title, grid]) => heatmapFigure({
    title, values: grid, rowLabels: grid.map((_, l) => String(l)), columnLabels: grid[0].map((_, h) => String(h)),
    rowAxisLabel: 'sender layer', columnAxisLabel: 'sender head', scale: divergingScale(grid, { limit }), legendLabel: '0 = no effect,\n−1 = all lost',
  }));
  const nameMovers = r.keyHeads.filter((h) => role(profileOf(profiles, h)).startsWith('name mover'));
  const keyMarkers = r.k ? strongest(r.k, VIA_THRESHOLD) : [];
  const upstreamKinds = r.upstream.map((h) => {
    const p = profileOf(profiles, h);
    const kind = p.s2ToS1 >= 0.3 ? 'duplicate-token' : p.s2ToAfterS1 >= 0.3 ? 'induction' : p.s2ToPrevious >= 0.3 ? 'previous-token' : 'other';
    return { ...h, kind };
  });
  const found = [nameMovers.length > 0, r.sInhibition.length > 0, upstreamKinds.some((h) => h.kind === 'duplicate-token' || h.kind === 'induction')];
  // Duplicate-token and induction heads by attention alone, and the largest effect each has along any path measured.
  const pathEffect = (h: HeadRef) => [r.direct, r.q, r.k, r.v, r.viaSInhibition]
    .map((g) => (g && h.layer < g.length ? g[h.layer][h.head] : 0)).reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
  const byAttention = profiles.filter((p) => p.s2ToS1 >= 0.3 || p.s2ToAfterS1 >= 0.3)
    .map((p) => ({ layer: p.layer, head: p.head, kind: p.s2ToS1 >= p.s2ToAfterS1 ? 'duplicate-token' : 'induction', attention: Math.max(p.s2ToS1, p.s2ToAfterS1), effect: pathEffect(p) }));
  const verdict: Verdict = {
    status: found.every(Boolean) ? 'met' : found.some(Boolean) ? 'partly' : 'not met',
    text: `Key heads (direct effect ≤ −${DIRECT_THRESHOLD}): ${r.keyHeads.map((h) => `${headName(h)} ${fmt(h.effect)}`).join(', ')}; name movers among them: ${headList(nameMovers)}. `
      + `S-inhibition heads (≤ −${VIA_THRESHOLD} through the key heads' queries): ${headList(r.sInhibition)}. `
      + (r.sInhibition.length > 0 ? `Through their values: ${upstreamKinds.map((h) => `${headName(h)} (${h.kind})`).join(', ') || 'no head'}. ` : '')
      + `Through the key heads' keys: ${keyMarkers.map((h) => `${headName(h)} ${fmt(h.effect)}`).join(', ') || 'no head'}. `
      + `By attention at S2: ${byAttention.map((h) => `${headName(h)} is ${h.kind === 'induction' ? 'an' : 'a'} ${h.kind} head (${fmt(h.attention)}), largest path effect ${fmt(h.effect)}`).join('; ') || 'no duplicate-token or induction head (S2 → S1 or S1 + 1 ≥ 0.3)'}.`
      + (found.every(Boolean) ? '' : ' The textbook chain is not complete in this model; the table says which role each head plays instead.'),
  };
  const involved = [...r.keyHeads, ...r.sInhibition, ...keyMarkers, ...r.upstream, ...byAttention]
    .filter((h, i, all) => all.findIndex((o) => o.layer === h.layer && o.head === h.head) === i);
  const cell = (grid: Grid | null, h: HeadRef) => (grid && h.layer < grid.length ? num(grid[h.layer][h.head]) : '–');
  return {
    keyHeads: r.keyHeads,
    section: {
      id: 'path-patching',
      title: 'Path patching: name movers, S-inhibition, duplicate-token and induction heads',
      claim: 'The textbook IOI circuit: name-mover heads write the answer directly; S-inhibition heads act on the logits only through the name movers\' queries; duplicate-token and induction heads act through the S-inhibition heads.',
      method: `Path patching (Wang et al. 2022) on the ${pairs.length} patching pairs: the clean run with one sender head's output taken from the corrupted run along one path only (every other head frozen to its clean output; MLPs recompute), then the metric. Direct: into the logits. Then into the queries, keys and values of the key heads (direct effect ≤ −${DIRECT_THRESHOLD}), and, if some head acts through those queries (S-inhibition, ≤ −${VIA_THRESHOLD}), into the S-inhibition heads' values. Effects are (patched − clean) / (clean − corrupted): 0 = no effect, −1 = the whole logit difference lost.`,
      blocks: [
        figure(arrangeFigures(heatmaps, { direction: 'row', columns: 3, title: `Path patching · ${target.label}`, subtitle: 'blue = the sender carries the logit difference along that path' }),
          'path patching', 'Each panel sweeps every possible sender head (rows: layer, columns: head) for one receiver: the logits directly, or an input (query, key, value) of the key heads. Senders must sit in an earlier layer than the receivers, so later panels have fewer rows. Deep blue cells are the heads the circuit is made of; white cells carry nothing along that path.'),
        table({
          caption: 'The heads that matter along some path, with where END attends (means over prompts).',
          header: ['head', 'direct', 'via q', 'via k', 'via v', ...(r.viaSInhibition ? ['via S-inh. v'] : []), 'END → IO', 'END → S1+S2', 'S2 → S1', 'S2 → S2−1', 'role'],
          rows: involved.map((h) => {
            const p = profileOf(profiles, h);
            const isKey = r.keyHeads.some((k) => k.layer === h.layer && k.head === h.head);
            const kind = upstreamKinds.find((u) => u.layer === h.layer && u.head === h.head)?.kind;
            const marker = p.s2ToPrevious >= 0.3 ? 'previous-token head; shapes the key heads\' keys' : 'shapes the key heads\' keys';
            const seen = byAttention.find((u) => u.layer === h.layer && u.head === h.head);
            const onPath = keyMarkers.some((u) => u.layer === h.layer && u.head === h.head);
            const label = isKey ? `${role(p)}${seen ? `; ${seen.kind} head at S2` : ''}` : r.sInhibition.some((s) => s.layer === h.layer && s.head === h.head) ? 'S-inhibition'
              : kind ?? (onPath ? marker : `${seen?.kind ?? 'other'} head (by attention)`);
            return [headName(h), cell(r.direct, h), cell(r.q, h), cell(r.k, h), cell(r.v, h), ...(r.viaSInhibition ? [cell(r.viaSInhibition, h)] : []),
              num(p.endToIo), num(p.endToS1 + p.endToS2), num(p.s2ToS1), num(p.s2ToPrevious), label];
          }),
        }),
        paragraph('Reading the table: a **name mover** attends from END to the indirect object and raises its logit; an **S suppressor** attends to the subject and lowers the subject\'s logit, which raises the logit difference just as well. A head that acts through the key heads\' keys changes what the key heads find at the name positions (in GPT-2 small, the S-inhibition heads act through the queries instead).'),
      ],
      verdict,
      seconds: step.seconds,
    },
    data: { ...r, nameMovers, keyMarkers, upstream: upstreamKinds, byAttention },
  };
}
