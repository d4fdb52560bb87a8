// address → arena, the question address_in_range() answers in Objects/obmalloc.c. 3.10+ answer it
// with the arena map (arena_map_mark_used / arena_map_is_used): the address space is cut into
// ARENA_SIZE-aligned blocks, and the leaf entry of a block records the arena that starts in it
// (tail_hi) and the one that ends in it (tail_lo), since an arena that is not ARENA_SIZE-aligned
// straddles two blocks. 3.8/3.9 read an arena index from the pool header instead; for a pointer
// into a live arena both give the same answer. The leaf entries live in an AddressTable.

import { AddressTable } from './address-table.js';

/** What the map needs of an arena. */
export interface MappedArena {
  address: number;
}

interface Leaf<A> {
  /** tail_hi: the arena starting in the block. */
  hi: A | null;
  /** tail_lo: the arena ending in the block (it started in the one before). */
  lo: A | null;
}

export class ArenaMap<A extends MappedArena> {
  private readonly leaves = new AddressTable<Leaf<A>>();

  constructor(private readonly arenaSize: number) {}

  /** The live arena holding p, or undefined. */
  find(p: number): A | undefined {
    const leaf = this.leaves.get(Math.floor(p / this.arenaSize));
    if (leaf === undefined) return undefined;
    // p is in the leaf's block, so an arena starting in that block at or below p ends above p.
    if (leaf.hi !== null && p >= leaf.hi.address) return leaf.hi;
    if (leaf.lo !== null && p < leaf.lo.address + this.arenaSize) return leaf.lo;
    return undefined;
  }

  /** arena_map_mark_used(address, 1). */
  add(a: A): void {
    const k = Math.floor(a.address / this.arenaSize);
    this.leaf(k).hi = a;
    if (a.address % this.arenaSize !== 0) this.leaf(k + 1).lo = a;
  }

  /** arena_map_mark_used(address, 0), before the arena's address is cleared. */
  remove(a: A): void {
    const k = Math.floor(a.address / this.arenaSize);
    this.clear(k, 'hi', a);
    if (a.address % this.arenaSize !== 0) this.clear(k + 1, 'lo', a);
  }

  private leaf(k: number): Leaf<A> {
    let leaf = this.leaves.get(k);
    if (leaf === undefined) this.leaves.set(k, (leaf = { hi: null, lo: null }));
    return leaf;
  }

  private clear(k: number, side: 'hi' | 'lo', a: A): void {
    const leaf = this.leaves.get(k);
    if (leaf === undefined) return;
    if (leaf[side] === a) leaf[side] = null;
    if (leaf.hi === null && leaf.lo === null) this.leaves.delete(k);
  }
}
