// Implied pymalloc packing of a tracemalloc snapshot: the live traced requests of ≤ 512 bytes,
// put in their size classes (Objects/obmalloc.c: INDEX2SIZE((nbytes - 1) >> ALIGNMENT_SHIFT)),
// and the fewest pools and arenas that could hold them (NUMBLOCKS per pool, pools per arena).
// Beside a real _debugmallocstats() dump of the same process, the difference is what pymalloc
// holds beyond that ideal: free blocks in partly used pools, empty pools, alignment loss, and
// blocks allocated before tracing started.
//
// Caveats, by construction: a trace does not say which allocator domain it came from (tracemalloc
// puts RAW, MEM and OBJ all in domain 0), so small PyMem_RawMalloc requests — which go to the C
// malloc, not pymalloc — are counted here too; requests of 0 bytes go to malloc and are left out.

import { blocksPerPool, pymallocParams, type PymallocParams } from '../model/params.js';
import { CpymemError } from '../util/errors.js';
import type { MallocStats, TracemallocSnapshot } from '../model/types.js';

export interface PackingClass {
  index: number;
  /** Block size of the class. */
  size: number;
  /** Live traced blocks in the class. */
  blocks: number;
  /** Bytes the requests asked for, and bytes of the blocks that serve them. */
  requestedBytes: number;
  blockBytes: number;
  blocksPerPool: number;
  minPools: number;
  /** From the real dump, when given: pools and blocks in use of the class. */
  realPools?: number;
  realBlocks?: number;
}

export interface Packing {
  geometry: { alignment: number; poolSize: number; arenaSize: number; poolOverhead: number; source: string };
  classes: PackingClass[];
  blocks: number;
  requestedBytes: number;
  blockBytes: number;
  minPools: number;
  /** Pools an arena holds when its base is pool-aligned, and when it is not (one pool lost). */
  poolsPerArena: number;
  minArenas: number;
  /** Arenas with the one-pool alignment loss that mmap'ed arenas usually have (3.10+ Linux). */
  minArenasMisaligned: number;
  /** Requests of 0 bytes (served by malloc) and of more than 512 bytes. */
  zeroSizeTraces: number;
  largeTraces: number;
  real?: {
    arenas: number | null;
    pools: number;
    blocks: number;
    /** Real arenas beyond the minimum, and as a ratio to it. */
    excessArenas: number | null;
    arenaRatio: number | null;
    excessPools: number;
  };
}

export type Geometry = Pick<PymallocParams, 'alignment' | 'poolSize' | 'arenaSize' | 'poolOverhead' | 'smallRequestThreshold'>;

export function impliedPacking(s: TracemallocSnapshot, g: Geometry, geometrySource: string, real?: MallocStats): Packing {
  const nClasses = g.smallRequestThreshold / g.alignment;
  const classes: PackingClass[] = [];
  for (let i = 0; i < nClasses; i++) {
    const size = (i + 1) * g.alignment;
    classes.push({ index: i, size, blocks: 0, requestedBytes: 0, blockBytes: 0, blocksPerPool: blocksPerPool(g, size), minPools: 0 });
  }
  for (let n = 1; n <= g.smallRequestThreshold && n < s.smallSizes.length; n++) {
    const k = s.smallSizes[n]!;
    if (!k) continue;
    const c = classes[Math.floor((n - 1) / g.alignment)]!;
    c.blocks += k;
    c.requestedBytes += k * n;
  }
  for (const c of classes) {
    c.blockBytes = c.blocks * c.size;
    c.minPools = Math.ceil(c.blocks / c.blocksPerPool);
  }
  if (real?.classes) {
    for (const row of real.classes) {
      const c = classes.find((x) => x.size === row.size);
      if (c) {
        c.realPools = row.pools;
        c.realBlocks = row.blocksInUse;
      }
    }
  }
  const sum = (k: 'blocks' | 'requestedBytes' | 'blockBytes' | 'minPools') => classes.reduce((a, c) => a + c[k], 0);
  const minPools = sum('minPools');
  const poolsPerArena = Math.floor(g.arenaSize / g.poolSize);
  const minArenas = Math.ceil(minPools / poolsPerArena);
  const out: Packing = {
    geometry: { alignment: g.alignment, poolSize: g.poolSize, arenaSize: g.arenaSize, poolOverhead: g.poolOverhead, source: geometrySource },
    classes: classes.filter((c) => c.blocks > 0 || (c.realPools ?? 0) > 0),
    blocks: sum('blocks'),
    requestedBytes: sum('requestedBytes'),
    blockBytes: sum('blockBytes'),
    minPools,
    poolsPerArena,
    minArenas,
    minArenasMisaligned: Math.ceil(minPools / Math.max(1, poolsPerArena - 1)),
    zeroSizeTraces: s.smallSizes[0] ?? 0,
    largeTraces: s.largeTraces,
  };
  if (real?.classes) {
    const pools = real.classes.reduce((a, r) => a + r.pools, 0);
    const arenas = real.arenas?.current ?? null;
    out.real = {
      arenas,
      pools,
      blocks: real.classes.reduce((a, r) => a + r.blocksInUse, 0),
      excessArenas: arenas === null ? null : arenas - minArenas,
      arenaRatio: arenas === null || minArenas === 0 ? null : arenas / minArenas,
      excessPools: pools - minPools,
    };
  }
  return out;
}

/** The pymalloc geometry to pack under: the real dump's, --python's, or the newest version with the snapshot's trace shape. */
export function packingGeometry(s: TracemallocSnapshot, python: string | undefined, dump: MallocStats | undefined): { g: Geometry; source: string } {
  const p = dump?.platform;
  if (p?.alignment && p.poolSize && p.arenaSize && p.poolOverhead) {
    return { g: { alignment: p.alignment, poolSize: p.poolSize, arenaSize: p.arenaSize, poolOverhead: p.poolOverhead, smallRequestThreshold: dump!.smallBlockThreshold ?? 512 }, source: 'the malloc-stats dump' };
  }
  if (python) {
    try {
      return { g: pymallocParams(python, 8), source: `CPython ${python}, 64-bit` };
    } catch (err) {
      throw new CpymemError(`--python: ${(err as Error).message}`, 2, 'E_USAGE');
    }
  }
  const v = s.traceFields === 3 ? '3.8' : s.traceFields === 2 ? '3.5' : '3.14';
  const range = s.traceFields === 3 ? '3.6–3.8' : s.traceFields === 2 ? '3.4–3.5' : '3.10–3.14';
  return { g: pymallocParams(v, 8), source: `CPython ${range}, 64-bit (assumed from the snapshot's trace shape; pass --python or --malloc-stats)` };
}
