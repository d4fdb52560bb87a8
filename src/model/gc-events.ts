// The GC-relevant event stream of a capture bundle: which records allocated or freed a GC object,
// where the recorded collections are, and the gc-module calls the recorder noted.
//
// The recorder logs generations[0].count with every record (docs/capture.md). It changes by +1 just
// AFTER a GC object's malloc record (the count is raised once PyObject_Malloc has returned:
// _PyObject_GC_Alloc ≤3.10, _PyObject_GC_Link 3.11+), by −1 just BEFORE a GC object's free record
// (PyObject_GC_Del lowers it, then calls PyObject_Free), never below 0, and is cleared by a
// collection or gc.freeze(). So the delta between two consecutive records is
//     y[i+1] − y[i] = alloc(i) − free(i+1)
// where alloc(i) says record i allocated a GC object and free(i+1) says record i+1 freed one while
// the count was above 0. Which pointers are GC objects is carried forward: a free of a pointer whose
// malloc raised the count is a GC free. Both are solved record by record with one record of
// look-ahead. The one case the deltas leave open (count 0, a malloc, then the free of a GC object:
// either both counted or neither) is taken as both counted, and counted as ambiguous.
//
// Inside a collection (records flagged "collecting" by the recorder; without the flag, between the
// gc_start and gc_stop records) the count is cleared and garbage is freed: those records are not
// allocation events of the program, only bookkeeping (freed pointers leave the GC set).

import { FLAG_COLLECTING, FLAG_DOMAIN, OP_ARENA_ALLOC, OP_ARENA_FREE, OP_CALLOC, OP_FREE, OP_GC_START, OP_GC_STOP, OP_MALLOC, OP_NOTE, OP_REALLOC, OP_STATS } from './types.js';
import { PointerSet } from './address-table.js';
import { parseGcCall, type GcCall } from './gc.js';

/** One line of a bundle's gc.jsonl (docs/capture.md): what gc.callbacks received, and the collector's state. */
export interface GcLogLine {
  phase: 'start' | 'stop';
  generation: number;
  collected: number;
  uncollectable: number;
  /** Index of its gc_start / gc_stop record. */
  record: number;
  calls?: number;
  counts?: number[] | null;
  thresholds?: number[];
  enabled?: boolean;
  long_lived_total?: number;
  long_lived_pending?: number;
  /**
   * Tracked objects in generations 0, 1, 2 (gc_list_size). Generation 2 (and `permanent`) is null
   * around young collections: the recorder walks those lists only for collections of generation 1
   * or 2 (docs/capture.md); bundles recorded before that have all three everywhere.
   */
  objects?: (number | null)[];
  permanent?: number | null;
  /** GC objects on the type free lists (3.10+; -1 where the recorder cannot read them). */
  free_lists?: number;
  thread?: number;
  t_ns?: number;
}

/** A collection seen in the recording: a run of records flagged "collecting", or a cleared count. */
export interface RecordedWindow {
  /** First record appended after the collection began (bundles without the flag: its gc_start record). */
  start: number;
  /** The callbacks' lines, when the helper had attached. */
  startLine?: GcLogLine;
  stopLine?: GcLogLine;
  /** No record inside: only the young count says a collection (or freeze) ran between two records. */
  empty: boolean;
  /** The young count on the record before the window. */
  youngBefore: number;
}

/** What the extractor tells its consumers, in recorded order. */
export interface GcEventSink {
  /**
   * Record `record` allocated GC object `ptr`; its +1 follows the record. `next` is the first
   * record after the allocation's call: `record + 1`, or later when a count marker's stats record
   * was appended inside the call, after its record and before the +1 (and before a collection the
   * +1 starts, ≤3.11).
   */
  alloc(record: number, ptr: number, next: number): void;
  /** Record `record` frees GC object `ptr` outside a collection: −1 (when above 0) just before it. */
  free(record: number, ptr: number): void;
  /** GC object `ptr` freed inside a recorded collection (garbage, or the callbacks' own objects). */
  release(record: number, ptr: number): void;
  /** A realloc moved GC object `from` to `to` (no count change). */
  move(from: number, to: number): void;
  /** A recorded collection begins with record `w.start`. */
  windowStart(w: RecordedWindow): void;
  /**
   * The recorded collection ended; `record` is the first record after it (its own free, if any,
   * was already reported) and `young` the count recorded there.
   */
  windowEnd(w: RecordedWindow, record: number, young: number): void;
  /** A gc-module call the recorder noted, just before the call ran. */
  call(record: number, call: GcCall): void;
  /** Called for every record, first thing (positions for eval-breaker scheduling, progress). */
  record?(record: number): void;
}

