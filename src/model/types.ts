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
  /**
   * The log collector's stamp in front of the dump's first line (docker, journald, Python logging;
   * src/ingest/line-time.ts), in seconds since the epoch (syslog stamps have no year: since 2000).
   */
  stampedAt?: number;
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
  /** True when `classes` is not the whole table: rows elided ("..."), skipped, or the dump cut inside it. */
  classesIncomplete?: boolean;
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

// ---- tracemalloc (Lib/tracemalloc.py; Modules/_tracemalloc.c ≤3.11, Python/tracemalloc.c 3.12+) ----

/** One frame of a traceback: `(filename, lineno)` as `_tracemalloc` stores it. Interned per snapshot. */
export interface TraceFrame {
  filename: string;
  lineno: number;
}

/**
 * A traceback in `_tracemalloc`'s raw order: most recent frame first (Lib/tracemalloc.py's
 * Traceback object reverses it from 3.7 on; src/model/tracemalloc-text.ts applies that).
 * Interned by value per snapshot, so two equal tracebacks are the same object.
 */
export interface TraceTraceback {
  /** Dense id within its snapshot (0, 1, 2 …), in order of first appearance. */
  id: number;
  frames: readonly TraceFrame[];
}

/**
 * All traces of a snapshot with one domain and one traceback, summed. Every statistic, diff and
 * filter of Lib/tracemalloc.py depends on a trace only through (domain, traceback, size), so a
 * snapshot reduced to these groups gives exactly CPython's answers in memory proportional to the
 * distinct tracebacks, not to the traces.
 */
export interface TraceGroup {
  domain: number;
  traceback: TraceTraceback;
  /** Sum of the traces' requested sizes, in bytes. */
  size: number;
  /** Number of traces. */
  count: number;
}

/** Traces of one domain (0 = every Python allocator; others come from PyTraceMalloc_Track). */
export interface TraceDomain {
  domain: number;
  traces: number;
  size: number;
}

/** A `tracemalloc.Snapshot` (`Snapshot.dump()` file), reduced to its trace groups. */
export interface TracemallocSnapshot {
  /** `Snapshot.traceback_limit` (tracemalloc.start(nframe)); null when the file did not hold one. */
  tracebackLimit: number | null;
  /** Fields of each raw trace tuple: 2 (3.4–3.5), 3 (3.6–3.8), 4 (3.9+); null when there are no traces. */
  traceFields: 2 | 3 | 4 | null;
  traces: number;
  /** Sum of all traces' sizes. */
  size: number;
  groups: TraceGroup[];
  domains: TraceDomain[];
  /** Distinct tracebacks, frames and file names. */
  tracebacks: number;
  frames: number;
  filenames: number;
  /** Most frames in one stored traceback. */
  maxFrames: number;
  /** 3.9+: the deepest real stack seen (`total_nframe`) and how many traces had a cut traceback. */
  totalNframe: { max: number; truncatedTraces: number } | null;
  /**
   * Domain-0 traces by requested size 0…512 (index = size): what pymalloc would serve, for the
   * implied packing of src/analysis/packing.ts. Larger requests are only counted.
   */
  smallSizes: number[];
  largeTraces: number;
  largeSize: number;
  /** What the file held: pickle protocol, bytes, and the top-level object. */
  source: { protocol: number; bytes: number; container: 'Snapshot' | '_Traces' | 'list' };
}

/** `tracemalloc.Statistic`: one group of `Snapshot.statistics()`. Frames in raw order (most recent first). */
export interface Statistic {
  traceback: readonly TraceFrame[];
  size: number;
  count: number;
}

/** `tracemalloc.StatisticDiff`: one group of `Snapshot.compare_to()`. */
export interface StatisticDiff {
  traceback: readonly TraceFrame[];
  size: number;
  sizeDiff: number;
  count: number;
  countDiff: number;
}

/**
 * A size as `_format_size()` printed it, parsed back: text is lossy, so the bytes are an interval.
 * `min`/`max` are the smallest and largest values that print as `text` (inclusive bounds, rounded
 * to what the value can be: whole bytes for sizes, any real for averages).
 */
export interface PrintedSize {
  text: string;
  /** The printed number times its unit, e.g. "10.5 KiB" → 10752. */
  bytes: number;
  min: number;
  max: number;
  /** The value is exactly `bytes` (a whole-byte size printed in B). */
  exact: boolean;
}

/** A frame line of Traceback.format(): `  File "…", line N` and the source line after it, if any. */
export interface PrintedFrame {
  filename: string;
  lineno: number;
  source?: string;
  /** 1-based line of the `File` line. */
  line: number;
}

