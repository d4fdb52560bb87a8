// A model of CPython's small-object allocator, Objects/obmalloc.c (3.8–3.14): arenas, pools, size
// classes, the usedpools[] lists, the per-arena freepools, usable_arenas kept sorted by free pools
// with nfp2lasta[], the empty-arena release rule, realloc, and the raw-malloc fallbacks. Fed the
// requests of a real run and the addresses its arenas really got, it hands out the same block
// addresses CPython did and reports the same `_PyObject_DebugMallocStats` numbers.
//
// Every version difference comes from a PymallocParams row (src/model/params.ts).
// Addresses are JS numbers: user-space addresses stay below 2^53, so they are exact; bit masks are
// done with arithmetic because JS bitwise operators are 32-bit.

import { AddressTable } from './address-table.js';
import { ArenaMap } from './arena-map.js';
import { blocksPerPool, type PymallocParams } from './params.js';
import type { MallocStats, SizeClassRow } from './types.js';

/** A pool: the POOL_SIZE bytes at `base`, carved from an arena, holding blocks of one size class. */
export interface Pool {
  base: number;
  arena: Arena;
  /** ref.count: blocks handed out. */
  count: number;
  /** szidx: size class index, DUMMY for a freshly carved pool. */
  szidx: number;
  /** freeblock: block index of the free-list head, or -1 (NULL). */
  freeHead: number;
  /** The free list: link[k] is the block index after block k, -1 for NULL (CPython keeps it in the block). */
  link: Int32Array;
  /** nextoffset / maxnextoffset, bytes from the pool base. */
  nextOffset: number;
  maxNextOffset: number;
  /** nextpool / prevpool: the usedpools[] ring, or (nextpool only) the arena's freepools stack. */
  next: Pool | null;
  prev: Pool | null;
}

/** An arena_object with its memory. */
export interface Arena {
  /** Index in the arenas[] vector (reused LIFO after release). */
  slot: number;
  /** address (0 when the slot is unused). */
  address: number;
  /** First POOL_SIZE-aligned address in the arena. */
  firstPool: number;
  /** pool_address: the next pool to carve. */
  poolAddress: number;
  nfreepools: number;
  ntotalpools: number;
  freepools: Pool | null;
  nextarena: Arena | null;
  prevarena: Arena | null;
  /** Carved pools by index from firstPool. */
  pools: Pool[];
}

const DUMMY = 0xffff;
const NULL = 0;
/** What malloc/realloc return when the raw allocator served the request (PymallocModel.RAW). */
const RAW = -1;
const INITIAL_ARENA_OBJECTS = 16;

/** Where new arenas' addresses come from: the run's log, or synthetic ones for "what if". */
export type ArenaSource = () => number | undefined;

export interface PymallocHooks {
  /** Called when the model releases an arena (after it left usable_arenas). */
  onArenaFree?(address: number): void;
  onArenaAlloc?(address: number): void;
}

export class ModelError extends Error {}

/**
 * Deliberately wrong variants of the algorithm, for negative controls only: each must make
 * `cpymem compare` fail on real recordings, which proves the comparison can fail.
 */
export type ModelFault = 'fifo-free-list' | 'realloc-free-first' | 'reinit-reused-pools' | 'shrink-off-by-one';

export class PymallocModel {
  readonly maxPoolsInArena: number;
  private readonly alignShift: number;
  private readonly classes: number;
  /** usedpools[]: per size class, a sentinel of a circular doubly linked ring. */
  private readonly usedpools: Pool[];
  private readonly nfp2lasta: (Arena | null)[];
  private arenas: Arena[] = [];
  private unusedArenas: Arena | null = null;
  private usableArenas: Arena | null = null;
  /** address_in_range(): live arenas by address. */
  private readonly arenaMap: ArenaMap<Arena>;
  /** The carved pools of live arenas by pool number, floor(address / POOL_SIZE): POOL_ADDR(p). */
  private readonly poolTable = new AddressTable<Pool>();
  /** Arena-map nodes ever created (never freed): mid nodes by top index, bottom nodes by (top, mid). */
  private readonly mapMid = new Set<number>();
  private readonly mapBot = new Set<number>();

