// THE table of CPython versions × platforms: every pymalloc constant and every version difference
// of the `_debugmallocstats` layout lives here, as data. Nothing else in cpymem asks "which version?".
//
// Sources: Objects/obmalloc.c (≤3.11), Include/internal/pycore_obmalloc.h (3.12+),
// Python/sysmodule.c, Objects/*object.c free-list printers; checked against real dumps of the pyenv
// CPythons 3.6–3.13 (fixtures/malloc-stats) and ../shared/cpython-memory-facts.md §1.1, §2.

/** CPython versions cpymem knows, oldest first. Version strings compare with compareVersions(). */
export const KNOWN_VERSIONS = [
  '2.7', '3.0', '3.1', '3.2', '3.3', '3.4', '3.5', '3.6', '3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14',
] as const;

export interface ArenaMapParams {
  /** Bytes of the root node ("# bytes lost to arena map root"). */
  rootBytes: number;
  /** Bytes per mid / bottom node; absent on 32-bit where the root is the only (bottom) node. */
  midBytes?: number;
  botBytes?: number;
  /**
   * Address bits above ARENA_BITS used by each level (MAP_TOP_BITS, MAP_MID_BITS, MAP_BOT_BITS) and
   * the high bits ignored (3.10 keys only the low 48 bits). A 32-bit map has only a bottom level.
   */
  topBits: number;
  midBits: number;
  botBits: number;
  ignoreBits: number;
}

export interface PymallocParams {
  /** Inclusive version range this row covers. */
  min: string;
  max: string;
  pointerSize: 4 | 8;
  /** SMALL_REQUEST_THRESHOLD */
  smallRequestThreshold: number;
  /** ALIGNMENT: size-class spacing. */
  alignment: number;
  /** POOL_SIZE */
  poolSize: number;
  /** ARENA_SIZE */
  arenaSize: number;
  /** POOL_OVERHEAD = sizeof(struct pool_header) rounded up to ALIGNMENT. */
  poolOverhead: number;
  /** Radix-tree "arena map" section of the dump (3.10+), or absent. */
  arenaMap?: ArenaMapParams;
  /**
   * bpo-37257 (3.9+): a wholly free arena is released only if it is not the last of usable_arenas.
   * 3.8 and older release it always.
   */
  keepsLastEmptyArena: boolean;
}

// Rows are disjoint per pointer size. 3.6/3.7 builds changed ALIGNMENT from 8 to 16 on 64-bit in a
// patch release (bpo-27987, backported); the row below is the one the pyenv 3.6.15/3.7.16 builds
// print ("in 32 size classes"); older patch releases print 64 classes and are matched by
// GEOMETRY_VARIANTS below.
export const PYMALLOC_PARAMS: readonly PymallocParams[] = [
  { min: '2.7', max: '3.5', pointerSize: 8, smallRequestThreshold: 512, alignment: 8, poolSize: 4096, arenaSize: 262144, poolOverhead: 48, keepsLastEmptyArena: false },
  { min: '3.6', max: '3.8', pointerSize: 8, smallRequestThreshold: 512, alignment: 16, poolSize: 4096, arenaSize: 262144, poolOverhead: 48, keepsLastEmptyArena: false },
  { min: '3.9', max: '3.9', pointerSize: 8, smallRequestThreshold: 512, alignment: 16, poolSize: 4096, arenaSize: 262144, poolOverhead: 48, keepsLastEmptyArena: true },
  { min: '3.10', max: '3.10', pointerSize: 8, smallRequestThreshold: 512, alignment: 16, poolSize: 16384, arenaSize: 1048576, poolOverhead: 48, keepsLastEmptyArena: true,
    arenaMap: { rootBytes: 8192, midBytes: 8192, botBytes: 2048, topBits: 10, midBits: 10, botBits: 8, ignoreBits: 16 } },
  { min: '3.11', max: '3.14', pointerSize: 8, smallRequestThreshold: 512, alignment: 16, poolSize: 16384, arenaSize: 1048576, poolOverhead: 48, keepsLastEmptyArena: true,
    arenaMap: { rootBytes: 262144, midBytes: 262144, botBytes: 131072, topBits: 15, midBits: 15, botBits: 14, ignoreBits: 0 } },
  { min: '2.7', max: '3.8', pointerSize: 4, smallRequestThreshold: 512, alignment: 8, poolSize: 4096, arenaSize: 262144, poolOverhead: 32, keepsLastEmptyArena: false },
  { min: '3.9', max: '3.9', pointerSize: 4, smallRequestThreshold: 512, alignment: 8, poolSize: 4096, arenaSize: 262144, poolOverhead: 32, keepsLastEmptyArena: true },
  { min: '3.10', max: '3.14', pointerSize: 4, smallRequestThreshold: 512, alignment: 8, poolSize: 4096, arenaSize: 262144, poolOverhead: 32, keepsLastEmptyArena: true,
    arenaMap: { rootBytes: 131072, topBits: 0, midBits: 0, botBits: 14, ignoreBits: 0 } },
];

