// The cyclic GC's bookkeeping, as CPython does it: three generation counts and thresholds, when an
// allocation starts (3.8–3.11) or schedules (3.12+) a collection, which generation is collected, the
// long-lived rule of full collections, gc.freeze/disable/enable/set_threshold and explicit
// gc.collect(). Mirrors Modules/gcmodule.c (_PyObject_GC_Alloc ≤3.10, _PyObject_GC_Link 3.11+,
// collect_generations ≤3.11, gc_collect_generations 3.12, gc_select_generation 3.13, collect /
// gc_collect_main) and, for 3.14.0–3.14.4, the count rules of the incremental collector in
// Python/gc.c. Version differences come from GcParams (src/model/params.ts), never from here.
//
// What the collector decides with and a log of allocations cannot show is passed in: the number of
// objects a collection leaves in the oldest generation (long_lived_pending / long_lived_total come
// from survivors, i.e. from reachability). src/model/gc-replay.ts supplies the recorded numbers
// where the recording has them and estimates elsewhere.

import type { GcParams } from './params.js';

/**
 * A deliberately wrong variant of the model, for negative controls: a comparison that cannot tell
 * these from the real rules proves nothing.
 */
export type GcFault =
  /** count0 >= threshold0 starts a collection (CPython: >). */
  | 'threshold-ge'
  /** the oldest generation is collected whenever its count is due, without the 25 % long-lived rule. */
  | 'no-long-lived-rule'
  /** a collection of generation g does not add one to the count of generation g+1. */
  | 'no-older-count';

export type Thresholds = [number, number, number];

/** What a collection left behind, for the long-lived rule (gc_collect_main). */
export interface GcSurvivors {
  /** Generation 1 collections: objects moved into the oldest generation (added to long_lived_pending). */
  promoted?: number;
  /** Full collections: objects in the oldest generation afterwards (the new long_lived_total). */
  total?: number;
}

/** What happens when an allocation raises count0. */
export type AllocationOutcome = 'none' | 'collect' | 'schedule';

export class GcModel {
  /** generations[i].count: allocations minus deallocations (i = 0), collections of i-1 (i > 0). */
  readonly counts: Thresholds = [0, 0, 0];
  thresholds: Thresholds;
  /** gc.isenabled() */
  enabled = true;
  /** gcstate->collecting: a collection is running (allocations inside it never start another). */
  collecting = false;
  longLivedTotal = 0;
  longLivedPending = 0;
  /** 3.12+: _Py_ScheduleGC set the eval breaker's "GC scheduled" bit and the collection has not run. */
  scheduled = false;

  constructor(
    readonly params: GcParams,
    opts: { thresholds?: readonly number[]; fault?: GcFault } = {},
  ) {
    this.thresholds = [...params.thresholds] as Thresholds;
    if (opts.thresholds) this.setThreshold(opts.thresholds);
    this.fault = opts.fault;
  }

  private readonly fault?: GcFault;

  /**
   * A GC object was allocated: count0 + 1, then CPython's test `count0 > threshold0 && enabled &&
   * threshold0 && !collecting` (and no exception pending, which a log cannot show). In-allocation
   * versions collect at once ('collect': the caller runs selectGeneration + collect); eval-breaker
   * versions only schedule.
   */
  allocate(): AllocationOutcome {
    this.counts[0]++;
    if (!this.due()) return 'none';
    if (this.params.trigger === 'in-allocation') return 'collect';
    this.scheduled = true;
    return 'schedule';
  }

  /** PyObject_GC_Del: count0 − 1 unless it is already 0. */
  deallocate(): void {
    if (this.counts[0] > 0) this.counts[0]--;
  }

  /** Would the allocation that brought count0 to its value start or schedule a collection? */
  due(): boolean {
    const c = this.counts[0];
    const t = this.thresholds[0];
    const over = this.fault === 'threshold-ge' ? c >= t : c > t;
    return over && this.enabled && t !== 0 && !this.collecting;
  }