  /** POOL_OVERHEAD and POOL_SIZE, read on every call. */
  private readonly poolOverhead: number;
  private readonly poolSize: number;

  narenasCurrentlyAllocated = 0;
  ntimesArenaAllocated = 0;
  narenasHighwater = 0;
  /** raw_allocated_blocks: live blocks the OBJ/MEM allocators got from the raw allocator. */
  rawAllocatedBlocks = 0;

  constructor(
    readonly params: PymallocParams,
    private readonly arenaSource: ArenaSource,
    private readonly hooks: PymallocHooks = {},
    private readonly fault?: ModelFault,
  ) {
    this.maxPoolsInArena = Math.floor(params.arenaSize / params.poolSize);
    this.arenaMap = new ArenaMap(params.arenaSize);
    this.poolOverhead = params.poolOverhead;
    this.poolSize = params.poolSize;
    this.alignShift = Math.log2(params.alignment);
    this.classes = params.smallRequestThreshold / params.alignment;
    this.usedpools = [];
    for (let i = 0; i < this.classes; i++) {
      const s = { szidx: -1 } as Pool;
      s.next = s;
      s.prev = s;
      this.usedpools.push(s);
    }
    this.nfp2lasta = new Array(this.maxPoolsInArena + 1).fill(null);
  }

  private sizeOf(szidx: number): number {
    return (szidx + 1) * this.params.alignment;
  }

  // ---- arenas -------------------------------------------------------------------------------

  /** new_arena(): take an arena_object (growing the vector), get memory, set up its pools. */
  private newArena(): Arena | null {
    if (this.unusedArenas === null) {
      const old = this.arenas.length;
      const n = old === 0 ? INITIAL_ARENA_OBJECTS : old * 2;
      for (let i = old; i < n; i++) {
        this.arenas.push({ slot: i, address: 0, firstPool: 0, poolAddress: 0, nfreepools: 0, ntotalpools: 0, freepools: null, nextarena: null, prevarena: null, pools: [] });
      }
      // The new objects form the unused list in index order.
      for (let i = old; i < n; i++) this.arenas[i]!.nextarena = i < n - 1 ? this.arenas[i + 1]! : null;
      this.unusedArenas = this.arenas[old]!;
    }
    const ao = this.unusedArenas;
    const address = this.arenaSource();
    if (address === undefined || address === 0) return null;
    this.unusedArenas = ao.nextarena;
    ao.address = address;
    ao.pools = [];
    ao.freepools = null;
    this.narenasCurrentlyAllocated++;
    this.ntimesArenaAllocated++;
    if (this.narenasCurrentlyAllocated > this.narenasHighwater) this.narenasHighwater = this.narenasCurrentlyAllocated;
    const { poolSize } = this.params;
    const excess = address % poolSize;
    ao.nfreepools = this.maxPoolsInArena;
    ao.firstPool = address;
    if (excess !== 0) {
      // A misaligned arena loses its leading partial pool and the matching tail.
      ao.nfreepools--;
      ao.firstPool = address + (poolSize - excess);
    }
    ao.poolAddress = ao.firstPool;
    ao.ntotalpools = ao.nfreepools;
    this.arenaMap.add(ao);
    this.markArenaMap(address);
    this.hooks.onArenaAlloc?.(address);
    return ao;
  }

  /** arena_map_mark_used(): the radix-tree nodes an arena's first and last byte need (3.10+). */
  private markArenaMap(address: number): void {
    const m = this.params.arenaMap;
    if (!m || m.midBytes === undefined) return;
    const arenaBits = Math.log2(this.params.arenaSize);
    const mark = (a: number) => {
      const keyBits = m.topBits + m.midBits + m.botBits;
      const k = Math.floor(a / 2 ** arenaBits) % 2 ** keyBits; // drops IGNORE_BITS too
      const top = Math.floor(k / 2 ** (m.midBits + m.botBits));
      const mid = Math.floor(k / 2 ** m.botBits) % 2 ** m.midBits;
      this.mapMid.add(top);
      this.mapBot.add(top * 2 ** m.midBits + mid);
    };
    mark(address);
    if (address % this.params.arenaSize !== 0) mark(address + this.params.arenaSize);
  }