/** Geometries seen in real dumps of builds that do not match their version's default row. */
export const GEOMETRY_VARIANTS: readonly PymallocParams[] = [
  // 64-bit 3.6/3.7 before the ALIGNMENT 16 backport.
  { min: '3.6', max: '3.7', pointerSize: 8, smallRequestThreshold: 512, alignment: 8, poolSize: 4096, arenaSize: 262144, poolOverhead: 48, keepsLastEmptyArena: false },
  // 64-bit 3.10+ built with WITH_PYMALLOC_RADIX_TREE=0: 4 KiB pools in 1 MiB arenas, no arena map.
  { min: '3.10', max: '3.14', pointerSize: 8, smallRequestThreshold: 512, alignment: 16, poolSize: 4096, arenaSize: 1048576, poolOverhead: 48, keepsLastEmptyArena: true },
];

/**
 * Free-list kinds of `sys._debugmallocstats()` and the versions that print them (§2.5 of the facts).
 * `tuples` is the largest tuple length with a free list; `tupleBase` is bytes of a 0-sized tuple
 * (each extra item adds pointerSize).
 */
export interface FreeListParams {
  min: string;
  max: string;
  kinds: readonly string[];
  tuples: number;
  tupleBase64: number;
}

export const FREE_LIST_PARAMS: readonly FreeListParams[] = [
  { min: '3.3', max: '3.8', kinds: ['PyCFunctionObject', 'PyDictObject', 'PyFloatObject', 'PyFrameObject', 'PyListObject', 'PyMethodObject'], tuples: 19, tupleBase64: 24 },
  { min: '3.9', max: '3.10', kinds: ['PyDictObject', 'PyFloatObject', 'PyFrameObject', 'PyListObject'], tuples: 19, tupleBase64: 24 },
  { min: '3.11', max: '3.12', kinds: ['PyDictObject', 'PyFloatObject', 'PyListObject'], tuples: 20, tupleBase64: 24 },
  { min: '3.13', max: '3.13', kinds: ['PyDictObject', 'PyDictKeysObject', 'PyFloatObject', 'PyListObject'], tuples: 20, tupleBase64: 24 },
  { min: '3.14', max: '3.14', kinds: ['PyDictObject', 'PyDictKeysObject', 'PyFloatObject', 'PyListObject'], tuples: 20, tupleBase64: 32 },
];

/** Layout facts of the dump itself that do not depend on version. */
export const DUMP_LAYOUT = {
  /** printone(): labels are padded to this width before " = ". */
  labelWidth: 35,
  /** printone(): the value column width, with "," thousands separators. */
  valueWidth: 21,
  /** _PyDebugAllocatorStats(): the free-list label is right-justified in this width. */
  freeListLabelWidth: 48,
} as const;

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** "3.11.7" → "3.11"; accepts "3.11" too. Throws on anything else. */
export function majorMinor(version: string): string {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!m) throw new Error(`not a CPython version: ${JSON.stringify(version)}`);
  return `${m[1]}.${m[2]}`;
}

export function inRange(version: string, min: string, max: string): boolean {
  const v = majorMinor(version);
  return compareVersions(v, min) >= 0 && compareVersions(v, max) <= 0;
}

/** The default pymalloc geometry of a version on a pointer size. */
export function pymallocParams(version: string, pointerSize: 4 | 8 = 8): PymallocParams {
  const row = PYMALLOC_PARAMS.find((p) => p.pointerSize === pointerSize && inRange(version, p.min, p.max));
  if (!row) throw new Error(`unknown CPython version for pymalloc: ${version} (${pointerSize * 8}-bit)`);
  return row;
}

/** NUMBLOCKS(i): blocks of one size class in one pool. */
export function blocksPerPool(p: Pick<PymallocParams, 'poolSize' | 'poolOverhead'>, size: number): number {
  return Math.floor((p.poolSize - p.poolOverhead) / size);
}

/** Bytes lost to quantization in one pool of a size class. */
export function quantizationPerPool(p: Pick<PymallocParams, 'poolSize' | 'poolOverhead'>, size: number): number {
  return (p.poolSize - p.poolOverhead) % size;
}

