// Where the bytes of pymalloc's arenas go, for one `_debugmallocstats` dump.
//
// CPython prints six lines that add up to "Total" = arenas × ARENA_SIZE (Objects/obmalloc.c,
// `_PyObject_DebugMallocStats`; 3.13+ `pymalloc_print_stats`, which asserts the sum). We take those
// printed numbers as they are; only when a dump lacks one (it was cut off, or an older layout) do we
// derive it from the size-class table and the pool geometry, and say so with `source: 'derived'`.

import { GEOMETRY_VARIANTS, PYMALLOC_PARAMS, blocksPerPool, quantizationPerPool, type PymallocParams } from '../model/params.js';
import type { MallocStats, Platform } from '../model/types.js';

/** The six parts of "bytes in arenas", in the order CPython prints them. */
export const BREAKDOWN_PARTS = ['usedBlocks', 'freeBlocks', 'unusedPools', 'poolHeaders', 'quantization', 'arenaAlignment'] as const;
export type BreakdownPartName = (typeof BREAKDOWN_PARTS)[number];

export const PART_LABELS: Readonly<Record<BreakdownPartName, string>> = {
  usedBlocks: 'allocated blocks',
  freeBlocks: 'available blocks',
  unusedPools: 'unused pools',
  poolHeaders: 'pool headers',
  quantization: 'quantization',
  arenaAlignment: 'arena alignment',
};

/** printed: read from the dump; derived: computed from the class table and geometry; unknown: neither. */
export type ValueSource = 'printed' | 'derived' | 'unknown';

export interface BreakdownPart {
  part: BreakdownPartName;
  label: string;
  bytes: number | null;
  source: ValueSource;
}

export interface ArenaBreakdown {
  /** Always the six parts, in CPython's order. */
  parts: BreakdownPart[];
  /** Bytes in arenas: the printed "Total", else arenas × ARENA_SIZE, else the sum of the parts. */
  total: number | null;
  totalSource: ValueSource;
  /** Σ known parts − total; 0 for every consistent dump. */
  discrepancy: number | null;
  notes: string[];
}

export interface SizeClassUse {
  index: number;
  size: number;
  pools: number;
  blocksInUse: number;
  availBlocks: number;
  /** blocks in use × size: the "# bytes in allocated blocks" share of this class. */
  usedBytes: number;
  /** avail blocks × size: the "# bytes in available blocks" share of this class. */
  freeBytes: number;
  /** free / (used + free); 0 when the class holds nothing. */
  fragmentation: number;
  /**
   * Bytes of this class's pools not holding a live block: free blocks + pool headers + quantization
   * (= pools × POOL_SIZE − used). Only free bytes when the pool geometry is unknown.
   */
  wastedBytes: number;
  /** wastedBytes / (bytes in arenas − bytes in allocated blocks). */
  wasteShare: number | null;
}

export interface DumpFragmentation {
  allocator: MallocStats['allocator'];
  /** Present for pymalloc dumps only. */
  breakdown?: ArenaBreakdown;
  classes: SizeClassUse[];
  /** Size classes wasting the most bytes, most first (at most RANKING_SIZE, none wasting 0). */
  ranking: SizeClassUse[];
  /** (bytes in arenas − bytes in allocated blocks) / bytes in arenas. */
  overallFragmentation: number | null;
  /** Why there is no pymalloc breakdown, for mimalloc and free-list-only dumps. */
  note?: string;
}

export const RANKING_SIZE = 10;

/** Pool geometry with POOL_OVERHEAD: the params row whose geometry matches the dump's platform. */
export interface PoolGeometry {
  poolSize: number;
  poolOverhead: number;
  arenaSize: number;
}

/**
 * The dump's pool geometry: from its platform when complete; otherwise the params rows that fit
 * what is known, narrowed by the class table (blocks in use + avail blocks = pools × NUMBLOCKS for
 * every class, Objects/obmalloc.c), used only when exactly one geometry remains.
 */
