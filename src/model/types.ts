// The shared vocabulary of cpymem: what ingesters produce and models emit.
// Names follow CPython's own words (Objects/obmalloc.c, Python/sysmodule.c).

/** A half-open CPython version range, e.g. {min: "3.10", max: "3.14"} means 3.10 ≤ v ≤ 3.14. */
export interface VersionRange {
  min: string;
  max: string;
}

/** pymalloc geometry as inferred from a dump or taken from the parameter table. */
export interface Platform {
  pointerSize?: 4 | 8;
  alignment?: number;
  poolSize?: number;
  arenaSize?: number;
  /** POOL_OVERHEAD: bytes of each pool's header. */
  poolOverhead?: number;
  /** The CPython versions whose dump layout and geometry fit what was read. */
  versionRange: VersionRange;
}

/** One row of the "class size num pools blocks in use avail blocks" table. */
export interface SizeClassRow {
  index: number;
  size: number;
  pools: number;
  blocksInUse: number;
  availBlocks: number;
}

export interface ArenaCounts {
  allocatedTotal?: number;
  reclaimed?: number;
  highwater?: number;
  current?: number;
  /** "N arenas * ARENA_SIZE bytes/arena" value. */
  bytesInCurrent?: number;
}

export interface MallocTotals {
  bytesInAllocatedBlocks?: number;
  bytesInAvailableBlocks?: number;
  unusedPools?: number;
  unusedPoolBytes?: number;
  bytesLostToPoolHeaders?: number;
  bytesLostToQuantization?: number;
  bytesLostToArenaAlignment?: number;
  total?: number;
}

export interface ArenaMap {
  midNodes?: number;
  botNodes?: number;
  bytesLostToRoot?: number;
  bytesLostToMid?: number;
  bytesLostToBot?: number;
  total?: number;
}

/** A free-list line: "N free PyDictObjects * 48 bytes each = …". */
export interface FreeList {
  /** As CPython names it, without the plural s: "free PyDictObject", "free 7-sized PyTupleObject". */
  type: string;
  count: number;
  bytesEach: number;
  totalBytes: number;
}

/** The mimalloc summary printed instead of the pymalloc section (3.13+). */
export interface MimallocStats {
  smallBlockThreshold?: number;
  sizeClassCount?: number;
  mediumBlockThreshold?: number;
  largeObjectMaxSize?: number;
  allocatedBlocks?: number;
  allocatedBytes?: number;
  allocatedBytesWithOverhead?: number;
  bytesReserved?: number;
  bytesCommitted?: number;
}

/**
 * One `_PyObject_DebugMallocStats` / `sys._debugmallocstats()` dump.
 * A field CPython did not print is absent, never invented.
 */
export interface MallocStats {
  /** 1-based line where the dump starts in its file. */
  line: number;
  /** Which allocator section was printed. */
  allocator: 'pymalloc' | 'mimalloc' | 'none';
  platform?: Platform;
  smallBlockThreshold?: number;
  sizeClassCount?: number;
  classes?: SizeClassRow[];
  arenas?: ArenaCounts;
  totals?: MallocTotals;
  arenaMap?: ArenaMap;
  mimalloc?: MimallocStats;
  freeLists?: FreeList[];
  /** Extra `printone` lines not known to cpymem (e.g. "# times object malloc called"), kept in order. */
  extra?: { label: string; value: number }[];
  /** True when the dump ends before its last section was complete. */
  truncated?: boolean;
}

export type Severity = 'info' | 'warning' | 'error';

/** A recoverable problem met while reading, Perfetto style: a stable code, counted, with where. */
export interface ReadWarning {
  code: string;
  severity: Severity;
  line?: number;
  offset?: number;
  message: string;
}