// ---- tracemalloc (Lib/tracemalloc.py, Modules/_tracemalloc.c ≤3.11, Python/tracemalloc.c 3.12+) ----
// Read in the 3.4/3.5, 3.6, 3.7/3.8 and 3.9–3.14 sources; checked against print(stat) output of the
// pyenv CPythons 3.6–3.13 and pyodide 3.11–3.14 (fixtures/tracemalloc). 3.4/3.5 are SOURCE-only.

export interface TracemallocParams {
  min: string;
  max: string;
  /** Fields of a raw trace tuple: (size, tb) 3.4–3.5; (domain, size, tb) 3.6–3.8; + total_nframe 3.9+. */
  traceFields: 2 | 3 | 4;
  /**
   * Traceback._frames order. `_tracemalloc` returns frames most recent first; from 3.7 the
   * Traceback constructor reverses them (oldest first), which changes str(traceback) (its first
   * frame), the sort order of tracebacks and format().
   */
  tracebackOldestFirst: boolean;
  /**
   * Traceback.format(limit): 'head' (≤3.6) prints self[:limit] and nothing for a negative limit;
   * 'tail' (3.7+) prints self[-limit:] for limit > 0 and self[:limit] otherwise, and has
   * most_recent_first.
   */
  formatLimit: 'head' | 'tail';
  /** _normalize_filename() strips the last letter of ".pyo" too (3.4–3.5), not only of ".pyc". */
  normalizesPyo: boolean;
  /** Traces carry a domain; DomainFilter and Filter(domain=…) exist (3.6+). */
  domains: boolean;
}

export const TRACEMALLOC_PARAMS: readonly TracemallocParams[] = [
  { min: '3.4', max: '3.5', traceFields: 2, tracebackOldestFirst: false, formatLimit: 'head', normalizesPyo: true, domains: false },
  { min: '3.6', max: '3.6', traceFields: 3, tracebackOldestFirst: false, formatLimit: 'head', normalizesPyo: false, domains: true },
  { min: '3.7', max: '3.8', traceFields: 3, tracebackOldestFirst: true, formatLimit: 'tail', normalizesPyo: false, domains: true },
  { min: '3.9', max: '3.14', traceFields: 4, tracebackOldestFirst: true, formatLimit: 'tail', normalizesPyo: false, domains: true },
];

/** The tracemalloc semantics of a CPython version (3.4–3.14). Throws on other versions. */
export function tracemallocParams(version: string): TracemallocParams {
  const row = TRACEMALLOC_PARAMS.find((p) => inRange(version, p.min, p.max));
  if (!row) throw new Error(`tracemalloc exists in CPython 3.4–3.14, not in ${version}`);
  return row;
}

/**
 * The rows whose snapshots have trace tuples of this many fields, newest first: a snapshot does not
 * record its CPython version, only this shape (3 fields fit both 3.6 and 3.7–3.8).
 */
export function tracemallocRowsForFields(fields: number): TracemallocParams[] {
  return TRACEMALLOC_PARAMS.filter((p) => p.traceFields === fields).reverse();
}

/**
 * `cpymem capture`: what the recorder may do on each CPython version (src/capture/recorder,
 * ../shared/recording-notes.md). Versions outside these rows are refused.
 */
export interface CaptureParams {
  min: string;
  max: string;
  /**
   * When the last real dump is taken. after-finalize: once more after Py_FinalizeEx (it works and
   * shows the arenas finalisation released). before-finalize: only from the helper's atexit
   * callback, because 3.12 moved the allocator state into the interpreter, and a dump after
   * finalisation crashes.
   */
  exitDump: 'after-finalize' | 'before-finalize';
}

export const CAPTURE_PARAMS: readonly CaptureParams[] = [
  { min: '3.8', max: '3.11', exitDump: 'after-finalize' },
  { min: '3.12', max: '3.13', exitDump: 'before-finalize' },
];

/** The capture row of a version, or undefined when capture does not support it. */
export function captureParams(version: string): CaptureParams | undefined {
  return CAPTURE_PARAMS.find((p) => inRange(version, p.min, p.max));
}

// ---- cyclic GC (Modules/gcmodule.c ≤3.12, Python/gc.c 3.13+) ----
// ../shared/cpython-memory-facts.md §3. Checked against real runs: the young count and every
// collection of capture bundles of 3.8.18–3.13.0 (fixtures/bundles, src/model/gc.ts), the default
// thresholds of 3.14.2 (pyodide, fixtures/gc). Rows are keyed by full versions because 3.14 changed
// its collector in a patch release; a bare "3.14" reads as 3.14.0.

