// How arenas, bytes and pools evolve over the dumps, in reading order (x = dump number over all
// inputs, or the time since the first dump when a log collector stamped every one of them). Lines
// are drawn from the timeline's points, which are downsampled with extremes kept when there are
// many dumps; the chart says so.

import * as Plot from '@observablehq/plot';
import type { ClassPoolsCell, Timeline, TimelinePoint } from '../../analysis/timeline.js';
import { formatBytes, formatBytesExact, formatInt, formatPercent } from '../format.js';
import { CHART_STYLE, CHART_WIDTH, USED_COLOUR, byteTicks, countThresholds, dumpTicks, joinNotes, rampColours, type ChartSpec } from './spec.js';

/** More input files than this get no boundary rules. */
export const MAX_FILE_RULES = 20;

interface LinePoint {
  x: number;
  series: string;
  /** Series and input file: a line never joins the last dump of one file to the first of the next. */
  z: string;
  value: number | null;
  title: string;
}

function where(p: TimelinePoint, files: Timeline['fileStarts']): string {
  return `${files[p.fileIndex]?.file ?? ''}, dump ${p.dump + 1} (line ${p.line})${p.atSeconds !== undefined ? `, ${p.atSeconds.toFixed(3)} s after the first` : ''}`;
}

/** Time on x, in a unit that suits the span: the dumps' stamps (Timeline.clock). */
function timeAxis(span: number): { unit: number; label: string } {
  return span >= 3 * 3600 ? { unit: 3600, label: 'hours since the first dump →' } : span >= 600 ? { unit: 60, label: 'minutes since the first dump →' } : { unit: 1, label: 'seconds since the first dump →' };
}

function downsampleNote(t: Timeline): string {
  return t.downsampled
    ? `Downsampled: ${formatInt(t.points.length)} of ${formatInt(t.dumpCount)} dumps drawn, keeping the first, last, smallest and largest values of every bucket.`
    : '';
}

function downsampleMark(t: Timeline): Plot.Markish[] {
  if (!t.downsampled) return [];
  return [Plot.text([`downsampled: ${formatInt(t.points.length)} of ${formatInt(t.dumpCount)} dumps drawn, extremes kept`], { frameAnchor: 'top-right', dy: -14, fill: '#555' })];
}

/** Dashed rules where a new input file starts, when there are several. */
function fileMarks(t: Timeline): Plot.Markish[] {
  // Past a score of files the rules would hide the data; the per-dump table still tells the files apart.
  if (t.fileStarts.length < 2 || t.fileStarts.length > MAX_FILE_RULES) return [];
  return [Plot.ruleX(t.fileStarts.slice(1), { x: (f: Timeline['fileStarts'][number]) => f.seq + 0.5, stroke: '#999', strokeDasharray: '3,3', title: (f: Timeline['fileStarts'][number]) => `start of ${f.file}` })];
}

interface Series {
  name: string;
  colour: string;
  /** Wider lines go under narrower ones, so two equal series both stay visible. */
  width: number;
  value: (p: TimelinePoint) => number | null;
  format: (n: number | null) => string;
}

