import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyseDump, arenaBreakdown, poolGeometry } from '../../src/analysis/fragmentation.js';
import { parseMallocStats } from '../../src/ingest/malloc-stats.js';
import type { MallocStats } from '../../src/model/types.js';
import { mallocStatsFixtures, type MallocStatsFixture } from '../helpers/fixtures.js';
import { printedTotals } from '../helpers/printed-values.js';

const fixtures = mallocStatsFixtures();
const pick = (version: string, name: string): MallocStatsFixture => {
  const f = fixtures.find((x) => x.name.includes(`/${version}`) && x.name.endsWith(`/${name}.txt`));
  if (!f) throw new Error(`no fixture ${version}/${name}`);
  return f;
};
const parse = (f: MallocStatsFixture): MallocStats[] => parseMallocStats(readFileSync(f.txt, 'utf8'), { file: f.name }).dumps;

/** Every (parsed dump, ground truth) pair of every fixture where CPython printed the pymalloc section. */
const pymallocPairs = fixtures.flatMap((f) => {
  const dumps = parse(f);
  return f.truth.dumps.flatMap((truth, i) => {
    const d = dumps[i];
    return d && d.allocator === 'pymalloc' && truth.printed.values.length > 0 ? [{ name: `${f.name} dump ${i + 1}`, dump: d, truth }] : [];
  });
});

describe('arena breakdown against what CPython printed', () => {
  it('covers dumps of every pymalloc version in the fixtures', () => {
    const versions = new Set(pymallocPairs.map((p) => p.name.split('/')[2]!.split('-')[0]));
    expect(versions.size).toBeGreaterThanOrEqual(8);
  });

  it.each(pymallocPairs.map((p) => [p.name, p] as const))('%s: parts are the printed lines and sum to the printed Total', (_, { dump, truth }) => {
    const printed = printedTotals(truth.printed);
    const b = analyseDump(dump).breakdown!;
    const part = (name: string) => b.parts.find((p) => p.part === name)!;
    expect(part('usedBlocks').bytes).toBe(printed.allocated);
    expect(part('freeBlocks').bytes).toBe(printed.available);
    expect(part('unusedPools').bytes).toBe(printed.unusedPools);
    expect(part('poolHeaders').bytes).toBe(printed.poolHeaders);
    expect(part('quantization').bytes).toBe(printed.quantization);
    expect(part('arenaAlignment').bytes).toBe(printed.arenaAlignment);
    expect(b.parts.every((p) => p.source === 'printed')).toBe(true);
    expect(b.total).toBe(printed.total);
    expect(b.parts.reduce((s, p) => s + p.bytes!, 0)).toBe(printed.total);
    expect(b.discrepancy).toBe(0);
  });

  it.each(pymallocPairs.map((p) => [p.name, p] as const))('%s: per-class bytes are blocks × size as printed', (_, { dump, truth }) => {
    const printed = printedTotals(truth.printed);
    const f = analyseDump(dump);
    expect(f.classes.map((c) => [c.index, c.size, c.pools, c.blocksInUse, c.availBlocks])).toEqual(truth.printed.classes);
    for (const [i, [, size, , inUse, avail]] of truth.printed.classes.entries()) {
      expect(f.classes[i]!.usedBytes).toBe(inUse * size);
      expect(f.classes[i]!.freeBytes).toBe(avail * size);
    }
    // CPython's own sums: "# bytes in allocated blocks" and "# bytes in available blocks".
    expect(f.classes.reduce((s, c) => s + c.usedBytes, 0)).toBe(printed.allocated);
    expect(f.classes.reduce((s, c) => s + c.freeBytes, 0)).toBe(printed.available);
    // Wasted bytes of all classes = everything in carved pools that is not a live block.
    expect(f.classes.reduce((s, c) => s + c.wastedBytes, 0)).toBe(printed.available! + printed.poolHeaders! + printed.quantization!);
    if (printed.total! > 0) {
      expect(f.overallFragmentation).toBeCloseTo((printed.total! - printed.allocated!) / printed.total!, 12);
      const wastedAll = printed.total! - printed.allocated!;
      for (const c of f.classes) expect(c.wasteShare).toBeCloseTo(c.wastedBytes / wastedAll, 12);
    } else {
      expect(f.overallFragmentation).toBeNull();
    }
  });

  it('ranks size classes by wasted bytes, most first', () => {
    const { dump } = pymallocPairs.find((p) => p.name.includes('3.11.7') && p.name.includes('tuple-fragmentation') && p.name.endsWith('dump 3'))!;
    const f = analyseDump(dump);
    expect(f.ranking.length).toBeGreaterThan(0);
    const sorted = [...f.classes].sort((a, b) => b.wastedBytes - a.wastedBytes).slice(0, f.ranking.length);
    expect(f.ranking.map((c) => c.wastedBytes)).toEqual(sorted.map((c) => c.wastedBytes));
    for (const c of f.ranking) expect(c.fragmentation).toBeCloseTo(c.freeBytes / (c.usedBytes + c.freeBytes), 12);
  });
});