  /** The arena holding `p`, as address_in_range() decides; undefined for raw memory. */
  arenaOf(p: number): Arena | undefined {
    return this.arenaMap.find(p);
  }

  /**
   * address_in_range(p) and POOL_ADDR(p) in one lookup: the carved pool holding p, undefined when
   * p is raw memory. (Pools are POOL_SIZE-aligned and lie wholly inside their arena, so the pool
   * number finds it; a pointer into an arena but into no carved pool is refused.)
   */
  private poolOf(p: number): Pool | undefined {
    const pool = this.poolTable.get(Math.floor(p / this.poolSize));
    if (pool === undefined) {
      const ao = this.arenaMap.find(p);
      if (ao !== undefined) this.noPool(p, ao);
    }
    return pool;
  }

  private noPool(p: number, ao: Arena): never {
    throw new ModelError(`pointer 0x${p.toString(16)} is in arena 0x${ao.address.toString(16)} but in no carved pool`);
  }

  // ---- allocation ---------------------------------------------------------------------------

  /**
   * pymalloc_alloc(): a block of 1..512 bytes; NULL (0) when a new arena could not be had.
   * (The address is computed here, on both paths, from block indices: an address that came back
   * from a call that is not inlined would make V8 box every address this returns.)
   */
  private pymallocAlloc(nbytes: number): number {
    const size = (nbytes - 1) >> this.alignShift;
    const sentinel = this.usedpools[size]!;
    let pool = sentinel.next!;
    let bp: number;
    if (pool !== sentinel) {
      // The head of the free list of the class's first used pool.
      pool.count++;
      bp = pool.freeHead;
      const next = pool.link[bp]!;
      pool.freeHead = next;
      if (next < 0) this.poolExtend(pool, size);
    } else {
      bp = this.allocateFromNewPool(size);
      if (bp < 0) return NULL;
      pool = sentinel.next!;
    }
    return pool.base + this.poolOverhead + bp * this.sizeOf(size);
  }

  /** pymalloc_pool_extend(): carve the next virgin block, or unlink the pool once it is full. */
  private poolExtend(pool: Pool, size: number): void {
    if (pool.nextOffset <= pool.maxNextOffset) {
      const blockSize = this.sizeOf(size);
      const k = ((pool.nextOffset - this.poolOverhead) / blockSize) | 0;
      pool.freeHead = k;
      pool.link[k] = -1;
      pool.nextOffset += blockSize;
      return;
    }
    // Full: pools with no free block live in no list.
    const next = pool.next!;
    const prev = pool.prev!;
    next.prev = prev;
    prev.next = next;
  }

  /**
   * allocate_from_new_pool(): a pool from the most-used usable arena, LIFO freepools first, linked
   * as the only member of usedpools[size]; returns the index of the block handed out in it, -1 for
   * NULL (no arena could be had).
   */
  private allocateFromNewPool(size: number): number {
    if (this.usableArenas === null) {
      const ao = this.newArena();
      if (ao === null) return -1;
      this.usableArenas = ao;
      ao.nextarena = null;
      ao.prevarena = null;
      this.nfp2lasta[ao.nfreepools] = ao;
    }
    const ua = this.usableArenas;
    if (this.nfp2lasta[ua.nfreepools] === ua) this.nfp2lasta[ua.nfreepools] = null;
    if (ua.nfreepools > 1) this.nfp2lasta[ua.nfreepools - 1] = ua;

    let pool = ua.freepools;
    if (pool !== null) {
      ua.freepools = pool.next;
    } else {
      const idx = ((ua.poolAddress - ua.firstPool) / this.poolSize) | 0;
      pool = { base: ua.poolAddress, arena: ua, count: 0, szidx: DUMMY, freeHead: -1, link: EMPTY, nextOffset: 0, maxNextOffset: 0, next: null, prev: null };
      ua.pools[idx] = pool;
      this.poolTable.set(Math.floor(pool.base / this.poolSize), pool);
      ua.poolAddress += this.poolSize;
    }
    ua.nfreepools--;
    if (ua.nfreepools === 0) {
      this.usableArenas = ua.nextarena;
      if (this.usableArenas !== null) this.usableArenas.prevarena = null;
    }
    // Link the pool as the only member of usedpools[size].
    const sentinel = this.usedpools[size]!;
    pool.next = sentinel;
    pool.prev = sentinel;
    sentinel.next = pool;
    sentinel.prev = pool;
    pool.count = 1;
    const blockSize = this.sizeOf(size);
    if (pool.szidx === size && this.fault !== 'reinit-reused-pools') {
      // An emptied pool reused for the same class: its free list is still valid (in free order).
      const bp = pool.freeHead;
      pool.freeHead = pool.link[bp]!;
      return bp;
    }
    pool.szidx = size;
    const n = blocksPerPool(this.params, blockSize);
    if (pool.link.length !== n) pool.link = new Int32Array(n);
    pool.nextOffset = this.poolOverhead + 2 * blockSize;
    pool.maxNextOffset = this.poolSize - blockSize;
    pool.freeHead = 1;
    pool.link[1] = -1;
    return 0;
  }