export interface GcParams {
  min: string;
  max: string;
  /**
   * generational: three generations, gen g collected when count_g > threshold_g (oldest first).
   * incremental (3.14.0–3.14.4): a young generation and two old "spaces"; every automatic
   * collection is an increment (reported as generation 1).
   */
  collector: 'generational' | 'incremental';
  /** gc.get_threshold() at start-up (incremental: young, scan-rate factor, 0). */
  thresholds: readonly [number, number, number];
  /**
   * in-allocation (≤3.11): the allocation that makes count0 exceed threshold0 collects at once,
   * inside _PyObject_GC_Alloc (≤3.10) / _PyObject_GC_Link (3.11).
   * eval-breaker (3.12+): that allocation only schedules a collection (_Py_ScheduleGC); it runs at
   * the next eval-breaker check, which re-selects the generation from the counts then and does
   * nothing if none is due any more.
   */
  trigger: 'in-allocation' | 'eval-breaker';
  /**
   * collect_generations / gc_select_generation: the oldest generation is collected only when
   * long_lived_pending >= long_lived_total / 4 (integer division), else the next younger due one.
   */
  longLivedRule: boolean;
  /** Full collections untrack dicts whose contents are all untracked (3.14.5+ never does). */
  untracksDicts: boolean;
  /** Immortal tracked objects met by a collection: kept, moved to the permanent generation, or untracked. */
  immortals: 'kept' | 'permanent' | 'untracked';
  /** Where GC state lives: the runtime (3.8) or each interpreter (3.9+). */
  stateScope: 'runtime' | 'interpreter';
  /** The function that counts +1 per GC-object allocation. */
  countedIn: '_PyObject_GC_Alloc' | '_PyObject_GC_Link';
  /** A fact of the row that was read in a source copy but not checked on a real run. */
  unverified?: string;
}

export const GC_PARAMS: readonly GcParams[] = [
  { min: '3.8', max: '3.8.99', collector: 'generational', thresholds: [700, 10, 10], trigger: 'in-allocation', longLivedRule: true, untracksDicts: true, immortals: 'kept', stateScope: 'runtime', countedIn: '_PyObject_GC_Alloc' },
  { min: '3.9', max: '3.10.99', collector: 'generational', thresholds: [700, 10, 10], trigger: 'in-allocation', longLivedRule: true, untracksDicts: true, immortals: 'kept', stateScope: 'interpreter', countedIn: '_PyObject_GC_Alloc' },
  { min: '3.11', max: '3.11.99', collector: 'generational', thresholds: [700, 10, 10], trigger: 'in-allocation', longLivedRule: true, untracksDicts: true, immortals: 'kept', stateScope: 'interpreter', countedIn: '_PyObject_GC_Link' },
  { min: '3.12', max: '3.12.99', collector: 'generational', thresholds: [700, 10, 10], trigger: 'eval-breaker', longLivedRule: true, untracksDicts: true, immortals: 'permanent', stateScope: 'interpreter', countedIn: '_PyObject_GC_Link' },
  { min: '3.13', max: '3.13.99', collector: 'generational', thresholds: [2000, 10, 10], trigger: 'eval-breaker', longLivedRule: true, untracksDicts: true, immortals: 'permanent', stateScope: 'interpreter', countedIn: '_PyObject_GC_Link' },
  { min: '3.14', max: '3.14.4', collector: 'incremental', thresholds: [2000, 10, 0], trigger: 'eval-breaker', longLivedRule: false, untracksDicts: false, immortals: 'untracked', stateScope: 'interpreter', countedIn: '_PyObject_GC_Link',
    unverified: 'the increment sizes (work_to_do, heap_size) of 3.14.0–3.14.4 are not modelled: every automatic collection is counted as one increment' },
  { min: '3.14.5', max: '3.14.99', collector: 'generational', thresholds: [2000, 10, 10], trigger: 'eval-breaker', longLivedRule: true, untracksDicts: false, immortals: 'untracked', stateScope: 'interpreter', countedIn: '_PyObject_GC_Link',
    unverified: 'read in the 3.14.7 source (gh-142516 restored the generational collector); no 3.14.5+ run recorded' },
];

/** The cyclic GC of a CPython version ("3.11", "3.11.7", "3.14.5"). Throws for versions without a row. */
export function gcParams(version: string): GcParams {
  const v = version.trim().replace(/[^\d.].*$/, '');
  const row = GC_PARAMS.find((p) => compareVersions(v, p.min) >= 0 && compareVersions(v, p.max) <= 0);
  if (!row) throw new Error(`no GC model for CPython ${version} (known: 3.8–3.14)`);
  return row;
}