describe('derived values when a dump lacks printed lines', () => {
  // A real dump with its summary lines removed: derivation must give back what CPython printed.
  const { dump, truth } = pymallocPairs.find((p) => p.name.includes('3.11.7') && p.name.includes('dict-churn') && p.name.endsWith('dump 3'))!;
  const printed = printedTotals(truth.printed);

  it('derives pool headers, quantization and the total from the class table and geometry', () => {
    const stripped: MallocStats = { ...dump, totals: { unusedPoolBytes: dump.totals!.unusedPoolBytes, bytesLostToArenaAlignment: dump.totals!.bytesLostToArenaAlignment } };
    const b = arenaBreakdown(stripped, poolGeometry(stripped));
    const part = (name: string) => b.parts.find((p) => p.part === name)!;
    expect(part('usedBlocks')).toMatchObject({ bytes: printed.allocated, source: 'derived' });
    expect(part('freeBlocks')).toMatchObject({ bytes: printed.available, source: 'derived' });
    expect(part('poolHeaders')).toMatchObject({ bytes: printed.poolHeaders, source: 'derived' });
    expect(part('quantization')).toMatchObject({ bytes: printed.quantization, source: 'derived' });
    expect(part('unusedPools')).toMatchObject({ bytes: printed.unusedPools, source: 'printed' });
    expect(b.total).toBe(printed.total);
    expect(b.totalSource).toBe('derived');
    expect(b.discrepancy).toBe(0);
    expect(b.notes.join(' ')).toMatch(/derived/);
  });

  it('derives the one missing part as the remainder of the total', () => {
    const t = { ...dump.totals! };
    delete t.bytesLostToArenaAlignment;
    const b = arenaBreakdown({ ...dump, totals: t }, poolGeometry(dump));
    expect(b.parts.find((p) => p.part === 'arenaAlignment')).toMatchObject({ bytes: printed.arenaAlignment, source: 'derived' });
  });

  it('lumps unused pools and arena alignment together when neither was printed, and says so', () => {
    const t = { ...dump.totals! };
    delete t.bytesLostToArenaAlignment;
    delete t.unusedPoolBytes;
    delete t.unusedPools;
    const b = arenaBreakdown({ ...dump, totals: t }, poolGeometry(dump));
    expect(b.parts.find((p) => p.part === 'unusedPools')).toMatchObject({ bytes: printed.unusedPools! + printed.arenaAlignment!, source: 'derived' });
    expect(b.parts.find((p) => p.part === 'arenaAlignment')).toMatchObject({ bytes: null, source: 'unknown' });
    expect(b.notes.join(' ')).toMatch(/include the bytes lost to arena alignment/);
  });

  it('reads a real dump cut off in its arena summary', () => {
    const f = pick('3.11', 'tuple-fragmentation');
    const lines = readFileSync(f.txt, 'utf8').split('\n');
    const end = lines.findIndex((l) => l.startsWith('# bytes in available blocks'));
    const cut = parseMallocStats(`${lines.slice(0, end + 1).join('\n')}\n`, { file: 'cut.txt' });
    const d = cut.dumps[0]!;
    const printed = printedTotals(f.truth.dumps[0]!.printed);
    const fr = analyseDump(d);
    const part = (name: string) => fr.breakdown!.parts.find((p) => p.part === name)!;
    expect(part('usedBlocks').bytes).toBe(printed.allocated);
    expect(part('poolHeaders').bytes).toBe(printed.poolHeaders);
    expect(part('quantization').bytes).toBe(printed.quantization);
    expect(fr.breakdown!.total).toBe(printed.total);
    expect(part('unusedPools').bytes).toBe(printed.unusedPools! + printed.arenaAlignment!);
    expect(fr.breakdown!.notes.join(' ')).toMatch(/cut off/);
  });
});

describe('dumps without a pymalloc section', () => {
  it('mimalloc: no breakdown, no classes, and a note saying why', () => {
    const [d] = parse(pick('3.13', 'mimalloc-dump'));
    expect(d!.allocator).toBe('mimalloc');
    const f = analyseDump(d!);
    expect(f.breakdown).toBeUndefined();
    expect(f.classes).toEqual([]);
    expect(f.overallFragmentation).toBeNull();
    expect(f.note).toMatch(/mimalloc/);
  });

  it('free lists only (tracemalloc hides the allocator section): a note saying why', () => {
    const [d] = parse(pick('3.12', 'tracemalloc-dump'));
    expect(d!.allocator).toBe('none');
    const f = analyseDump(d!);
    expect(f.breakdown).toBeUndefined();
    expect(f.note).toMatch(/free-list only/);
  });
});