  // ---- free ---------------------------------------------------------------------------------

  /** pymalloc_free(): false when `p` is not pymalloc's (the caller frees it raw). */
  private pymallocFree(p: number): boolean {
    const pool = this.poolOf(p);
    if (pool === undefined) return false;
    // The block's index in its pool; a pointer that is not a block the pool handed out is refused.
    // (Block indices are kept as int32: a fractional value stored in a pool would box every store.)
    const off = p - pool.base - this.poolOverhead;
    const blockSize = this.sizeOf(pool.szidx);
    const k = (off / blockSize) | 0;
    if (k * blockSize !== off || off < 0 || off >= pool.nextOffset - this.poolOverhead || pool.count === 0) this.badFree(p, pool);
    // Link the block to the front of the pool's free list.
    const lastfree = pool.freeHead;
    if (this.fault === undefined) {
      pool.link[k] = lastfree;
      pool.freeHead = k;
    } else {
      this.linkFreedBlock(pool, k);
    }
    pool.count--;
    if (lastfree < 0) {
      this.insertToUsedpool(pool);
      return true;
    }
    if (pool.count !== 0) return true;
    this.insertToFreepool(pool);
    return true;
  }

  /** pymalloc_free()'s linking, with the faults that change it (kept out of the hot path). */
  private linkFreedBlock(pool: Pool, k: number): void {
    const lastfree = pool.freeHead;
    if (this.fault === 'fifo-free-list' && lastfree >= 0) {
      let t = lastfree;
      while (pool.link[t]! >= 0) t = pool.link[t]!;
      pool.link[t] = k;
      pool.link[k] = -1;
    } else {
      pool.link[k] = lastfree;
      pool.freeHead = k;
    }
  }

  private badFree(p: number, pool: Pool): never {
    if (pool.count === 0) throw new ModelError(`free of 0x${p.toString(16)} in an empty pool`);
    throw new ModelError(`free of 0x${p.toString(16)}, which is not the start of a block handed out by its pool`);
  }

  /** insert_to_usedpool(): a pool that was full goes to the front of its class's ring. */
  private insertToUsedpool(pool: Pool): void {
    const sentinel = this.usedpools[pool.szidx]!;
    const next = sentinel.next!;
    const prev = next.prev!;
    pool.next = next;
    pool.prev = prev;
    next.prev = pool;
    prev.next = pool;
  }