/** One statistic line as printed by a human's program, parsed back. */
export interface PrintedStatistic {
  /** 1-based line in the input. */
  line: number;
  /**
   * statistic: `print(stat)` of Snapshot.statistics(); diff: of compare_to(); blocks: the
   * documentation's traceback recipe (`N memory blocks: X KiB`); top: its "pretty top" recipe
   * (`#1: file:line: X KiB`).
   */
  kind: 'statistic' | 'diff' | 'blocks' | 'top';
  /** The frame str(traceback) printed (absent for `blocks` lines). Line 0 means filename grouping. */
  frame?: TraceFrame;
  size: PrintedSize;
  sizeDiff?: PrintedSize;
  count?: number;
  countDiff?: number;
  average?: PrintedSize;
  /** Frames printed under it by Traceback.format(), in printed order. */
  frames?: PrintedFrame[];
  /**
   * Printed frame order when it can be told: the statistic's own frame (str(traceback), the oldest
   * frame in 3.7+) is the first or the last frame printed.
   */
  frameOrder?: 'oldest-first' | 'most-recent-first';
  /** The line was cut before its end; the fields read are kept. */
  truncated?: boolean;
}

/** Printed tracemalloc text (statistics, compare_to, recipes), as pasted from a log or terminal. */
export interface PrintedTracemalloc {
  statistics: PrintedStatistic[];
  /** Headers such as `[ Top 10 ]`, `Top 10 lines`, with their line. */
  headers: { line: number; text: string }[];
  /** Totals printed by the "pretty top" recipe: `N other: X KiB`, `Total allocated size: X KiB`. */
  totals: { line: number; label: string; size: PrintedSize; count?: number }[];
  /** Grouping implied by the lines: 'filename' when every frame line is `file:0`. */
  groupBy?: 'lineno' | 'filename' | 'traceback';
  lines: number;
  linesOutside: number;
}

// ---------------------------------------------------------------------------------------------
// Allocation events recorded by `cpymem capture` (docs/capture.md), as read from a bundle or from
// the interchange CSV. One Event per record, in recorded order.

/** What a record is about; the CSV's `op` column. */
export type EventOp =
  | 'malloc'
  | 'calloc'
  | 'realloc'
  | 'free'
  | 'arena_alloc'
  | 'arena_free'
  | 'gc_start'
  | 'gc_stop'
  | 'stats'
  | 'note';

/** PYMEM_DOMAIN_MEM or PYMEM_DOMAIN_OBJ (both served by pymalloc in a default build). */
export type EventDomain = 'mem' | 'obj';

/**
 * One recorded call or marker. Pointers are plain numbers (x86-64 user addresses fit in 53 bits;
 * a reader refuses any that do not). A field that does not apply to the op is absent or 0.
 */
export interface Event {
  op: EventOp;
  /** For malloc, calloc, realloc, free. */
  domain?: EventDomain;
  /** Small integer per OS thread in order of first record; 0 = the main thread. */
  thread: number;
  /**
   * Bytes requested (calloc: nelem × elsize; realloc: the new size; arena ops: the arena size);
   * for `stats`, sys.getallocatedblocks() at that point, or -1 when it could not be read; 0 for
   * gc ops and notes.
   */
  size: number;
  /** Input pointer (realloc: the old one, free, arena_free), 0 for NULL or none. */
  ptr: number;
  /** Returned pointer (malloc, calloc, realloc, arena_alloc), 0 for NULL or none. */
  result: number;
  /** For arena ops: called inside a MEM/OBJ call, i.e. a pymalloc arena. */
  nested?: boolean;
  /** For gc_start / gc_stop: what gc.callbacks received. */
  generation?: number;
  collected?: number;
  uncollectable?: number;
  /** For `stats`: the real dump file, relative to the bundle (or CSV) it came from; for `note`: its text. */
  label?: string;
  /** The GC's young-generation count when the record was appended (bundles, where the recorder could read it). */
  young?: number;
  /** The cyclic GC was collecting when the record was appended (flag bit 4; bundles whose recorder logs GC state). */
  collecting?: boolean;
}

/** Op codes of an EventBatch: the codes of events.bin (docs/capture.md). `EVENT_OPS[code]` is the op. */
export const EVENT_OPS: readonly (EventOp | undefined)[] = [undefined, 'malloc', 'calloc', 'realloc', 'free', 'arena_alloc', 'arena_free', 'gc_start', 'gc_stop', 'stats', 'note'];
export const OP_MALLOC = 1;
export const OP_CALLOC = 2;
export const OP_REALLOC = 3;
export const OP_FREE = 4;
export const OP_ARENA_ALLOC = 5;
export const OP_ARENA_FREE = 6;
export const OP_GC_START = 7;
export const OP_GC_STOP = 8;
export const OP_STATS = 9;
export const OP_NOTE = 10;
/** Flag bits of an EventBatch row, as in events.bin: bits 0–1 the domain (1 mem, 2 obj). */
export const FLAG_DOMAIN = 0x03;
export const FLAG_NESTED = 0x04;
export const FLAG_YOUNG = 0x08;
/** The cyclic GC was collecting when the record was appended (recorders that log GC state). */
export const FLAG_COLLECTING = 0x10;

