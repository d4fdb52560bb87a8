// Per size class of one dump: what is in use and what is free, in bytes and in blocks. A tall free
// part next to a small used part is a class whose pools are mostly empty: fragmentation.

import * as Plot from '@observablehq/plot';
import type { SizeClassUse } from '../../analysis/fragmentation.js';
import type { ReportData } from '../data.js';
import { formatBytes, formatBytesExact, formatInt, formatPercent } from '../format.js';
import { CHART_STYLE, CHART_WIDTH, FREE_COLOUR, USED_COLOUR, byteTicks, type ChartSpec } from './spec.js';

interface Bar {
  size: string;
  kind: string;
  value: number;
  title: string;
}

type Focus = NonNullable<ReportData['focus']>;

function describe(focus: Focus): string {
  return `${focus.file}, dump ${focus.dump + 1} (line ${focus.line})`;
}

function tooltip(c: SizeClassUse): string {
  return (
    `size class ${c.index}: ${c.size}-byte blocks in ${formatInt(c.pools)} pools\n` +
    `in use: ${formatInt(c.blocksInUse)} blocks = ${formatBytesExact(c.usedBytes)}\n` +
    `available: ${formatInt(c.availBlocks)} blocks = ${formatBytesExact(c.freeBytes)}\n` +
    `fragmentation: ${formatPercent(c.fragmentation)}`
  );
}

function classChart(
  focus: Focus,
  id: string,
  title: string,
  howToRead: string,
  unit: { used: string; free: string; label: string; format: (n: number) => string; ticks?: (max: number) => number[] },
  pick: (c: SizeClassUse) => [number, number],
): ChartSpec | null {
  const classes = focus.fragmentation.classes;
  if (classes.length === 0) return null;
  const bars: Bar[] = classes.flatMap((c) => {
    const [used, free] = pick(c);
    const title = tooltip(c);
    return [
      { size: String(c.size), kind: unit.used, value: used, title },
      { size: String(c.size), kind: unit.free, value: free, title },
    ];
  });
  return {
    id,
    title: `${title} — ${describe(focus)}`,
    howToRead,
    options: {
      width: CHART_WIDTH,
      height: 340,
      marginLeft: 84,
      marginBottom: classes.length > 32 ? 52 : 40,
      x: { label: 'size class (bytes per block) →', domain: classes.map((c) => String(c.size)), tickRotate: classes.length > 32 ? -90 : 0 },
      style: CHART_STYLE,
      y: { label: unit.label, ticks: unit.ticks?.(Math.max(0, ...classes.map((c) => pick(c)[0] + pick(c)[1]))), tickFormat: unit.format, grid: true },
      color: { legend: true, domain: [unit.used, unit.free], range: [USED_COLOUR, FREE_COLOUR] },
      marks: [
        Plot.barY(bars, { x: 'size', y: 'value', fill: 'kind', title: 'title', order: [unit.used, unit.free], insetLeft: 1, insetRight: 1 }),
        Plot.ruleY([0]),
      ],
    },
  };
}

export function sizeClassBytesChart(focus: Focus | null): ChartSpec | null {
  if (!focus) return null;
  return classChart(
    focus,
    'size-class-bytes',
    'Bytes per size class',
    'Each bar is the blocks of one size class in its pools: dark blue bytes hold live objects, light blue bytes are free blocks waiting for reuse.',
    { used: 'allocated blocks', free: 'available blocks', label: '↑ bytes', format: formatBytes, ticks: (max) => byteTicks(max) },
    (c) => [c.usedBytes, c.freeBytes],
  );
}

export function sizeClassBlocksChart(focus: Focus | null): ChartSpec | null {
  if (!focus) return null;
  return classChart(
    focus,
    'size-class-blocks',
    'Blocks per size class',
    'The same classes counted in blocks: the number of objects of each size class alive (dark) and the free slots beside them (light).',
    { used: 'blocks in use', free: 'avail blocks', label: '↑ blocks', format: (n) => formatInt(n) },
    (c) => [c.blocksInUse, c.availBlocks],
  );
}
