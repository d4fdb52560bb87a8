// The only file that touches a DOM: Observable Plot renders into our own jsdom document (passed
// explicitly, as Plot's own tests do) and we keep the serialised SVG/HTML string.

import * as Plot from '@observablehq/plot';
import { JSDOM } from 'jsdom';
import type { ChartSpec } from './charts/spec.js';

let dom: JSDOM | undefined;

/** One jsdom instance for the process: creating one costs tens of milliseconds. */
function document(): Document {
  dom ??= new JSDOM('<!DOCTYPE html><html><head></head><body></body></html>');
  return dom.window.document;
}

/**
 * Render a chart to markup: an `<svg>`, or a `<figure>` holding the legend and the `<svg>`.
 * Text and attributes are escaped by jsdom's serialiser, so labels from input files are safe.
 */
export function renderChart(spec: ChartSpec): string {
  const node = Plot.plot({ ...spec.options, document: document() });
  const markup = (node as Element).outerHTML;
  // Detached nodes are garbage once serialised; nothing is appended to the shared document.
  return renumberIds(markup, spec.id);
}

/**
 * Plot numbers clip paths, markers and patterns from process-wide counters (`plot-clip-7`), so the
 * same chart gets different ids depending on what was drawn before. Renumber them per chart, in
 * order of first appearance, under the chart's own id: stable output, and unique within the page.
 */
export function renumberIds(markup: string, chartId: string): string {
  const seen = new Map<string, string>();
  const counts = new Map<string, number>();
  return markup.replace(/\bplot-(clip|marker|pattern)-(\d+)\b/g, (id: string, kind: string) => {
    let fresh = seen.get(id);
    if (!fresh) {
      const n = (counts.get(kind) ?? 0) + 1;
      counts.set(kind, n);
      fresh = `${chartId}-${kind}-${n}`;
      seen.set(id, fresh);
    }
    return fresh;
  });
}