/**
 * A run of consecutive events as columns (struct of arrays), for consumers that walk tens of
 * millions of events (replay) and cannot afford an object per event. Row i of every column is the
 * i-th event of the batch; the columns may be longer than `length`. The fields mean what they mean
 * in events.bin: `flags` bits 0–1 domain (1 mem, 2 obj), bit 2 nested (arena ops), bit 3 young
 * present, bit 4 collecting; for gc ops `size` is the generation, `ptr` collected, `result`
 * uncollectable (-1 when unknown, as a stats record's `size`); for stats and note the label is in
 * `labels`.
 * A batch handed to a consumer is only valid until the consumer asks for the next one.
 */
export interface EventBatch {
  length: number;
  op: Uint8Array;
  flags: Uint8Array;
  thread: Uint16Array;
  /** The running young count, where flags bit 3 is set. */
  young: Int32Array;
  size: Float64Array;
  ptr: Float64Array;
  result: Float64Array;
  /** Row → label, for stats (the real dump file) and note (its text) rows. */
  labels: Map<number, string>;
}

/** Why a real dump was taken. */
export type CaptureMarkerReason = 'at' | 'every' | 'script' | 'atexit' | 'exit';

/** One real `_PyObject_DebugMallocStats` dump of a capture, as the recorder logged it. */
export interface CaptureMarker {
  index: number;
  /** 0-based index of its `stats` record in the event stream. */
  record: number;
  /** MEM/OBJ calls recorded before it. */
  calls: number;
  reason: CaptureMarkerReason;
  label?: string;
  /** The dump, relative to the bundle (stats/NNN.txt). */
  file?: string;
  /** Bytes of the dump; 0 when CPython printed nothing (hooks replaced, no pymalloc). */
  bytes: number;
  /** sys.getallocatedblocks() just before and just after the dump, read by the recorder in C. */
  allocatedBlocksBefore: number | null;
  allocatedBlocksAfter: number | null;
  /** How: "_Py_GetAllocatedBlocks" (3.8–3.11) or "arena-walk" (3.12+). */
  allocatedBlocksSource: string | null;
  /** sys.getallocatedblocks() as the Python helper saw it just before asking (script/atexit markers). */
  pythonAllocatedBlocks: number | null;
  /** The recorder's hooks were the MEM/OBJ allocators at the time (false: replaced or wrapped). */
  hooksInstalled: boolean;
  /** The allocators' name when they were not the recorder's (e.g. "malloc", "pymalloc_debug"). */
  allocator: string | null;
  thread: number;
  /** Nanoseconds since the recorder loaded. */
  tNs: number;
}