  /** insert_to_freepool(): an emptied pool goes on its arena's freepools; the arena moves or goes. */
  private insertToFreepool(pool: Pool): void {
    const next = pool.next!;
    const prev = pool.prev!;
    next.prev = prev;
    prev.next = next;
    const ao = pool.arena;
    pool.next = ao.freepools;
    ao.freepools = pool;
    let nf = ao.nfreepools;
    const lastnf = this.nfp2lasta[nf] ?? null;
    if (lastnf === ao) {
      const p = ao.prevarena;
      this.nfp2lasta[nf] = p !== null && p.nfreepools === nf ? p : null;
    }
    ao.nfreepools = ++nf;

    // Case 1: the arena is wholly free. 3.8 always releases it; 3.9+ (bpo-37257) keeps it when it
    // is the last of usable_arenas.
    if (nf === ao.ntotalpools && (!this.params.keepsLastEmptyArena || ao.nextarena !== null)) {
      if (ao.prevarena === null) this.usableArenas = ao.nextarena;
      else ao.prevarena.nextarena = ao.nextarena;
      if (ao.nextarena !== null) ao.nextarena.prevarena = ao.prevarena;
      ao.nextarena = this.unusedArenas;
      this.unusedArenas = ao;
      this.releaseArena(ao);
      return;
    }
    if (nf === 1) {
      // Case 2: the arena was full: it goes to the head of usable_arenas.
      ao.nextarena = this.usableArenas;
      ao.prevarena = null;
      if (this.usableArenas !== null) this.usableArenas.prevarena = ao;
      this.usableArenas = ao;
      if (this.nfp2lasta[1] === null) this.nfp2lasta[1] = ao;
      return;
    }
    if (this.nfp2lasta[nf] === null) this.nfp2lasta[nf] = ao;
    // Case 3: still in order.
    if (ao === lastnf) return;
    // Case 4: move it right after the rightmost arena with the old count.
    if (ao.prevarena !== null) ao.prevarena.nextarena = ao.nextarena;
    else this.usableArenas = ao.nextarena;
    ao.nextarena!.prevarena = ao.prevarena;
    ao.prevarena = lastnf;
    ao.nextarena = lastnf!.nextarena;
    if (ao.nextarena !== null) ao.nextarena.prevarena = ao;
    lastnf!.nextarena = ao;
  }

  private releaseArena(ao: Arena): void {
    const address = ao.address;
    this.arenaMap.remove(ao);
    for (const pool of ao.pools) this.poolTable.delete(Math.floor(pool.base / this.poolSize));
    ao.address = 0;
    ao.pools = [];
    ao.freepools = null;
    this.narenasCurrentlyAllocated--;
    this.hooks.onArenaFree?.(address);
  }

  // ---- the public allocator API (_PyObject_Malloc / Calloc / Realloc / Free) -------------------

  /** A result: the block's address, or RAW when the raw allocator served it. */
  static readonly RAW = RAW;

  /** _PyObject_Malloc(n): pymalloc for 1..512 bytes, raw otherwise (and when no arena could be had). */
  malloc(nbytes: number): number {
    if (nbytes > 0 && nbytes <= this.params.smallRequestThreshold) {
      const p = this.pymallocAlloc(nbytes);
      if (p !== NULL) return p;
    }
    this.rawAllocatedBlocks++;
    return RAW;
  }

  /** _PyObject_Calloc(nelem, elsize): as malloc of the product. */
  calloc(nbytes: number): number {
    return this.malloc(nbytes);
  }

  /** _PyObject_Free(p). A null pointer is a no-op. */
  free(p: number): void {
    if (p === 0) return;
    if (!this.pymallocFree(p)) this.rawAllocatedBlocks--;
  }

  /**
   * _PyObject_Realloc(p, n): returns the new address (p itself when it stays), or RAW.
   * pymalloc_realloc(): a pymalloc block stays when it shrinks by less than 25 %; otherwise the new
   * block is allocated BEFORE the old one is freed. A raw block stays raw whatever the size.
   */
  realloc(p: number, nbytes: number): number {
    if (p === 0) return this.malloc(nbytes);
    const pool = this.poolOf(p);
    if (pool === undefined) return RAW;
    const size = this.sizeOf(pool.szidx);
    if (nbytes <= size && (this.fault === 'shrink-off-by-one' ? 4 * nbytes >= 3 * size : 4 * nbytes > 3 * size)) return p;
    if (this.fault === 'realloc-free-first') {
      this.free(p);
      return this.malloc(nbytes);
    }
    const bp = this.malloc(nbytes);
    this.free(p);
    return bp;
  }