export function poolGeometry(dump: MallocStats): PoolGeometry | undefined {
  const platform: Partial<Platform> = dump.platform ?? {};
  if (platform.poolSize !== undefined && platform.arenaSize !== undefined && platform.poolOverhead !== undefined) {
    return { poolSize: platform.poolSize, poolOverhead: platform.poolOverhead, arenaSize: platform.arenaSize };
  }
  const fits = (p: PymallocParams): boolean =>
    (platform.poolSize === undefined || p.poolSize === platform.poolSize) &&
    (platform.arenaSize === undefined || p.arenaSize === platform.arenaSize) &&
    (platform.poolOverhead === undefined || p.poolOverhead === platform.poolOverhead) &&
    (platform.pointerSize === undefined || p.pointerSize === platform.pointerSize) &&
    (platform.alignment === undefined || p.alignment === platform.alignment) &&
    (dump.classes ?? []).every((c) => c.pools === 0 || c.blocksInUse + c.availBlocks === c.pools * blocksPerPool(p, c.size));
  const found = new Map<string, PoolGeometry>();
  for (const p of [...PYMALLOC_PARAMS, ...GEOMETRY_VARIANTS].filter(fits)) {
    found.set(`${p.poolSize}/${p.poolOverhead}/${p.arenaSize}`, { poolSize: p.poolSize, poolOverhead: p.poolOverhead, arenaSize: p.arenaSize });
  }
  return found.size === 1 ? [...found.values()][0] : undefined;
}

export function analyseDump(dump: MallocStats): DumpFragmentation {
  if (dump.allocator !== 'pymalloc') {
    return {
      allocator: dump.allocator,
      classes: [],
      ranking: [],
      overallFragmentation: null,
      note:
        dump.allocator === 'mimalloc'
          ? 'mimalloc dump: CPython prints only mimalloc totals, no arenas, pools or size classes.'
          : 'free-list only dump: the allocator section was not printed (pymalloc off, or hidden by tracemalloc or another allocator hook).',
    };
  }
  const geometry = poolGeometry(dump);
  const breakdown = arenaBreakdown(dump, geometry);
  const used = breakdown.parts[0]!.bytes;
  const total = breakdown.total;
  const wastedAll = total !== null && used !== null ? total - used : null;
  const classes = sizeClassUse(dump, geometry, wastedAll);
  return {
    allocator: 'pymalloc',
    breakdown,
    classes,
    ranking: rankByWaste(classes),
    overallFragmentation: total && wastedAll !== null ? wastedAll / total : null,
  };
}

export function sizeClassUse(dump: MallocStats, geometry: PoolGeometry | undefined, wastedAll: number | null): SizeClassUse[] {
  return (dump.classes ?? []).map((c) => {
    const usedBytes = c.blocksInUse * c.size;
    const freeBytes = c.availBlocks * c.size;
    const wastedBytes = geometry ? c.pools * geometry.poolSize - usedBytes : freeBytes;
    return {
      index: c.index,
      size: c.size,
      pools: c.pools,
      blocksInUse: c.blocksInUse,
      availBlocks: c.availBlocks,
      usedBytes,
      freeBytes,
      fragmentation: usedBytes + freeBytes > 0 ? freeBytes / (usedBytes + freeBytes) : 0,
      wastedBytes,
      wasteShare: wastedAll ? wastedBytes / wastedAll : null,
    };
  });
}

export function rankByWaste(classes: readonly SizeClassUse[], n = RANKING_SIZE): SizeClassUse[] {
  return classes
    .filter((c) => c.wastedBytes > 0)
    .sort((a, b) => b.wastedBytes - a.wastedBytes || a.size - b.size)
    .slice(0, n);
}

