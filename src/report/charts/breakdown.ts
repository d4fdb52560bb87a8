// Bytes in arenas, split into CPython's six lines (allocated blocks … arena alignment): one stacked
// bar per input, at its dump with the most bytes in arenas.

import * as Plot from '@observablehq/plot';
import { BREAKDOWN_PARTS, PART_LABELS } from '../../analysis/fragmentation.js';
import type { ReportData } from '../data.js';
import { formatBytes, formatBytesExact, formatPercent } from '../format.js';
import { CHART_WIDTH, PART_COLOURS, joinNotes, CHART_STYLE, byteTicks, marginFor, shortPath, type ChartSpec } from './spec.js';

/** More bars than this make the chart unreadable; the largest are kept. */
export const MAX_BREAKDOWN_BARS = 40;

interface Segment {
  bar: string;
  part: string;
  bytes: number;
  title: string;
}

export function breakdownChart(peaks: ReportData['peaks']): ChartSpec | null {
  if (peaks.length === 0) return null;
  const shown = [...peaks]
    .sort((a, b) => (b.breakdown.total ?? 0) - (a.breakdown.total ?? 0) || a.seq - b.seq)
    .slice(0, MAX_BREAKDOWN_BARS)
    .sort((a, b) => a.seq - b.seq);
  const bars = shown.map((p) => `#${p.fileIndex + 1} ${shortPath(p.file, 38)} · dump ${p.dump + 1}`);
  const segments: Segment[] = shown.flatMap((p, i) =>
    p.breakdown.parts
      .filter((part) => part.bytes !== null && part.bytes > 0)
      .map((part) => ({
        bar: bars[i]!,
        part: part.label,
        bytes: part.bytes!,
        title:
          `${p.file}, dump ${p.dump + 1} (line ${p.line})\n${part.label}: ${formatBytesExact(part.bytes)}` +
          ` = ${formatPercent(p.breakdown.total ? part.bytes! / p.breakdown.total : null)} of ${formatBytesExact(p.breakdown.total)}` +
          (part.source === 'derived' ? '\n(derived: not printed in the dump)' : ''),
      })),
  );
  const marginLeft = marginFor(bars, 40, 400);
  return {
    id: 'breakdown',
    title: 'Where the bytes in arenas go',
    howToRead:
      'Each bar is all the memory pymalloc holds in arenas; only the dark blue part holds live objects, everything else is reserved but not in use.',
    note: joinNotes([
      shown.length < peaks.length ? `Showing the ${shown.length} inputs with the most bytes in arenas, of ${peaks.length}.` : '',
      ...new Set(shown.flatMap((p) => p.breakdown.notes.map((n) => n[0]!.toUpperCase() + n.slice(1)))),
    ]),
    options: {
      width: CHART_WIDTH,
      height: 90 + (bars.length > 8 ? 24 : 34) * bars.length,
      marginBottom: 44,
      marginLeft,
      marginRight: 24,
      style: CHART_STYLE,
      x: { label: 'bytes in arenas →', labelAnchor: 'center', ticks: byteTicks(Math.max(0, ...shown.map((p) => p.breakdown.total ?? 0))), tickFormat: formatBytes, grid: true },
      y: { label: null, domain: bars },
      color: {
        legend: true,
        domain: BREAKDOWN_PARTS.map((p) => PART_LABELS[p]),
        range: BREAKDOWN_PARTS.map((p) => PART_COLOURS[p]),
      },
      marks: [
        Plot.barX(segments, { x: 'bytes', y: 'bar', fill: 'part', title: 'title', order: BREAKDOWN_PARTS.map((p) => PART_LABELS[p]) }),
        Plot.ruleX([0]),
      ],
    },
  };
}
