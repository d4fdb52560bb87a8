// Real dumps as humans paste them (fixtures/bad/handmade-*, made by fixtures/gen/mangle.py from real
// dumps): the numbers must still be CPython's, or the damage must be a counted warning.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyseDump } from '../../src/analysis/fragmentation.js';
import { parseMallocStats } from '../../src/ingest/malloc-stats.js';
import type { MallocStats } from '../../src/model/types.js';
import { InputError } from '../../src/util/errors.js';
import { FIXTURES, ROOT, type GroundTruth, type PrintedDump } from '../helpers/fixtures.js';

interface Entry {
  expect: 'same-numbers' | 'same-numbers-with-warning' | 'partial' | 'not-a-dump';
  source: string | null;
  source_dumps: number[];
  mangling: string;
  partial?: { dump: number; classes_missing: number[]; values_complete: number; free_lists_complete: number };
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, 'bad', 'handmade-manifest.json'), 'utf8')) as { files: Record<string, Entry> };

function truthOf(source: string): GroundTruth {
  return JSON.parse(readFileSync(join(ROOT, source.replace(/\.txt$/, '.json')), 'utf8')) as GroundTruth;
}

/** The label/value lines of a parsed dump in CPython's order, for comparing with what was printed. */
function values(d: MallocStats): [string, number][] {
  const out: [string, number][] = [];
  const a = d.arenas ?? {};
  const t = d.totals ?? {};
  const m = d.arenaMap ?? {};
  const push = (label: string, v: number | undefined) => v !== undefined && out.push([label, v]);
  push('# arenas allocated total', a.allocatedTotal);
  push('# arenas reclaimed', a.reclaimed);
  push('# arenas highwater mark', a.highwater);
  push('# arenas allocated current', a.current);
  push(`${a.current} arenas * ${d.platform?.arenaSize} bytes/arena`, a.bytesInCurrent);
  push('# bytes in allocated blocks', t.bytesInAllocatedBlocks);
  push('# bytes in available blocks', t.bytesInAvailableBlocks);
  push(`${t.unusedPools} unused pools * ${d.platform?.poolSize} bytes`, t.unusedPoolBytes);
  push('# bytes lost to pool headers', t.bytesLostToPoolHeaders);
  push('# bytes lost to quantization', t.bytesLostToQuantization);
  push('# bytes lost to arena alignment', t.bytesLostToArenaAlignment);
  push('Total', t.total);
  push('# arena map mid nodes', m.midNodes);
  push('# arena map bot nodes', m.botNodes);
  push('# bytes lost to arena map root', m.bytesLostToRoot);
  push('# bytes lost to arena map mid', m.bytesLostToMid);
  push('# bytes lost to arena map bot', m.bytesLostToBot);
  push('Total', m.total);
  return out;
}

const classesOf = (d: MallocStats) => (d.classes ?? []).map((c) => [c.index, c.size, c.pools, c.blocksInUse, c.availBlocks]);
const freeListsOf = (d: MallocStats) => (d.freeLists ?? []).map((f) => [`${f.type}s`, f.count, f.bytesEach, f.totalBytes]);

function expectSame(d: MallocStats, p: PrintedDump): void {
  expect(classesOf(d)).toEqual(p.classes);
  expect(values(d)).toEqual(p.values);
  expect(freeListsOf(d)).toEqual(p.free_lists);
}

