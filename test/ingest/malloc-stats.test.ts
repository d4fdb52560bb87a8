import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MallocStatsReader, parseMallocStats } from '../../src/ingest/malloc-stats.js';
import { formatMallocStats } from '../../src/model/malloc-stats-text.js';
import { compareVersions } from '../../src/model/params.js';
import type { MallocStats } from '../../src/model/types.js';
import { mallocStatsFixtures, type PrintedDump } from '../helpers/fixtures.js';

const fixtures = mallocStatsFixtures();

/** Where each label CPython printed lands in the parsed dump (the test's own mapping). */
function valueOf(d: MallocStats, label: string, nth: number): number | undefined {
  const fixed: Record<string, () => number | undefined> = {
    '# arenas allocated total': () => d.arenas?.allocatedTotal,
    '# arenas reclaimed': () => d.arenas?.reclaimed,
    '# arenas highwater mark': () => d.arenas?.highwater,
    '# arenas allocated current': () => d.arenas?.current,
    '# bytes in allocated blocks': () => d.totals?.bytesInAllocatedBlocks,
    '# bytes in available blocks': () => d.totals?.bytesInAvailableBlocks,
    '# bytes lost to pool headers': () => d.totals?.bytesLostToPoolHeaders,
    '# bytes lost to quantization': () => d.totals?.bytesLostToQuantization,
    '# bytes lost to arena alignment': () => d.totals?.bytesLostToArenaAlignment,
    '# arena map mid nodes': () => d.arenaMap?.midNodes,
    '# arena map bot nodes': () => d.arenaMap?.botNodes,
    '# bytes lost to arena map root': () => d.arenaMap?.bytesLostToRoot,
    '# bytes lost to arena map mid': () => d.arenaMap?.bytesLostToMid,
    '# bytes lost to arena map bot': () => d.arenaMap?.bytesLostToBot,
    Total: () => (nth === 0 ? d.totals?.total : d.arenaMap?.total),
  };
  if (fixed[label]) return fixed[label]!();
  if (/ arenas \* \d+ bytes\/arena$/.test(label)) return d.arenas?.bytesInCurrent;
  if (/ unused pools \* \d+ bytes$/.test(label)) return d.totals?.unusedPoolBytes;
  return d.extra?.find((e) => e.label === label)?.value;
}

const MIMALLOC: Record<string, keyof NonNullable<MallocStats['mimalloc']>> = {
  'Medium block threshold': 'mediumBlockThreshold',
  'Large object max size': 'largeObjectMaxSize',
  'Allocated Blocks': 'allocatedBlocks',
  'Allocated Bytes': 'allocatedBytes',
  'Allocated Bytes w/ Overhead': 'allocatedBytesWithOverhead',
  'Bytes Reserved': 'bytesReserved',
  'Bytes Committed': 'bytesCommitted',
};

function expectDumpMatches(d: MallocStats, p: PrintedDump): void {
  if (p.mimalloc && p.mimalloc.length > 0) {
    expect(d.allocator).toBe('mimalloc');
    expect(d.mimalloc?.smallBlockThreshold).toBe(p.threshold);
    expect(d.mimalloc?.sizeClassCount).toBe(p.size_classes);
    for (const [label, value] of [...p.values, ...p.mimalloc]) expect(d.mimalloc?.[MIMALLOC[label]!], label).toBe(value);
    expect((d.freeLists ?? []).map((f) => [`${f.type}s`, f.count, f.bytesEach, f.totalBytes])).toEqual(p.free_lists);
    return;
  }
  if (p.threshold != null) {
    expect(d.smallBlockThreshold).toBe(p.threshold);
    expect(d.sizeClassCount).toBe(p.size_classes);
  }
  expect((d.classes ?? []).map((c) => [c.index, c.size, c.pools, c.blocksInUse, c.availBlocks])).toEqual(p.classes);
  const seen = new Map<string, number>();
  for (const [label, value] of p.values) {
    const nth = seen.get(label) ?? 0;
    seen.set(label, nth + 1);
    expect(valueOf(d, label, nth), label).toBe(value);
  }
  expect((d.freeLists ?? []).map((f) => [`${f.type}s`, f.count, f.bytesEach, f.totalBytes])).toEqual(p.free_lists);
}

describe('malloc-stats ingester on every real fixture', () => {
  it('has fixtures of every pymalloc CPython 3.6–3.13', () => {
    const versions = new Set(fixtures.map((f) => f.truth.python.version_info.slice(0, 2).join('.')));
    for (const v of ['3.6', '3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13']) expect(versions).toContain(v);
  });

  for (const f of fixtures) {
    describe(f.name, () => {
      const text = readFileSync(f.txt, 'utf8');
      const result = parseMallocStats(text, { file: f.name });
      const [maj, min] = f.truth.python.version_info;
      const version = `${maj}.${min}`;

      it('finds every dump CPython printed, at its line, with its numbers', () => {
        expect(result.dumps.map((d) => d.line)).toEqual(f.truth.dumps.map((d) => d.line));
        result.dumps.forEach((d, i) => expectDumpMatches(d, f.truth.dumps[i]!.printed));
      });

      it('reads a real dump without warnings', () => {
        expect(result.warnings.filter((w) => w.severity !== 'info')).toEqual([]);
        expect(result.dumps.every((d) => !d.truncated)).toBe(true);
      });

      it('infers the platform and a version range holding the real version', () => {
        for (const d of result.dumps) {
          if (d.allocator !== 'pymalloc') continue;
          expect(d.platform?.pointerSize).toBe(f.truth.python.pointer_size);
          const r = d.platform!.versionRange;
          expect(compareVersions(r.min, version)).toBeLessThanOrEqual(0);
          expect(compareVersions(r.max, version)).toBeGreaterThanOrEqual(0);
        }
      });

      it('blocks in use never exceed sys.getallocatedblocks() of the same moment', () => {
        result.dumps.forEach((d, i) => {
          const t = f.truth.dumps[i]!;
          if (t.allocated_blocks_before === undefined || d.allocator !== 'pymalloc') return;
          const inUse = (d.classes ?? []).reduce((s, c) => s + c.blocksInUse, 0);
          expect(inUse).toBeLessThanOrEqual(t.allocated_blocks_before);
        });
      });

      it('re-prints every dump byte-identical to what CPython printed', () => {
        expect(result.dumps.map(formatMallocStats).join('')).toBe(text);
      });

      it('reads the same when fed in 7-character chunks', () => {
        const reader = new MallocStatsReader({ file: f.name });
        for (let i = 0; i < text.length; i += 7) reader.push(text.slice(i, i + 7));
        expect(reader.end().dumps).toEqual(result.dumps);
      });
    });
  }
});
