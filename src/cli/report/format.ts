// How reports write numbers, heads and settings, shared by every report kind.

import type { HeadRef } from '../../index.js';
import { formatNumber } from '../analysis-args.js';
import type { Cell } from './html.js';

/** 4 significant digits (the CLI's tables); '−' for negatives so prose and tables read the same. */
export function fmt(value: number): string {
  return formatNumber(value).replace(/^-/, '−');
}

/** A fraction as a percentage with one decimal. */
export function pct(value: number): string {
  return Number.isFinite(value) ? `${(100 * value).toFixed(1)}%` : 'n/a';
}

/** A numeric table cell that keeps its full value in data-value. */
export function num(value: number, text = fmt(value), strong = false): Cell {
  return { text, value, strong };
}

export function headName(head: HeadRef): string {
  return `L${head.layer}H${head.head}`;
}

export function sameHead(a: HeadRef, b: HeadRef): boolean {
  return a.layer === b.layer && a.head === b.head;
}

/** "L3H0, L3H2 and L2H1" (or "none"). */
export function headList(heads: readonly HeadRef[]): string {
  const names = heads.map(headName);
  if (names.length === 0) return 'none';
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Labels 'L0H0' … for every head of the first `layers` layers, in [layer][head] order. */
export function headLabels(layers: number, heads: number): string[] {
  return Array.from({ length: layers * heads }, (_, i) => `L${Math.floor(i / heads)}H${i % heads}`);
}

export function yesNo(flag: boolean): string {
  return flag ? 'yes' : 'no';
}
