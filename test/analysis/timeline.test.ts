import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildTimeline, classPoolCells, downsampleExtremes, timelinePoints } from '../../src/analysis/timeline.js';
import { parseMallocStats } from '../../src/ingest/malloc-stats.js';
import { mallocStatsFixtures } from '../helpers/fixtures.js';
import { printedTotals } from '../helpers/printed-values.js';

const streams = mallocStatsFixtures().filter((f) => f.truth.kind === 'pythonmallocstats');
const read = (txt: string, file: string) => ({ file, dumps: parseMallocStats(readFileSync(txt, 'utf8'), { file }).dumps });

describe('timeline of a PYTHONMALLOCSTATS stream', () => {
  it('has streams of several versions to test', () => {
    expect(streams.length).toBeGreaterThanOrEqual(6);
  });

  it.each(streams.map((f) => [f.name, f] as const))('%s: one point per dump with the printed arenas and totals', (_, f) => {
    const points = timelinePoints([read(f.txt, f.name)]);
    expect(points).toHaveLength(f.truth.dumps.length);
    f.truth.dumps.forEach((truth, i) => {
      const printed = printedTotals(truth.printed);
      expect(points[i]).toMatchObject({
        seq: i,
        dump: i,
        line: truth.line,
        arenasCurrent: printed.arenasCurrent,
        arenasHighwater: printed.arenasHighwater,
        allocatedBytes: printed.allocated,
        arenaBytes: printed.total,
      });
    });
  });

  it.each(streams.map((f) => [f.name, f] as const))('%s: pools per size class as printed, one column per dump', (_, f) => {
    const { dumps } = read(f.txt, f.name);
    const { cells, bucketed } = classPoolCells(dumps, 1000);
    expect(bucketed).toBe(false);
    const expected = f.truth.dumps.flatMap((t, i) =>
      t.printed.classes.filter(([, , pools]) => pools > 0).map(([, size, pools, inUse, avail]) => ({ seqStart: i, seqEnd: i, size, pools, freeShare: avail / (inUse + avail) })),
    );
    expect(cells).toEqual(expected);
  });

  it('spans several files in order and marks where each starts', () => {
    const [a, b] = streams;
    const t = buildTimeline([read(a!.txt, 'a'), read(b!.txt, 'b')]);
    expect(t.dumpCount).toBe(a!.truth.dumps.length + b!.truth.dumps.length);
    expect(t.fileStarts).toEqual([
      { seq: 0, fileIndex: 0, file: 'a' },
      { seq: a!.truth.dumps.length, fileIndex: 1, file: 'b' },
    ]);
    expect(t.points.at(-1)!.fileIndex).toBe(1);
    expect(t.downsampled).toBe(false);
  });

  it('downsamples a long stream keeping the extremes, and says so', () => {
    // A long real stream: the same stream read 300 times in a row.
    const f = streams.find((s) => s.name.includes('3.6'))!;
    const one = read(f.txt, f.name);
    const inputs = Array.from({ length: 300 }, (_, i) => ({ file: `${i}.txt`, dumps: one.dumps }));
    const t = buildTimeline(inputs, 500, 50);
    const total = one.dumps.length * 300;
    expect(t.dumpCount).toBe(total);
    expect(t.downsampled).toBe(true);
    expect(t.points.length).toBeLessThanOrEqual(500);
    const printedMax = Math.max(...f.truth.dumps.map((d) => printedTotals(d.printed).arenasCurrent!));
    expect(Math.max(...t.points.map((p) => p.arenasCurrent ?? 0))).toBe(printedMax);
    expect(t.points[0]!.seq).toBe(0);
    expect(t.points.at(-1)!.seq).toBe(total - 1);
    expect(t.classPoolsBucketed).toBe(true);
    expect(new Set(t.classPools.map((c) => c.seqStart)).size).toBeLessThanOrEqual(50);
  });
});

describe('downsampleExtremes', () => {
  it('keeps order, the first and last item, and every series minimum and maximum', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null }), fc.integer({ min: 0, max: 50 })), { minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 8, max: 400 }),
        (rows, maxPoints) => {
          const items = rows.map(([a, b], i) => ({ i, a, b }));
          const series = [(x: (typeof items)[number]) => x.a, (x: (typeof items)[number]) => x.b];
          const { items: kept, downsampled } = downsampleExtremes(items, maxPoints, series);
          expect(downsampled).toBe(items.length > maxPoints);
          expect(kept.length).toBeLessThanOrEqual(Math.max(maxPoints, items.length <= maxPoints ? items.length : 0));
          expect(kept.map((x) => x.i)).toEqual([...kept.map((x) => x.i)].sort((p, q) => p - q));
          expect(kept[0]).toBe(items[0]);
          expect(kept.at(-1)).toBe(items.at(-1));
          for (const f of series) {
            const values = items.map(f).filter((v): v is number => v !== null);
            const keptValues = kept.map(f).filter((v): v is number => v !== null);
            if (values.length) {
              expect(Math.max(...keptValues)).toBe(Math.max(...values));
              expect(Math.min(...keptValues)).toBe(Math.min(...values));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the first item firstOf holds for, within the bound', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.boolean()), { minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 8, max: 400 }),
        (rows, maxPoints) => {
          const items = rows.map(([a, flagged], i) => ({ i, a, flagged }));
          const { items: kept } = downsampleExtremes(items, maxPoints, [(x) => x.a], (x) => x.flagged);
          expect(kept.length).toBeLessThanOrEqual(Math.max(maxPoints, items.length <= maxPoints ? items.length : 0));
          expect(new Set(kept).size).toBe(kept.length);
          expect(kept.map((x) => x.i)).toEqual([...kept.map((x) => x.i)].sort((p, q) => p - q));
          const first = items.find((x) => x.flagged);
          if (first) expect(kept).toContain(first);
          expect(Math.max(...kept.map((x) => x.a))).toBe(Math.max(...items.map((x) => x.a)));
          expect(Math.min(...kept.map((x) => x.a))).toBe(Math.min(...items.map((x) => x.a)));
        },
      ),
      { numRuns: 200 },
    );
  });
});