export function arenaBreakdown(dump: MallocStats, geometry: PoolGeometry | undefined): ArenaBreakdown {
  const t = dump.totals ?? {};
  const classes = dump.classes;
  const notes: string[] = [];
  const known = (v: number | undefined): [number | null, ValueSource] => (v === undefined ? [null, 'unknown'] : [v, 'printed']);
  const sumClasses = (f: (c: NonNullable<typeof classes>[number]) => number): number | undefined =>
    classes ? classes.reduce((s, c) => s + f(c), 0) : undefined;
  // Sums over the table stand for the dump's totals only when the table is whole.
  const whole = classes !== undefined && !dump.classesIncomplete;

  let [used, usedSrc] = known(t.bytesInAllocatedBlocks);
  if (used === null && whole) [used, usedSrc] = [sumClasses((c) => c.blocksInUse * c.size)!, 'derived'];
  let [free, freeSrc] = known(t.bytesInAvailableBlocks);
  if (free === null && whole) [free, freeSrc] = [sumClasses((c) => c.availBlocks * c.size)!, 'derived'];
  let [headers, headersSrc] = known(t.bytesLostToPoolHeaders);
  if (headers === null && whole && geometry) [headers, headersSrc] = [sumClasses((c) => c.pools)! * geometry.poolOverhead, 'derived'];
  let [quant, quantSrc] = known(t.bytesLostToQuantization);
  if (quant === null && whole && geometry) {
    [quant, quantSrc] = [sumClasses((c) => c.pools * quantizationPerPool(geometry, c.size))!, 'derived'];
  }
  let [unused, unusedSrc] = known(t.unusedPoolBytes);
  if (unused === null && t.unusedPools !== undefined && geometry) [unused, unusedSrc] = [t.unusedPools * geometry.poolSize, 'derived'];
  let [align, alignSrc] = known(t.bytesLostToArenaAlignment);

  let [total, totalSrc] = known(t.total);
  if (total === null && dump.arenas?.bytesInCurrent !== undefined) [total, totalSrc] = [dump.arenas.bytesInCurrent, 'derived'];
  if (total === null && dump.arenas?.current !== undefined && geometry) [total, totalSrc] = [dump.arenas.current * geometry.arenaSize, 'derived'];

  // With the total known, one missing part is the remainder. Unused pools and arena alignment are
  // both whole pools never carved, so when both are missing their sum is all that can be known.
  let lumped = false;
  const fixed = [used, free, headers, quant];
  if (total !== null && fixed.every((v) => v !== null)) {
    const rest = total - (fixed as number[]).reduce((s, v) => s + v, 0);
    if (unused === null && align !== null) [unused, unusedSrc] = [rest - align, 'derived'];
    else if (align === null && unused !== null) [align, alignSrc] = [rest - unused, 'derived'];
    else if (unused === null && align === null) {
      [unused, unusedSrc] = [rest, 'derived'];
      lumped = true;
      notes.push('unused pools include the bytes lost to arena alignment: the dump printed neither line.');
    }
  }
  const values = [used, free, unused, headers, quant, align];
  if (total === null && values.every((v) => v !== null)) [total, totalSrc] = [(values as number[]).reduce((s, v) => s + v, 0), 'derived'];

  const sources = [usedSrc, freeSrc, unusedSrc, headersSrc, quantSrc, alignSrc];
  const parts = BREAKDOWN_PARTS.map((part, i) => ({ part, label: PART_LABELS[part], bytes: values[i] ?? null, source: sources[i]! }));
  const knownSum = values.every((v) => v !== null) ? (values as number[]).reduce((s, v) => s + v, 0) : null;
  const discrepancy = knownSum !== null && total !== null ? knownSum - total : null;
  if (discrepancy) notes.push(`the parts add up to ${discrepancy > 0 ? 'more' : 'less'} than the total by ${Math.abs(discrepancy)} bytes.`);
  if (parts.some((p) => p.source === 'derived') || totalSrc === 'derived') notes.push('some values were not printed and are derived from the size-class table and the pool geometry.');
  if (!lumped && parts.some((p) => p.source === 'unknown')) notes.push('some values were neither printed nor derivable (the dump is incomplete).');
  if (dump.truncated) notes.push('the dump was cut off before its end.');
  return { parts, total, totalSource: totalSrc, discrepancy, notes };
}

