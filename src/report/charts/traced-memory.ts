// Traced memory over a series of tracemalloc snapshots, and the sites that grew the most.
import * as Plot from '@observablehq/plot';
import type { TracemallocReportData } from '../tracemalloc-data.js';
import { MAX_GROWING_BARS } from '../tracemalloc-data.js';
import { formatBytes, formatBytesExact, formatInt } from '../format.js';
import { CHART_STYLE, CHART_WIDTH, USED_COLOUR, byteTicks, dumpTicks, marginFor, shortPath, type ChartSpec } from './spec.js';

export function tracedMemoryChart(d: TracemallocReportData): ChartSpec | null {
  const pts = d.growth.snapshots;
  if (pts.length < 2) return null;
  const rows = pts.map((s) => ({ x: s.index + 1, size: s.size, title: `snapshot ${s.index + 1}: ${s.file}\n${formatBytesExact(s.size)} in ${formatInt(s.traces)} traces` }));
  const max = Math.max(...rows.map((r) => r.size));
  return {
    id: 'traced-memory',
    title: 'Total traced memory over the snapshots',
    howToRead: 'one point per snapshot, in the order given; the height is the sum of the sizes of every live traced block (what tracemalloc.get_traced_memory() called current). A line that keeps rising is memory that is never given back.',
    options: {
      width: CHART_WIDTH,
      height: 300,
      marginLeft: 84,
      marginBottom: 44,
      style: CHART_STYLE,
      x: { label: 'snapshot →', labelAnchor: 'center', ticks: dumpTicks(pts.length), tickFormat: (n: number) => (Number.isInteger(n) ? formatInt(n) : '') },
      y: { label: '↑ traced bytes', grid: true, domain: [0, max * 1.05 || 1], ticks: byteTicks(max), tickFormat: (n: number) => formatBytes(n) },
      marks: [
        Plot.ruleY([0]),
        Plot.lineY(rows, { x: 'x', y: 'size', stroke: USED_COLOUR, strokeWidth: 2 }),
        Plot.dot(rows, { x: 'x', y: 'size', fill: USED_COLOUR, r: 3, title: 'title' }),
      ],
    },
  };
}

export function growingSitesChart(d: TracemallocReportData): ChartSpec | null {
  const sites = d.growth.growing.slice(0, MAX_GROWING_BARS);
  if (sites.length === 0 || d.growth.snapshots.length < 2) return null;
  const labels = sites.map((s) => shortPath(s.site, 60));
  const rows = sites.map((s, i) => ({
    label: labels[i]!,
    growth: s.growth,
    title: `${s.site}\n${formatBytesExact(s.sizes[0]!)} → ${formatBytesExact(s.sizes.at(-1)!)} (+${formatBytesExact(s.growth)})\ngrew at ${s.stepsUp}, shrank at ${s.stepsDown} of ${s.sizes.length - 1} steps`,
  }));
  const max = Math.max(...rows.map((r) => r.growth));
  return {
    id: 'growing-sites',
    title: 'Allocation sites that grew the most',
    howToRead: 'one bar per source line (statistics grouped by lineno, named as CPython prints them), its size in the last snapshot minus its size in the first; hover for the sizes and how many steps it grew.',
    note: d.growth.growing.length > sites.length ? `The ${sites.length} largest of ${formatInt(d.growth.growing.length)} growing sites; all are in the embedded JSON.` : undefined,
    options: {
      width: CHART_WIDTH,
      height: 40 + 24 * rows.length,
      marginLeft: marginFor(labels, 40, 420),
      style: CHART_STYLE,
      x: { label: 'growth (bytes) →', grid: true, domain: [0, max * 1.05 || 1], ticks: byteTicks(max), tickFormat: (n: number) => formatBytes(n) },
      y: { label: null, domain: labels },
      marks: [Plot.barX(rows, { y: 'label', x: 'growth', fill: USED_COLOUR, title: 'title' }), Plot.ruleX([0])],
    },
  };
}