export interface GcEventStats {
  records: number;
  allocs: number;
  frees: number;
  releases: number;
  /** Count 0, malloc, GC free: both counted or neither (taken as both). */
  ambiguous: number;
  /** A delta no single allocation or free explains, outside every collection. */
  unexplained: number;
  /** Frees the deltas prove to be of GC objects that no counted malloc created (allocated inside a collection). */
  retroactive: number;
  windows: number;
  emptyWindows: number;
}

const NO_RECORD = -1;

export class GcEventExtractor {
  /** Live GC objects by pointer (a PointerSet: pointers are heap numbers to V8, and they churn). */
  private readonly live = new PointerSet();
  readonly stats: GcEventStats = { records: 0, allocs: 0, frees: 0, releases: 0, ambiguous: 0, unexplained: 0, retroactive: 0, windows: 0, emptyWindows: 0 };
  private readonly lineAt = new Map<number, GcLogLine>();
  // The previous record, whose allocation is decided by the current one's young count.
  private pIndex = NO_RECORD;
  /** The first record after the previous record's call (past stats records appended inside it). */
  private pNext = 0;
  private pResult = 0;
  private pYoung = 0;
  private pObjMalloc = false;
  private pInWindow = false;
  private window: RecordedWindow | undefined;
  private announced = false;
  /** Without the collecting flag: inside gc_start … gc_stop. */
  private betweenStartStop = false;
  /** A gc.freeze() note was seen: the count it clears is no collection. */
  private freezing = false;

  constructor(
    private readonly sink: GcEventSink,
    lines: readonly GcLogLine[],
    /** The records carry the recorder's "collecting" flag (manifest recorder.gcState). */
    private readonly collectingFlag: boolean,
    /** In-allocation collectors (≤3.11): a cleared count right after a malloc means that malloc was the trigger. */
    private readonly inAllocation: boolean,
  ) {
    for (const l of lines) this.lineAt.set(l.record, l);
  }

