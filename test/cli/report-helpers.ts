// Shared by the report tests: parse a report strictly as XML (saxes; the reports are written in
// XHTML syntax so that this is possible), and collect what the tests check — sections with their
// claim, method and verdict, figures with their inline SVG and caption, table cells with the
// numbers behind them, every attribute that could point outside the file, and the JSON data.

import assert from 'node:assert/strict';
import { SaxesParser } from 'saxes';

export interface ParsedSection {
  id: string;
  title: string;
  claim: string;
  method: string;
  verdictStatus: string;
  verdict: string;
  figures: { svgElements: number; caption: string }[];
  tables: number;
  /** Every data-value in the section's tables. */
  values: number[];
  text: string;
}

export interface ParsedReport {
  title: string;
  sections: ParsedSection[];
  /** Every src / href / xlink:href attribute value and every <link>, <img>, <iframe>, <object> element. */
  references: string[];
  data: Record<string, unknown>;
  text: string;
}

export function parseReport(html: string): ParsedReport {
  assert.ok(html.startsWith('<!DOCTYPE html>'), 'the report starts with the HTML doctype');
  const parser = new SaxesParser();
  let failure: Error | null = null;
  parser.on('error', (err) => { failure ??= err; });
  const report: ParsedReport = { title: '', sections: [], references: [], data: {}, text: '' };
  const stack: { name: string; attrs: Record<string, string> }[] = [];
  let section: ParsedSection | null = null;
  let json = '';
  const inside = (name: string, cls?: string) => stack.some((e) => e.name === name && (cls === undefined || (e.attrs.class ?? '').split(' ').includes(cls)));
  parser.on('opentag', (tag) => {
    const attrs = { ...tag.attributes } as Record<string, string>;
    stack.push({ name: tag.name, attrs });
    for (const key of ['src', 'href', 'xlink:href', 'srcset', 'action']) if (attrs[key] !== undefined) report.references.push(`${tag.name} ${key}=${attrs[key]}`);
    if (['link', 'img', 'iframe', 'object', 'embed', 'image', 'use'].includes(tag.name)) report.references.push(`<${tag.name}>`);
    if (tag.name === 'section') {
      section = { id: attrs.id, title: '', claim: '', method: '', verdictStatus: '', verdict: '', figures: [], tables: 0, values: [], text: '' };
      report.sections.push(section);
    }
    if (section && tag.name === 'div' && (attrs.class ?? '').startsWith('verdict')) section.verdictStatus = attrs['data-status'];
    if (section && tag.name === 'figure') section.figures.push({ svgElements: 0, caption: '' });
    if (section && tag.name === 'table') section.tables++;
    if (section && attrs['data-value'] !== undefined && !inside('svg')) section.values.push(Number(attrs['data-value']));
    if (section && inside('figure') && inside('svg')) {
      const fig = section.figures[section.figures.length - 1];
      fig.svgElements++;
    }
  });
  parser.on('closetag', (tag) => {
    stack.pop();
    if (tag.name === 'section') section = null;
  });
  parser.on('text', (text) => {
    if (stack.at(-1)?.name === 'script') {
      json += text;
      return;
    }
    if (inside('style')) return;
    report.text += text;
    if (inside('title') && !inside('svg')) report.title += text;
    if (!section) return;
    if (!inside('svg')) section.text += text;
    if (inside('h2')) section.title += text;
    if (inside('p', 'claim')) section.claim += text;
    if (inside('p', 'method')) section.method += text;
    if (inside('div', 'verdict')) section.verdict += text;
    if (inside('figcaption')) section.figures[section.figures.length - 1].caption += text;
  });
  parser.write(html).close();
  if (failure) throw failure;
  report.data = JSON.parse(json) as Record<string, unknown>;
  return report;
}

/** The structure every report must have: sections with a claim, a method, a verdict, figures with captions, no external references. */
export function assertWellFormedReport(report: ParsedReport, sectionIds: readonly string[]): void {
  assert.deepEqual(report.references.filter((r) => !/ href=#[\w-]+$/.test(r)), [], 'nothing points outside the file (only #anchors)');
  assert.deepEqual(report.sections.map((s) => s.id), sectionIds);
  for (const s of report.sections) {
    assert.ok(s.claim.trim().length > 20, `section ${s.id} states its claim`);
    assert.ok(s.method.trim().length > 20, `section ${s.id} states its method`);
    assert.ok(['met', 'not met', 'partly', 'observed'].includes(s.verdictStatus), `section ${s.id} has a verdict (${s.verdictStatus})`);
    assert.ok(s.verdict.trim().length > 20, `section ${s.id} explains its verdict`);
    assert.ok(s.figures.length + s.tables > 0, `section ${s.id} shows figures or tables`);
    for (const f of s.figures) {
      assert.ok(f.svgElements > 10, `a figure of ${s.id} holds an inline SVG drawing`);
      assert.ok(f.caption.trim().length > 40, `a figure of ${s.id} has a caption that says how to read it`);
    }
  }
}

/** Whether `values` holds `expected` within `tolerance` (tables keep full precision in data-value). */
export function hasValue(values: readonly number[], expected: number, tolerance = 1e-9): boolean {
  return values.some((v) => Math.abs(v - expected) <= tolerance * Math.max(1, Math.abs(expected)));
}