/** The manifest.json of a capture bundle (schema 1, docs/capture.md). */
export interface Recording {
  format: 'cpymem-capture';
  schema: 1;
  producer: { name: string; version: string };
  python: {
    /** What was run: the interpreter's sys.executable (a venv's bin/python stays as it is). */
    executable: string;
    /** The ELF binary behind it, symlinks resolved: where the recorder was preloaded. */
    binary: string;
    /** What was asked for (--python), e.g. a pyenv shim. */
    requested: string;
    version: string;
    hexversion: number;
    implementation: string;
    pointerSize: number;
    platform: string;
    machine: string;
    build: { pymalloc: boolean; debug: boolean; freeThreaded: boolean; shared: boolean; abiflags: string };
  };
  recorder: {
    sourceSha256: string;
    /** Compiled with the interpreter's internal headers (young counter; 3.12+ allocated blocks). */
    internalHeaders: boolean;
    youngCount: boolean;
    /**
     * Records carry the GC's "collecting" flag, gc.jsonl the collector's state (thresholds,
     * long_lived_*, objects per generation), and gc.enable/disable/freeze/unfreeze/set_threshold/
     * collect calls are notes (docs/capture.md). Absent in bundles of older recorders.
     */
    gcState?: boolean;
    allocatedBlocks: string | null;
    exitDump: 'after-finalize' | 'before-finalize';
    statsAt: number[];
    statsEvery: number | null;
  };
  /** The interpreter's arguments: script and its arguments, or -c CODE / -m MOD …. */
  command: string[];
  startTime: string;
  durationMs: number;
  exit: { status: number | null; signal: string | null; path: 'exit' | '_exit' | null; finalized: boolean | null };
  hooks: {
    helperAttached: boolean;
    atAttach: boolean | null;
    /**
     * Index of the first record after the helper attached (the script starts here: a gc.set_threshold
     * what-if applies from it). Absent in bundles of older recorders; null when it never attached.
     */
    attachRecord?: number | null;
    atEnd: boolean | null;
    lost: boolean;
    env: Record<string, string | null>;
  };
  counts: {
    records: number;
    /** MEM/OBJ calls (malloc, calloc, realloc, free). */
    calls: number;
    byOp: Record<EventOp, number>;
    byDomain: Record<EventDomain, number>;
    arenas: { allocated: number; freed: number; nestedAllocated: number; nestedFreed: number };
    threads: number;
    markers: number;
    /** Completed collections (gc_stop records) per generation. */
    gcCollections: number[];
  };
  markers: CaptureMarker[];
  notes: { index: number; record: number; text: string }[];
  /** Every other file of the bundle: bytes and sha256. */
  files: Record<string, { bytes: number; sha256: string }>;
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// Cyclic GC collections, as read from a log (gc.DEBUG_STATS, gc.callbacks loggers, a capture
// bundle's gc.jsonl) or as predicted by src/model/gc.ts. One type for both so that model versus
// real is a plain diff and every chart accepts either.

/** Where a collection came from. */
export type GcSource = 'gc-debug-stats' | 'gc-callbacks' | 'model';

/** One collection of the cyclic GC (one "start"/"stop" pair, one `gc: collecting …` block). */
export interface GcCollection {
  /** The generation passed to the collection (3.14.0–3.14.4 incremental: 0 young, 1 increment, 2 full). */
  generation: number;
  /**
   * DEBUG_STATS `objects in each generation:` — tracked objects in each generation at the start,
   * before merging (3.14.0–3.14.4: young, visited, pending).
   */
  objects?: number[];
  /** DEBUG_STATS `objects in permanent generation:` (3.7+). */
  permanent?: number;
  /** DEBUG_STATS `N unreachable` (= collected + uncollectable). */
  unreachable?: number;
  /** Objects freed (callbacks' `collected`, or unreachable − uncollectable). */
  collected?: number;
  uncollectable?: number;
  /** DEBUG_STATS `…s elapsed` (printed with 4 decimals), or stop − start time of a callbacks log. */
  elapsedSeconds?: number;
  /** gc.get_count() at the start (callbacks loggers that record it; capture bundles). */
  countsAtStart?: number[];
  /** Seconds since the log's first record, when the log has times. */
  timeSeconds?: number;
  /** 1-based line of the log where the collection starts (ingested logs). */
  line?: number;
  /** 0-based index of its gc_start record in the event stream (bundles, the model). */
  record?: number;
  /** MEM/OBJ calls before it (bundles, the model). */
  calls?: number;
  thread?: number;
  /** Why it ran, when known: automatic (threshold), explicit gc.collect(), or unknown. */
  trigger?: 'automatic' | 'explicit';
  /** The log holds its start but not its end (no `gc: done` line / no "stop" record): results unknown. */
  truncated?: boolean;
  /**
   * Bundles and the model: index of the first record appended after the collection began (bundles
   * whose records carry the "collecting" flag: the first flagged one, before the callbacks' gc_start
   * record). 3.8–3.11 start a collection inside the allocation that made it due: dueRecord + 1.
   */
  startRecord?: number;
  /** The model: the record whose allocation took count0 past threshold0 (3.12+ collect later, at the eval breaker). */
  dueRecord?: number;
  /** long_lived_total and long_lived_pending after the collection (capture bundles; the model). */
  longLived?: { total: number; pending: number };
  /** The model estimated this collection's survivors (the long-lived numbers) instead of taking recorded ones. */
  estimated?: boolean;
}

/** A whole GC log: every collection in order, plus what else the log said. */
export interface GcLog {
  format: GcSource;
  /** CPython versions whose output this layout matches (from the lines seen), e.g. ">=3.7". */
  versionRange?: string;
  collections: GcCollection[];
  /** DEBUG_COLLECTABLE / DEBUG_UNCOLLECTABLE object lines, counted per type name. */
  collectable: Record<string, number>;
  uncollectableObjects: Record<string, number>;
  /** `gc: N uncollectable objects at shutdown` (last value seen), when printed. */
  uncollectableAtShutdown?: number;
  /** Seconds from first to last record, when the log has times (run time for "time in GC"). */
  durationSeconds?: number;
  warnings: ReadWarning[];
}