function lineChart(
  t: Timeline,
  id: string,
  title: string,
  howToRead: string,
  series: Series[],
  y: { label: string; tickFormat: (n: number) => string; ticks?: (max: number) => number[] },
  curve: 'step-after' | 'linear',
): ChartSpec | null {
  // Over time when every dump was stamped by a log collector, else over the dump numbers.
  const clock = t.clock ? timeAxis(t.clock.span) : undefined;
  const rowsOf = (s: Series): LinePoint[] =>
    t.points.map((p) => ({ x: clock ? p.atSeconds! / clock.unit : p.seq + 1, series: s.name, z: `${s.name}|${p.fileIndex}`, value: s.value(p), title: `${where(p, t.fileStarts)}\n${s.name}: ${s.format(s.value(p))}` }));
  const all = series.map(rowsOf);
  const values = all.flat().flatMap((r) => (r.value === null ? [] : [r.value]));
  if (values.length === 0) return null;
  const dots = t.points.length <= 60;
  return {
    id,
    title,
    howToRead,
    note: joinNotes([downsampleNote(t)]),
    options: {
      width: CHART_WIDTH,
      height: 320,
      marginLeft: 84,
      marginTop: 34,
      marginBottom: 44,
      style: CHART_STYLE,
      x: clock
        ? { label: clock.label, labelAnchor: 'center', domain: [0, t.clock!.span / clock.unit], nice: true }
        : { label: 'dump number →', labelAnchor: 'center', domain: [1, t.dumpCount], ticks: dumpTicks(t.dumpCount), tickFormat: (n: number) => (Number.isInteger(n) ? formatInt(n) : '') },
      y: { label: y.label, ticks: y.ticks?.(Math.max(...values)), tickFormat: y.tickFormat, grid: true, zero: true },
      color: { legend: true, domain: series.map((s) => s.name), range: series.map((s) => s.colour) },
      marks: [
        ...(clock ? [] : fileMarks(t)),
        ...series.map((s, i) => Plot.line(all[i]!, { x: 'x', y: 'value', stroke: 'series', z: 'z', curve, strokeWidth: s.width })),
        ...(dots ? series.map((s, i) => Plot.dot(all[i]!, { x: 'x', y: 'value', fill: 'series', r: 2.5 })) : []),
        // Transparent targets so every drawn point has a tooltip, dots or not.
        Plot.dot(all.flat(), { x: 'x', y: 'value', r: 6, fill: 'white', fillOpacity: 0, title: 'title' }),
        ...downsampleMark(t),
      ],
    },
  };
}

export function arenasChart(t: Timeline | null): ChartSpec | null {
  if (!t) return null;
  return lineChart(
    t,
    'arenas',
    'Arenas over the dumps',
    'The blue line counts the arenas allocated at each dump, the wide orange one the most ever allocated at once; where blue drops below orange, arenas were returned to the system.',
    [
      { name: 'arenas highwater mark', colour: '#ec8c4c', width: 6, value: (p) => p.arenasHighwater, format: formatInt },
      { name: 'arenas allocated current', colour: USED_COLOUR, width: 2, value: (p) => p.arenasCurrent, format: formatInt },
    ],
    { label: '↑ arenas', tickFormat: (n) => (Number.isInteger(n) ? formatInt(n) : '') },
    'step-after',
  );
}

export function bytesChart(t: Timeline | null): ChartSpec | null {
  if (!t) return null;
  return lineChart(
    t,
    'bytes',
    'Allocated versus reserved bytes over the dumps',
    'The upper line is what the arenas reserve from the system, the lower what live blocks use; the space between them is memory held but unused.',
    [
      { name: 'bytes in arenas', colour: '#7fa7d9', width: 3, value: (p) => p.arenaBytes, format: formatBytesExact },
      { name: 'bytes in allocated blocks', colour: USED_COLOUR, width: 2, value: (p) => p.allocatedBytes, format: formatBytesExact },
    ],
    { label: '↑ bytes', tickFormat: formatBytes, ticks: (max) => byteTicks(max) },
    'linear',
  );
}

/**
 * A size class × dump heatmap: one bar per class per dump (or bucket of dumps), coloured by
 * `value` in threshold bins. Shared by the pools and the fragmentation heatmaps.
 */