  /** sys.getallocatedblocks(): raw blocks plus Σ ref.count over every carved pool. */
  allocatedBlocks(): number {
    let n = this.rawAllocatedBlocks;
    for (const ao of this.arenas) {
      if (ao.address === 0) continue;
      for (const pool of ao.pools) if (pool) n += pool.count;
    }
    return n;
  }

  /** Live arenas, for analysis (occupancy, pinned arenas). */
  liveArenas(): Arena[] {
    return this.arenas.filter((a) => a.address !== 0);
  }

  // ---- _PyObject_DebugMallocStats -----------------------------------------------------------

  /** What `_PyObject_DebugMallocStats` would print now, as the ingester's type. */
  stats(line = 0): MallocStats {
    const p = this.params;
    const numpools = new Array<number>(this.classes).fill(0);
    const inUse = new Array<number>(this.classes).fill(0);
    const avail = new Array<number>(this.classes).fill(0);
    let unusedPools = 0;
    let misaligned = 0;
    for (const ao of this.arenas) {
      if (ao.address === 0) continue;
      unusedPools += ao.nfreepools;
      if (ao.address % p.poolSize !== 0) misaligned++;
      for (const pool of ao.pools) {
        if (!pool || pool.count === 0) continue;
        numpools[pool.szidx]!++;
        inUse[pool.szidx]! += pool.count;
        avail[pool.szidx]! += blocksPerPool(p, this.sizeOf(pool.szidx)) - pool.count;
      }
    }
    const classes: SizeClassRow[] = [];
    let used = 0;
    let free = 0;
    let headers = 0;
    let quant = 0;
    for (let i = 0; i < this.classes; i++) {
      if (numpools[i] === 0) continue;
      const size = this.sizeOf(i);
      classes.push({ index: i, size, pools: numpools[i]!, blocksInUse: inUse[i]!, availBlocks: avail[i]! });
      used += inUse[i]! * size;
      free += avail[i]! * size;
      headers += numpools[i]! * p.poolOverhead;
      quant += numpools[i]! * ((p.poolSize - p.poolOverhead) % size);
    }
    const cur = this.narenasCurrentlyAllocated;
    const stats: MallocStats = {
      line,
      allocator: 'pymalloc',
      platform: {
        pointerSize: p.pointerSize,
        alignment: p.alignment,
        poolSize: p.poolSize,
        arenaSize: p.arenaSize,
        poolOverhead: p.poolOverhead,
        versionRange: { min: p.min, max: p.max },
      },
      smallBlockThreshold: p.smallRequestThreshold,
      sizeClassCount: this.classes,
      classes,
      arenas: {
        allocatedTotal: this.ntimesArenaAllocated,
        reclaimed: this.ntimesArenaAllocated - cur,
        highwater: this.narenasHighwater,
        current: cur,
        bytesInCurrent: cur * p.arenaSize,
      },
      totals: {
        bytesInAllocatedBlocks: used,
        bytesInAvailableBlocks: free,
        unusedPools,
        unusedPoolBytes: unusedPools * p.poolSize,
        bytesLostToPoolHeaders: headers,
        bytesLostToQuantization: quant,
        bytesLostToArenaAlignment: misaligned * p.poolSize,
        total: used + free + unusedPools * p.poolSize + headers + quant + misaligned * p.poolSize,
      },
    };
    const m = p.arenaMap;
    if (m) {
      if (m.midBytes !== undefined && m.botBytes !== undefined) {
        const mid = this.mapMid.size;
        const bot = this.mapBot.size;
        stats.arenaMap = {
          midNodes: mid,
          botNodes: bot,
          bytesLostToRoot: m.rootBytes,
          bytesLostToMid: mid * m.midBytes,
          bytesLostToBot: bot * m.botBytes,
          total: m.rootBytes + mid * m.midBytes + bot * m.botBytes,
        };
      } else {
        stats.arenaMap = { bytesLostToRoot: m.rootBytes };
      }
    }
    return stats;
  }
}

const EMPTY = new Int32Array(0);
