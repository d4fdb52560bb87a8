// Unit tests from CPython's own rules (Objects/obmalloc.c), with the values the fact sheet verified
// on real interpreters (../shared/cpython-memory-facts.md §1.5–1.7).
import { describe, expect, it } from 'vitest';
import { pymallocParams } from '../../src/model/params.js';
import { PymallocModel } from '../../src/model/pymalloc.js';

/** Arenas at made-up, pool-aligned or misaligned addresses, handed out in order. */
function model(version: string, opts: { misaligned?: boolean } = {}) {
  const p = pymallocParams(version);
  let next = 0x7f0000000000;
  const freed: number[] = [];
  const m = new PymallocModel(
    p,
    () => {
      const a = next + (opts.misaligned ? 4096 : 0);
      next += 4 * p.arenaSize;
      return a;
    },
    { onArenaFree: (a) => freed.push(a) },
  );
  return { m, p, freed };
}

describe('pymalloc model: the rules of Objects/obmalloc.c', () => {
  it('hands out a pool\'s blocks from offset POOL_OVERHEAD, one size apart (48, 528, 1008, 1488 for 480 B)', () => {
    const { m } = model('3.11');
    const a = [m.malloc(480), m.malloc(470), m.malloc(465), m.malloc(480)];
    const base = a[0]! - 48;
    expect(base % 16384).toBe(0);
    expect(a.map((x) => x - base)).toEqual([48, 528, 1008, 1488]);
  });

  it('reuses freed blocks last-in first-out', () => {
    const { m } = model('3.9');
    const a = m.malloc(64);
    const b = m.malloc(64);
    m.malloc(64);
    m.free(a);
    m.free(b);
    expect(m.malloc(64)).toBe(b);
    expect(m.malloc(64)).toBe(a);
  });

  it('keeps a realloc in place only when 4·n > 3·size (512-byte block: 385 stays, 384 moves)', () => {
    const { m } = model('3.12');
    const p = m.malloc(512);
    expect(m.realloc(p, 385)).toBe(p);
    const q = m.realloc(p, 384);
    expect(q).not.toBe(p);
    expect(m.realloc(q, 0)).toBe(PymallocModel.RAW);
  });

  it('allocates the new block before freeing the old one in a moving realloc', () => {
    const { m } = model('3.11');
    const p = m.malloc(100); // 112-byte class
    const q = m.realloc(p, 20); // moves to the 32-byte class
    const r = m.malloc(100); // takes p's slot, freed after q was allocated
    expect(r).toBe(p);
    expect(q).not.toBe(p);
  });

  it('sends 0 and >512 byte requests to the raw allocator and counts them in getallocatedblocks', () => {
    const { m } = model('3.11');
    expect(m.malloc(0)).toBe(PymallocModel.RAW);
    expect(m.malloc(513)).toBe(PymallocModel.RAW);
    const p = m.malloc(512);
    expect(m.allocatedBlocks()).toBe(3);
    m.free(p);
    m.free(0x1234); // raw pointer: not in any arena
    expect(m.allocatedBlocks()).toBe(1);
  });

  it('loses one pool per misaligned arena (63 usable pools) and counts it as arena alignment', () => {
    const { m, p } = model('3.11', { misaligned: true });
    m.malloc(16);
    const s = m.stats();
    expect(s.totals!.bytesLostToArenaAlignment).toBe(p.poolSize);
    expect(s.totals!.unusedPools).toBe(62);
    expect(s.totals!.total).toBe(p.arenaSize);
  });

  it('releases a wholly free arena at once in 3.8, keeps the last usable one in 3.9+ (bpo-37257)', () => {
    for (const [version, kept] of [['3.8', 0], ['3.9', 1]] as const) {
      const { m, p } = model(version);
      // Three arenas' worth of 512-byte blocks, then free them all.
      const perArena = 64 * Math.floor((p.poolSize - 48) / 512);
      const blocks = Array.from({ length: 3 * perArena }, () => m.malloc(512));
      expect(m.stats().arenas!.current).toBe(3);
      for (const b of blocks) m.free(b);
      expect(m.stats().arenas!.current).toBe(kept);
      expect(m.stats().arenas!.reclaimed).toBe(3 - kept);
    }
  });

  it('prints the same arithmetic as CPython: Total = current arenas × ARENA_SIZE', () => {
    const { m, p } = model('3.13');
    const live: number[] = [];
    for (let i = 0; i < 50000; i++) {
      live.push(m.malloc(1 + ((i * 7919) % 512)));
      if (i % 3 === 0) m.free(live.splice((i * 31) % live.length, 1)[0]!);
    }
    const s = m.stats();
    expect(s.totals!.total).toBe(s.arenas!.current! * p.arenaSize);
    expect(s.arenaMap).toEqual({ midNodes: 1, botNodes: 1, bytesLostToRoot: 262144, bytesLostToMid: 262144, bytesLostToBot: 131072, total: 655360 });
  });
});
