import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMallocStats } from '../../src/ingest/malloc-stats.js';
import { breakdownChart } from '../../src/report/charts/breakdown.js';
import { arenasChart, bytesChart, classPoolsChart } from '../../src/report/charts/evolution.js';
import { sizeClassBlocksChart, sizeClassBytesChart } from '../../src/report/charts/size-classes.js';
import { byteTicks, countThresholds } from '../../src/report/charts/spec.js';
import { buildReportData, reportCharts } from '../../src/report/index.js';
import { mallocStatsFixtures } from '../helpers/fixtures.js';
import { printedTotals } from '../helpers/printed-values.js';

const fixtures = mallocStatsFixtures();
const pick = (version: string, name: string) => fixtures.find((f) => f.name.includes(`/${version}`) && f.name.endsWith(`/${name}.txt`))!;
const input = (f: ReturnType<typeof pick>) => {
  const r = parseMallocStats(readFileSync(f.txt, 'utf8'), { file: f.name });
  return { file: f.name, dumps: r.dumps, warnings: r.warnings };
};

/** The data array of a chart's n-th mark (Plot marks keep it as `.data`). */
const markData = (marks: unknown, n: number) => ((marks as { data: unknown }[])[n]!.data as Record<string, unknown>[]);

describe('charts', () => {
  const f = pick('3.12', 'tuple-fragmentation');
  const data = buildReportData([input(f)]);

  it('every chart has an id, a title and a one-line "how to read this"', () => {
    const charts = reportCharts(data);
    expect(charts.map((c) => c.id)).toEqual(['breakdown', 'size-class-bytes', 'size-class-blocks', 'arenas', 'bytes', 'class-pools', 'class-fragmentation']);
    for (const c of charts) {
      expect(c.title.length).toBeGreaterThan(5);
      expect(c.howToRead.length).toBeGreaterThan(20);
      expect(c.howToRead).not.toContain('\n');
    }
  });

  it('breakdown bar segments add up to the printed Total of the dump shown', () => {
    const chart = breakdownChart(data.peaks)!;
    const peak = data.peaks[0]!;
    const printed = printedTotals(f.truth.dumps[peak.dump]!.printed);
    const segments = markData(chart.options.marks, 0);
    expect(segments.reduce((s, x) => s + (x.bytes as number), 0)).toBe(printed.total);
    expect(segments.find((x) => x.part === 'allocated blocks')!.bytes).toBe(printed.allocated);
  });

  it('size-class bars are the printed blocks and blocks × size', () => {
    const truth = f.truth.dumps[data.focus!.dump]!.printed;
    const bytes = markData(sizeClassBytesChart(data.focus)!.options.marks, 0);
    const blocks = markData(sizeClassBlocksChart(data.focus)!.options.marks, 0);
    for (const [, size, , inUse, avail] of truth.classes) {
      expect(bytes.find((b) => b.size === String(size) && b.kind === 'allocated blocks')!.value).toBe(inUse * size);
      expect(bytes.find((b) => b.size === String(size) && b.kind === 'available blocks')!.value).toBe(avail * size);
      expect(blocks.find((b) => b.size === String(size) && b.kind === 'blocks in use')!.value).toBe(inUse);
      expect(blocks.find((b) => b.size === String(size) && b.kind === 'avail blocks')!.value).toBe(avail);
    }
  });

  it('evolution charts draw the printed arenas per dump', () => {
    const chart = arenasChart(data.timeline)!;
    const isCurrent = (r: { series: string }) => r.series === 'arenas allocated current';
    const line = (chart.options.marks as unknown as { data: { series: string; value: number }[] }[]).find((m) => Array.isArray(m.data) && m.data.some(isCurrent))!;
    const current = line.data.filter(isCurrent);
    expect(current.map((r) => r.value)).toEqual(f.truth.dumps.map((d) => printedTotals(d.printed).arenasCurrent));
    expect(bytesChart(data.timeline)).not.toBeNull();
    expect(classPoolsChart(data.timeline)).not.toBeNull();
  });

  it('a single dump has no evolution charts; mimalloc has no pymalloc charts', () => {
    const one = buildReportData([input(pick('3.13', 'mimalloc-dump'))]);
    expect(one.timeline).toBeNull();
    expect(reportCharts(one)).toEqual([]);
  });
});

describe('axis helpers', () => {
  it('byte ticks fall on round binary amounts', () => {
    expect(byteTicks(33_554_432)).toEqual([0, 5, 10, 15, 20, 25, 30].map((m) => m * 1024 * 1024));
    expect(byteTicks(3000)).toEqual([0, 1024, 2048]);
    expect(byteTicks(0)).toEqual([0]);
  });

  it('pool-count colour bins are 1-2-5 thresholds, at most six', () => {
    expect(countThresholds(3)).toEqual([2]);
    expect(countThresholds(1000).length).toBeLessThanOrEqual(6);
    expect(countThresholds(1000).every((t, i, a) => i === 0 || t > a[i - 1]!)).toBe(true);
  });
});
