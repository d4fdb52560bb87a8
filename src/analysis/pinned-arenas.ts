// Arena occupancy and pinned arenas: why a process "will not give memory back".
//
// pymalloc returns an arena to the system only when every one of its pools is empty
// (Objects/obmalloc.c, pymalloc_free → the `nf == ao->ntotalpools` branch). One live block anywhere
// in an arena keeps all of it reserved. An arena whose live blocks fill only a small share of it is
// "pinned": the memory is reserved for a few objects. Dumps cannot show this (they sum over all
// arenas), so it is read from the model's per-arena state during a replay.

import type { PymallocParams } from '../model/params.js';
import type { Arena } from '../model/pymalloc.js';

/** An arena is pinned when its live blocks fill at most this share of its pool bytes. */
export const PINNED_MAX_USE = 0.1;

/** One live arena at one point of the run. */
export interface ArenaOccupancy {
  /** arenas[] slot, and the arena's address (synthetic in what-if runs). */
  slot: number;
  address: number;
  /** Pools the arena can hold (63 when its address is not pool-aligned, else 64 / 16 / …). */
  totalPools: number;
  /** Pools holding at least one live block. */
  usedPools: number;
  blocks: number;
  /** Bytes of the live blocks (block size × blocks; what the arena is kept for). */
  blockBytes: number;
  /** blockBytes / (totalPools × POOL_SIZE). */
  use: number;
  pinned: boolean;
}

export interface OccupancySummary {
  arenas: number;
  pinned: number;
  /** Bytes reserved by pinned arenas (arena size each), and the live bytes that pin them. */
  pinnedReservedBytes: number;
  pinnedBlockBytes: number;
  /** Σ live block bytes over every arena (= "# bytes in allocated blocks" of the dump). */
  blockBytes: number;
  /** Pools holding at least one live block, over every arena. */
  usedPools: number;
  /** The fewest arenas that could hold every live block if pools were packed full (lower bound). */
  minArenas: number;
}

/** Occupancy of every live arena, in address order. */
export function arenaOccupancy(arenas: readonly Arena[], params: PymallocParams): ArenaOccupancy[] {
  const out: ArenaOccupancy[] = [];
  for (const ao of arenas) {
    if (ao.address === 0) continue;
    let usedPools = 0;
    let blocks = 0;
    let blockBytes = 0;
    for (const pool of ao.pools) {
      if (!pool || pool.count === 0) continue;
      usedPools++;
      blocks += pool.count;
      blockBytes += pool.count * (pool.szidx + 1) * params.alignment;
    }
    const use = blockBytes / (ao.ntotalpools * params.poolSize);
    out.push({ slot: ao.slot, address: ao.address, totalPools: ao.ntotalpools, usedPools, blocks, blockBytes, use, pinned: usedPools > 0 && use <= PINNED_MAX_USE });
  }
  return out.sort((a, b) => a.address - b.address);
}

export function summariseOccupancy(occ: readonly ArenaOccupancy[], params: PymallocParams): OccupancySummary {
  let pinned = 0;
  let pinnedBlockBytes = 0;
  let blockBytes = 0;
  let usedPools = 0;
  for (const a of occ) {
    blockBytes += a.blockBytes;
    usedPools += a.usedPools;
    if (a.pinned) {
      pinned++;
      pinnedBlockBytes += a.blockBytes;
    }
  }
  const poolsPerArena = Math.floor(params.arenaSize / params.poolSize);
  const perArena = poolsPerArena * (params.poolSize - params.poolOverhead);
  return {
    arenas: occ.length,
    pinned,
    pinnedReservedBytes: pinned * params.arenaSize,
    pinnedBlockBytes,
    blockBytes,
    usedPools,
    minArenas: Math.ceil(blockBytes / perArena),
  };
}