function classHeatmap(
  t: Timeline,
  cells: readonly ClassPoolsCell[],
  spec: { id: string; title: string; howToRead: string; bucketNote: string; value: (c: ClassPoolsCell) => number; describe: (c: ClassPoolsCell) => string },
  color: { domain: number[]; label: string; tickFormat?: (x: number) => string },
): ChartSpec {
  const sizes = [...new Set(cells.map((c) => c.size))].sort((a, b) => a - b).map(String);
  const bars = cells.map((c) => ({
    // Centre each column on its dump number so the axis ticks sit in the middle of their column.
    x1: c.seqStart + 0.5,
    x2: c.seqEnd + 1.5,
    size: String(c.size),
    value: spec.value(c),
    title: (c.seqStart === c.seqEnd ? `dump ${formatInt(c.seqStart + 1)}` : `dumps ${formatInt(c.seqStart + 1)}–${formatInt(c.seqEnd + 1)} (largest)`) + `\n${c.size}-byte size class: ${spec.describe(c)}`,
  }));
  return {
    id: spec.id,
    title: spec.title,
    howToRead: spec.howToRead,
    note: joinNotes([t.classPoolsBucketed ? `Each column stands for several consecutive dumps and shows ${spec.bucketNote} among them (${formatInt(t.dumpCount)} dumps in all).` : '']),
    options: {
      width: CHART_WIDTH,
      height: 80 + 15 * sizes.length,
      marginBottom: 44,
      marginLeft: 84,
      style: CHART_STYLE,
      x: { label: 'dump number →', labelAnchor: 'center', domain: [0.5, t.dumpCount + 0.5], ticks: dumpTicks(t.dumpCount), tickFormat: (n: number) => (Number.isInteger(n) ? formatInt(n) : '') },
      y: { label: 'size class (bytes) ↓', domain: sizes },
      // Binned colours: a continuous legend needs a canvas, which jsdom lacks, and bins read easier.
      color: { type: 'threshold', domain: color.domain, range: rampColours(color.domain.length + 1), legend: true, label: color.label, ...(color.tickFormat ? { tickFormat: color.tickFormat } : {}) },
      marks: [...(t.classPoolsBucketed ? [] : fileMarks(t)), Plot.barX(bars, { x1: 'x1', x2: 'x2', y: 'size', fill: 'value', title: 'title', inset: 0 })],
    },
  };
}

export function classPoolsChart(t: Timeline | null): ChartSpec | null {
  if (!t || t.classPools.length === 0) return null;
  const thresholds = countThresholds(Math.max(...t.classPools.map((c) => c.pools)));
  if (thresholds.length === 0) thresholds.push(2);
  return classHeatmap(
    t,
    t.classPools,
    {
      id: 'class-pools',
      title: 'Pools per size class over the dumps',
      howToRead: 'Each row is a size class and each column a dump; the darker the cell, the more pools that class held. Blank means no pool.',
      bucketNote: 'the largest pool count',
      value: (c) => c.pools,
      describe: (c) => `${formatInt(c.pools)} pools`,
    },
    { domain: thresholds, label: 'pools (colour bins)' },
  );
}

/** Colour bins of a class's free-block share: most classes sit low; the top bins are the ones to fix. */
const FREE_SHARE_BINS = [0.1, 0.25, 0.5, 0.75, 0.9];

export function classFragmentationChart(t: Timeline | null): ChartSpec | null {
  const withShare = t?.classPools.filter((c) => c.freeShare !== null) ?? [];
  if (!t || withShare.length === 0) return null;
  return classHeatmap(
    t,
    withShare,
    {
      id: 'class-fragmentation',
      title: 'Fragmentation per size class over the dumps',
      howToRead:
        'Each row is a size class and each column a dump; the colour is the share of the class’s carved blocks that are free (available blocks ÷ (in use + available)). Dark cells that stay dark are classes whose pools are held by a few live blocks; blank means no pool.',
      bucketNote: 'the largest share',
      value: (c) => c.freeShare!,
      describe: (c) => `${formatPercent(c.freeShare!)} of its carved blocks free (${formatInt(c.pools)} pools)`,
    },
    { domain: FREE_SHARE_BINS, label: 'free share of carved blocks', tickFormat: (x: number) => formatPercent(x, 0) },
  );
}