describe('pasted and damaged real dumps', () => {
  it('covers every mangling the manifest lists', () => {
    expect(Object.keys(manifest.files).length).toBeGreaterThanOrEqual(15);
  });

  for (const [name, e] of Object.entries(manifest.files)) {
    it(`${name}: ${e.mangling}`, () => {
      const file = join(FIXTURES, 'bad', name);
      const text = readFileSync(file, 'utf8');
      if (e.expect === 'not-a-dump') {
        expect(() => parseMallocStats(text, { file: name })).toThrow(InputError);
        expect(() => parseMallocStats(text, { file: name })).toThrow(new RegExp(`^${name.replace(/\./g, '\\.')}:1: expected malloc stats`));
        return;
      }
      const r = parseMallocStats(text, { file: name });
      const truth = truthOf(e.source!);
      const problems = r.warnings.filter((w) => w.severity !== 'info');
      if (e.expect === 'same-numbers' || e.expect === 'same-numbers-with-warning') {
        expect(r.dumps).toHaveLength(e.source_dumps.length);
        e.source_dumps.forEach((i, k) => expectSame(r.dumps[k]!, truth.dumps[i]!.printed));
        if (e.expect === 'same-numbers') expect(problems).toEqual([]);
        else {
          expect(problems.length).toBeGreaterThan(0);
          expect(problems[0]!.line).toBeGreaterThan(0);
        }
        return;
      }
      // partial: what survived is CPython's, what did not is absent, and a warning says where.
      const p = e.partial!;
      const d = r.dumps[p.dump]!;
      const printed = truth.dumps[e.source_dumps[0]!]!.printed;
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.every((w) => w.line !== undefined && w.line > 0)).toBe(true);
      expect(classesOf(d)).toEqual(printed.classes.filter((c) => !p.classes_missing.includes(c[0])));
      expect(values(d).slice(0, p.values_complete)).toEqual(printed.values.slice(0, p.values_complete));
      expect(values(d)).toHaveLength(p.values_complete);
      expect(freeListsOf(d).slice(0, p.free_lists_complete)).toEqual(printed.free_lists.slice(0, p.free_lists_complete));
      // --strict turns the damage into an error naming the file and line.
      expect(() => parseMallocStats(text, { file: name, strict: true })).toThrow(new RegExp(`^${name.replace(/\./g, '\\.')}:\\d+: `));
    });
  }
});

// Pastes that elide most class rows with "..." (as a blog post or an API doc does): the rows left
// are no longer the whole table, so nothing may be computed from their sums as if they were.
describe('a real dump with its class rows elided', () => {
  const src = 'fixtures/malloc-stats/3.8.18-linux-x86_64/dict-churn.txt';
  const text = readFileSync(join(ROOT, src), 'utf8');
  const lines = text.split('\n');
  const full = parseMallocStats(text).dumps[0]!;
  const headers = full.totals!.bytesLostToPoolHeaders!;
  const tableStart = lines.findIndex((l) => l.startsWith('-----')) + 1;
  const tableEnd = lines.indexOf('', tableStart);
  const rows = lines.slice(tableStart, tableEnd);
  // Keep one row whose pool count divides the pool-header bytes (so headers ÷ listed pools is a
  // whole, wrong, "pool header size"), elide the rest.
  const keep = rows.findIndex((r) => {
    const pools = Number(r.trim().split(/\s+/)[2]);
    return pools > 0 && headers % pools === 0 && headers / pools !== 48;
  });
  const elided = [...lines.slice(0, tableStart), rows[keep]!, '  ...', ...lines.slice(tableEnd)].join('\n');

  it('does not take headers ÷ the listed pools for the pool header size', () => {
    expect(keep).toBeGreaterThanOrEqual(0);
    const r = parseMallocStats(elided, { file: 'elided.txt' });
    const d = r.dumps[0]!;
    expect(d.classes).toHaveLength(1);
    expect(d.classesIncomplete).toBe(true);
    expect(d.platform!.poolOverhead === undefined || d.platform!.poolOverhead === 48).toBe(true);
    expect(r.warnings.map((w) => w.code)).not.toContain('W_UNKNOWN_LAYOUT');
    expect(r.warnings.map((w) => w.code)).not.toContain('W_INCONSISTENT');
    expect(d.platform!.versionRange).toEqual(full.platform!.versionRange);
    expect(full.classesIncomplete).toBeUndefined();
  });

  it('derives no total from the rows that are left', () => {
    const drop = (t: string) =>
      t.split('\n').filter((l) => !/^# bytes in (allocated|available) blocks|unused pools \*/.test(l)).join('\n');
    const part = (t: string, name: string) =>
      analyseDump(parseMallocStats(drop(t)).dumps[0]!).breakdown!.parts.find((p) => p.part === name)!;
    // the whole table: the missing lines are derived from it, and are CPython's numbers
    expect(part(text, 'usedBlocks')).toMatchObject({ bytes: full.totals!.bytesInAllocatedBlocks, source: 'derived' });
    expect(part(text, 'freeBlocks').bytes).toBe(full.totals!.bytesInAvailableBlocks);
    // one row of it: not derivable, so unknown, and no remainder is put on the unused pools either
    expect(part(elided, 'usedBlocks')).toMatchObject({ bytes: null, source: 'unknown' });
    expect(part(elided, 'freeBlocks').bytes).toBeNull();
    expect(part(elided, 'unusedPools').bytes).toBeNull();
  });
});