  /** One record, as the fields of an EventBatch row. `young` is undefined when the record has none. */
  push(index: number, code: number, flags: number, young: number | undefined, ptr: number, result: number, label: string | undefined): void {
    const s = this.sink;
    this.stats.records++;
    s.record?.(index);
    if (young === undefined) return; // no young count: nothing to learn (the caller checks the bundle has it)
    let inWindow: boolean;
    if (this.collectingFlag) inWindow = (flags & FLAG_COLLECTING) !== 0;
    else {
      if (code === OP_GC_START) this.betweenStartStop = true;
      inWindow = this.betweenStartStop;
      if (code === OP_GC_STOP) this.betweenStartStop = false;
    }
    // Records appended inside a MEM/OBJ call, before or after that call's own record, would split
    // the call from its count change: an arena record comes before the call's record but after
    // PyObject_GC_Del's −1 (freeing the block can free its arena); a count marker's stats record
    // comes after the call's record but before the caller's +1. They only open a collection (its
    // first record can be an arena the callback's allocations needed); closing waits for the next
    // call's record. A script's marker holds nothing the next record does not.
    if (code === OP_STATS || code === OP_ARENA_ALLOC || code === OP_ARENA_FREE) {
      if (inWindow && !this.window) this.openWindow(index);
      else if (code === OP_STATS && !inWindow && index === this.pNext) this.pNext = index + 1;
      return;
    }
    const isFree = code === OP_FREE && ptr !== 0;
    const known = isFree && this.live.has(ptr);
    let gcFree = known;
    let empty = false;

    // 1. The previous record's allocation, from this record's count.
    if (this.pIndex !== NO_RECORD && !this.pInWindow) {
      const d = young - this.pYoung;
      let a: number;
      if (inWindow) {
        // This record opens a collection: before any reset the count is the previous one plus its
        // allocation; a record already past the reset leaves only the trigger rule.
        a = young >= this.pYoung ? Math.min(1, d) : this.inAllocation && this.pObjMalloc ? 1 : 0;
      } else if (known) {
        if (this.pYoung > 0) a = d + 1;
        else {
          // count 0: (+1 then −1) and (nothing, then a free at 0) both leave d = 0
          a = this.pObjMalloc && d === 0 ? 1 : d;
          if (this.pObjMalloc && d === 0) this.stats.ambiguous++;
        }
        if (a === 1 && !this.pObjMalloc) {
          // no −1 where a GC free would have made one: the deltas say it was not counted
          this.stats.unexplained++;
          gcFree = false;
          a = 0;
        }
      } else if (isFree && d === -1) {
        // a GC object the deltas did not know (allocated inside a collection): the −1 is its free
        gcFree = true;
        this.stats.retroactive++;
        a = 0;
      } else a = d;
      if (a !== 0 && a !== 1) {
        if (young < this.pYoung && this.freezing) {
          a = 0; // gc.freeze() cleared it (the note came first)
        } else if (young < this.pYoung) {
          // A cleared count with no record flagged: a collection with nothing recorded inside it
          // (before the helper attached: no callbacks), or gc.freeze() from C.
          empty = true;
          a = this.inAllocation && this.pObjMalloc ? 1 : 0;
        } else {
          this.stats.unexplained++;
          a = 0;
        }
      }
      if (a === 1) {
        if (this.pObjMalloc) this.allocated(this.pIndex, this.pResult, this.pNext);
        else this.stats.unexplained++;
      }
    }

    // 2. Collections opening; this record's free; collections closing (after the free, so that the
    // count recorded here is the count after both).
    let w: RecordedWindow | undefined;
    if (empty) {
      w = { start: index, empty: true, youngBefore: this.pYoung };
      this.stats.windows++;
      this.stats.emptyWindows++;
      s.windowStart(w);
    }
    if (inWindow && !this.window) this.openWindow(index);
    if (!inWindow && this.window) this.announce(); // before this record's free, which follows it
    if ((code === OP_GC_START || code === OP_GC_STOP) && this.window) {
      const line = this.lineAt.get(index);
      if (line?.phase === 'start') this.window.startLine ??= line;
      else if (line?.phase === 'stop') this.window.stopLine = line;
      this.announce();
    }
    if (known || gcFree) {
      this.live.delete(ptr);
      if (inWindow) this.announce();
      if (inWindow || !gcFree) {
        this.stats.releases++;
        s.release(index, ptr);
      } else {
        this.stats.frees++;
        s.free(index, ptr);
      }
    }
    if (w) s.windowEnd(w, index, young);
    if (!inWindow && this.window) this.closeWindow(index, young);

    // 3. The rest of this record.
    if (code === OP_REALLOC && ptr !== 0 && result !== 0 && ptr !== result && this.live.has(ptr)) {
      this.live.delete(ptr);
      this.live.add(result);
      s.move(ptr, result);
    }
    this.freezing = false;
    if (code === OP_NOTE && label !== undefined) {
      const call = parseGcCall(label);
      if (call) s.call(index, call);
      if (call?.call === 'freeze') this.freezing = true;
    }

    this.pIndex = index;
    this.pNext = index + 1;
    this.pResult = result;
    this.pYoung = young;
    this.pObjMalloc = (code === OP_MALLOC || code === OP_CALLOC) && (flags & FLAG_DOMAIN) === 2 && result !== 0 && !inWindow;
    this.pInWindow = inWindow;
  }

  private allocated(record: number, ptr: number, next: number): void {
    this.live.add(ptr);
    this.stats.allocs++;
    this.sink.alloc(record, ptr, next);
  }

  private openWindow(index: number): void {
    this.window = { start: index, empty: false, youngBefore: this.pYoung };
    this.announced = false;
    this.stats.windows++;
  }

  /**
   * Tell the consumers a collection began, once its gc_start line is known: the callback's own
   * allocations come first in the window, so its gc_start record arrives a few records after the
   * first flagged one. Without callbacks, at the first freed object or at the end.
   */
  private announce(): void {
    if (this.window && !this.announced) {
      this.announced = true;
      this.sink.windowStart(this.window);
    }
  }

  private closeWindow(index: number, young: number): void {
    this.announce();
    const w = this.window!;
    this.window = undefined;
    this.sink.windowEnd(w, index, young);
  }
}