  /**
   * The generation an automatic collection takes now (collect_generations / gc_select_generation):
   * the oldest whose count exceeds its threshold, the oldest only if long_lived_pending is at least a
   * quarter of long_lived_total; -1 when none is due. 3.14.0–3.14.4: an increment (1) whenever young
   * is due.
   */
  selectGeneration(): number {
    if (this.params.collector === 'incremental') return this.counts[0] > this.thresholds[0] ? 1 : -1;
    for (let i = 2; i >= 0; i--) {
      if (this.counts[i]! <= this.thresholds[i]!) continue;
      if (i === 2 && this.params.longLivedRule && this.fault !== 'no-long-lived-rule' && this.longLivedPending < Math.floor(this.longLivedTotal / 4)) continue;
      return i;
    }
    return -1;
  }

  /**
   * The eval breaker ran the scheduled collection (_Py_RunGC): the schedule is cleared; nothing
   * runs when the collector was disabled meanwhile, or when no generation is due any more.
   */
  runScheduled(): number {
    this.scheduled = false;
    if (!this.enabled) return -1;
    return this.selectGeneration();
  }

  /**
   * The bookkeeping of one collection of generation g (gc_collect_main, before and after the
   * search for garbage): count[g+1] + 1, counts 0..g cleared; a generation-1 collection adds its
   * promoted objects to long_lived_pending, a full one resets long_lived_pending and sets
   * long_lived_total. Unknown survivors leave the long-lived numbers as they were.
   */
  collect(g: number, survivors: GcSurvivors = {}): void {
    if (g < 0 || g > 2) throw new Error(`invalid generation: ${g}`);
    if (this.params.collector === 'incremental') {
      // young collection: young → visited space (old count + 1); increment and full: young cleared.
      if (g === 0 && this.fault !== 'no-older-count') this.counts[1]++;
      this.counts[0] = 0;
      if (g === 2) this.counts[1] = this.counts[2] = 0;
      return;
    }
    if (g < 2 && this.fault !== 'no-older-count') this.counts[g + 1]++;
    for (let i = 0; i <= g; i++) this.counts[i] = 0;
    if (g === 1 && survivors.promoted !== undefined) this.longLivedPending += survivors.promoted;
    if (g === 2) {
      this.longLivedPending = 0;
      if (survivors.total !== undefined) this.longLivedTotal = survivors.total;
    }
  }

  /** gc.freeze(): every tracked object into the permanent generation, all counts 0. */
  freeze(): void {
    this.counts[0] = this.counts[1] = this.counts[2] = 0;
  }

  /** gc.set_threshold(t0[, t1[, t2]]): the thresholds not given stay. */
  setThreshold(t: readonly number[]): void {
    for (let i = 0; i < 3 && i < t.length; i++) this.thresholds[i] = t[i]!;
  }

  enable(): void {
    this.enabled = true;
  }

  disable(): void {
    this.enabled = false;
  }
}

/** A gc-module call recorded as a note by the capture recorder ("gc.set_threshold(100, 5, 5)"). */
export type GcCall =
  | { call: 'enable' | 'disable' | 'freeze' | 'unfreeze' }
  | { call: 'collect'; generation: number | null }
  | { call: 'set_threshold'; thresholds: number[] | null };

/** Parse a note the recorder wrote for a gc-module call; undefined for any other note. */
export function parseGcCall(text: string): GcCall | undefined {
  const m = /^gc\.(enable|disable|freeze|unfreeze|collect|set_threshold)\((.*)\)$/.exec(text);
  if (!m) return undefined;
  const name = m[1]!;
  const args = m[2]!.trim();
  if (name === 'collect') return { call: 'collect', generation: /^\d+$/.test(args) ? Number(args) : null };
  if (name === 'set_threshold') {
    const parts = args.split(',').map((s) => s.trim());
    return { call: 'set_threshold', thresholds: parts.length >= 1 && parts.length <= 3 && parts.every((p) => /^-?\d+$/.test(p)) ? parts.map(Number) : null };
  }
  return { call: name as 'enable' | 'disable' | 'freeze' | 'unfreeze' };
}
