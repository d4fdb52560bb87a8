// Pinned arenas from CPython's rule: an arena goes back to the system only when all its pools are
// empty, so one live block keeps it all. Driven through the model itself with synthetic arenas.
import { describe, expect, it } from 'vitest';
import { arenaOccupancy, PINNED_MAX_USE, summariseOccupancy } from '../../src/analysis/pinned-arenas.js';
import { pymallocParams } from '../../src/model/params.js';
import { PymallocModel } from '../../src/model/pymalloc.js';

describe('pinned arenas', () => {
  const params = pymallocParams('3.11');
  const model = () => {
    let next = 0x7f0000000000;
    return new PymallocModel(params, () => {
      const a = next;
      next += params.arenaSize;
      return a;
    });
  };

  it('one live block pins a whole arena; freeing it releases the arena', () => {
    const m = model();
    const blocks: number[] = [];
    // 64-byte blocks: fill three arenas' worth.
    const perArena = Math.floor(params.arenaSize / params.poolSize) * Math.floor((params.poolSize - params.poolOverhead) / 64);
    for (let i = 0; i < 3 * perArena; i++) blocks.push(m.malloc(64));
    expect(m.narenasCurrentlyAllocated).toBeGreaterThanOrEqual(3);
    // Keep one block in each arena's first pool, free everything else.
    const keep = new Set<number>();
    const seen = new Set<number>();
    for (const b of blocks) {
      const arena = Math.floor(b / params.arenaSize);
      if (!seen.has(arena)) {
        seen.add(arena);
        keep.add(b);
      }
    }
    for (const b of blocks) if (!keep.has(b)) m.free(b);
    const occ = arenaOccupancy(m.liveArenas(), params);
    expect(occ.length).toBe(keep.size);
    expect(occ.every((a) => a.pinned && a.blocks === 1 && a.usedPools === 1 && a.blockBytes === 64)).toBe(true);
    const s = summariseOccupancy(occ, params);
    expect(s.pinned).toBe(keep.size);
    expect(s.pinnedReservedBytes).toBe(keep.size * params.arenaSize);
    expect(s.minArenas).toBe(1);
    // Freeing the pinning blocks returns every arena (CPython keeps none on 3.9+ … except the
    // usable one; either way none is pinned any more).
    for (const b of keep) m.free(b);
    expect(summariseOccupancy(arenaOccupancy(m.liveArenas(), params), params).pinned).toBe(0);
  });

  it('a well-filled arena is not pinned', () => {
    const m = model();
    const perArena = Math.floor(params.arenaSize / params.poolSize) * Math.floor((params.poolSize - params.poolOverhead) / 512);
    for (let i = 0; i < perArena; i++) m.malloc(512);
    const occ = arenaOccupancy(m.liveArenas(), params);
    expect(occ[0]!.use).toBeGreaterThan(1 - PINNED_MAX_USE);
    expect(occ[0]!.pinned).toBe(false);
  });
});
