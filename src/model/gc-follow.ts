// The follow world: the GC model run over a recording one step ahead. It predicts each collection
// (where it starts, which generation), holds the prediction against what the recording shows, and
// then takes what really happened — the recorded generation, count0 after the collection, the
// long-lived numbers — so one wrong prediction is one mismatch, not a cascade.
//
// 3.8–3.11 collect inside the allocation that takes count0 past threshold0: the collection's first
// record is the very next one (after the stats record of a count marker that fired as that
// allocation's call returned, if one did), so position and generation are checked exactly. 3.12+ only schedule
// it; it runs at the next eval-breaker check, which allocation records cannot show: the distance
// from becoming due to the collection is measured, and the generation is checked as the eval
// breaker re-selects it.

import { PointerSet } from './address-table.js';
import type { GcCall, GcFault } from './gc.js';
import type { GcLogLine, RecordedWindow } from './gc-events.js';
import { GcCalibration, GcWorld, GENS } from './gc-world.js';
import type { GcParams } from './params.js';

/** One disagreement between the recording and the follow world's prediction. */
export interface GcComparison {
  /**
   * generation: predicted at the right place, another generation; missed: predicted where the
   * recording has none; unpredicted: an automatic collection the model did not predict.
   */
  kind: 'generation' | 'missed' | 'unpredicted';
  /** First record of the recorded collection (absent for 'missed'). */
  record?: number;
  /** Where the model had it start, and the record that made it due. */
  predictedRecord?: number;
  dueRecord?: number;
  recordedGeneration?: number;
  predictedGeneration?: number;
}

export interface GcAgreement {
  /** Collections in the recording with callbacks logged, per generation, by trigger. */
  recorded: { automatic: number[]; explicit: number[] };
  /** Collections before the helper attached (seen as flagged records or a cleared count; generation not logged). */
  unlogged: number;
  /** The model's predictions of the automatic collections, per generation. */
  predicted: number[];
  /** Logged automatic collections predicted at their position (3.8–3.11: to the record) with their generation. */
  matched: number;
  generationMismatch: number;
  /** 3.8–3.11: a collection predicted where the recording has none. */
  missed: number;
  /** An automatic collection the model did not predict. */
  unpredicted: number;
  /**
   * 3.8–3.11: runs of allocations that took count0 past threshold0 and collected nothing (CPython
   * does not collect while an exception is pending; gc.disable() from C). Counted in `missed` too.
   */
  notTaken: number;
  /** 3.12+: due collections that ran later than the record after the allocation that made them due. */
  deferredByEvalBreaker: number;
  /** 3.12+: records from becoming due to the collection's first record. */
  delays: { count: number; zero: number; p50: number; p95: number; max: number };
  /** gc.get_count()[1:] at each logged collection's start and stop, model against recorded. */
  counts: { compared: number; equal: number };
  /** Explicit collections noted by the recorder's gc.collect wrapper, and the others (PyGC_Collect from C, finalisation). */
  explicitLogged: number;
  explicitUnlogged: number;
  /** The first disagreements. */
  mismatches: GcComparison[];
  /** The version collects inside the allocation (3.8–3.11): positions are exact, and exactness is claimed. */
  claimsExactness: boolean;
  /** claimsExactness and nothing disagreed. */
  exact: boolean;
}

export class GcFollowWorld extends GcWorld {
  readonly calibration = new GcCalibration();
  /**
   * Generation 2 between the collections that walked it (the recorder walks it only for
   * collections of generation 1 or 2): its size then, less the GC objects freed since that were
   * not allocated since. Only kept for recordings that need it (oldestEstimated).
   */
  private lastOldest: number | undefined;
  private oldestFreed = 0;
  private youngSinceWalk: PointerSet | undefined;
  readonly agreement: GcAgreement;
  /** Full collections: GC objects freed beyond the garbage found (`collected`): the free lists they emptied. */
  readonly freeListCleared: number[] = [];
  /** A gc.collect() note seen, its collection not yet. */
  explicitCall: { generation: number | null } | undefined;
  /** How the last recorded collection was taken (for the what-if world). */
  lastWindow: { trigger: 'automatic' | 'explicit'; generation: number } | undefined;
  /** The last allocation's decision (for the what-if world's fork test). */
  lastDecision: { due: boolean; generation: number } = { due: false, generation: -1 };
  /** count0 at the start of each young collection since the last older one (survivor estimates). */
  netSinceOlder = 0;
  /** In-allocation: a collection predicted to start at this record, not confirmed yet. */
  private predicted: { start: number; due: number; generation: number } | undefined;
  /** In a run of due allocations that collected nothing. */
  private notTakenRun = false;
  private open: { w: RecordedWindow; generation: number; count0: number } | undefined;
  /** GC objects freed inside the open window. */
  private released = 0;
  private freeLists: number | undefined;
  private readonly delays: number[] = [];

  constructor(
    params: GcParams,
    fault: GcFault | undefined,
    private readonly maxMismatches: number,
  ) {
    super(params, undefined, fault);
    this.agreement = {
      recorded: { automatic: GENS(), explicit: GENS() },
      unlogged: 0,
      predicted: GENS(),
      matched: 0,
      generationMismatch: 0,
      missed: 0,
      unpredicted: 0,
      notTaken: 0,
      deferredByEvalBreaker: 0,
      delays: { count: 0, zero: 0, p50: 0, p95: 0, max: 0 },
      counts: { compared: 0, equal: 0 },
      explicitLogged: 0,
      explicitUnlogged: 0,
      mismatches: [],
      claimsExactness: params.trigger === 'in-allocation',
      exact: false,
    };
  }

  /** GC objects on the type free lists at the last logged collection (recorders that read them). */
  freeListObjects(): number | undefined {
    return this.freeLists;
  }

  /** Tracked objects now, estimated: the last logged count grown by the survivors of count0 since. */
  trackedNow(): number | undefined {
    const t = this.calibration.lastTracked;
    return t === undefined ? undefined : t + this.calibration.young * this.model.counts[0];
  }

  private mismatch(c: GcComparison): void {
    if (this.agreement.mismatches.length < this.maxMismatches) this.agreement.mismatches.push(c);
  }

  /**
   * An in-allocation prediction holds only if a collection's first record is the very next one.
   * Anything else first: CPython did not collect there (an exception was pending, or the collector
   * was disabled from C); the next GC allocation is due again.
   */
  private settle(): void {
    const p = this.predicted;
    if (!p) return;
    this.predicted = undefined;
    this.model.collecting = false;
    if (!this.notTakenRun) {
      this.agreement.notTaken++;
      this.agreement.missed++;
      this.mismatch({ kind: 'missed', predictedRecord: p.start, dueRecord: p.due, predictedGeneration: p.generation });
    }
    this.notTakenRun = true;
  }

  /** The log leaves generation 2 out around young collections: estimate it from the frees. */
  estimateOldest(): void {
    this.youngSinceWalk ??= new PointerSet();
  }

  /** A GC object freed (in or out of a collection): an old one if not allocated since the last walk. */
  private freed(ptr: number): void {
    const young = this.youngSinceWalk;
    if (young && !young.delete(ptr)) this.oldestFreed++;
  }

  moved(from: number, to: number): void {
    const young = this.youngSinceWalk;
    if (young?.delete(from)) young.add(to);
  }

  /** `next`: the first record after the allocation's call (past a count marker's stats record appended inside it). */
  alloc(record: number, ptr = 0, next = record + 1): void {
    this.youngSinceWalk?.add(ptr);
    this.settle();
    const m = this.model;
    const wasOver = m.counts[0] > m.thresholds[0];
    const outcome = m.allocate();
    const generation = outcome === 'none' ? -1 : m.selectGeneration();
    this.lastDecision = { due: outcome !== 'none', generation };
    if (outcome === 'none') this.notTakenRun = false;
    if (outcome === 'collect') {
      this.predicted = { start: next, due: record, generation };
      m.collecting = true;
    } else if (outcome === 'schedule' && (!wasOver || this.dueRecord < 0)) this.dueRecord = record;
  }

  free(ptr = 0): void {
    this.freed(ptr);
    this.settle();
    if (!this.open) this.model.deallocate();
  }

  release(ptr = 0): void {
    this.freed(ptr);
    this.settle();
    if (this.open) this.released++;
  }

  call(call: GcCall): void {
    this.settle();
    this.applyCall(call, false);
    if (call.call === 'collect') this.explicitCall = { generation: call.generation };
  }

  /** Would the next recorded collection be the scheduled automatic one (3.12+)? */
  willRunScheduled(): boolean {
    return this.model.params.trigger === 'eval-breaker' && this.model.scheduled && !this.explicitCall;
  }

  windowStart(w: RecordedWindow): void {
    const m = this.model;
    const a = this.agreement;
    const line = w.startLine;
    const recordedGen = line?.generation;
    const p = this.predicted;
    this.predicted = undefined;
    m.collecting = false;
    let trigger: 'automatic' | 'explicit';
    let modelGen = -1;
    let due: number | undefined;
    if (p && p.start === w.start && !this.explicitCall) {
      trigger = 'automatic';
      modelGen = p.generation;
      due = p.due;
    } else {
      if (p) {
        this.predicted = p;
        this.settle();
      }
      if (this.explicitCall) {
        trigger = 'explicit';
        modelGen = this.explicitCall.generation ?? recordedGen ?? 2;
        a.explicitLogged++;
      } else if (m.params.trigger === 'eval-breaker' && m.scheduled) {
        trigger = 'automatic';
        due = this.dueRecord;
        this.dueRecord = -1;
        modelGen = m.runScheduled();
        if (modelGen >= 0) {
          this.delays.push(w.start - (due + 1));
          if (w.start !== due + 1) a.deferredByEvalBreaker++;
        }
      } else if (m.counts[0] > m.thresholds[0] && m.enabled && m.thresholds[0] !== 0) {
        // due, and not predicted here: the model lost the count, or CPython collected later than
        // the allocation that made it due
        trigger = 'automatic';
      } else {
        // Nothing was due and no gc.collect() was noted: PyGC_Collect() from C or at finalisation
        // (callbacks logged), or _PyGC_CollectNoFail at shutdown, which calls no callbacks and
        // always collects the oldest generation.
        trigger = 'explicit';
        modelGen = recordedGen ?? 2;
        a.explicitUnlogged++;
      }
    }
    this.explicitCall = undefined;
    if (line) (trigger === 'explicit' ? a.recorded.explicit : a.recorded.automatic)[recordedGen!]!++;
    else a.unlogged++;
    if (trigger === 'automatic') {
      this.notTakenRun = false;
      if (modelGen < 0) {
        a.unpredicted++;
        this.mismatch({ kind: 'unpredicted', record: w.start, recordedGeneration: recordedGen });
      } else {
        a.predicted[modelGen]!++;
        if (recordedGen !== undefined && recordedGen !== modelGen) {
          a.generationMismatch++;
          this.mismatch({ kind: 'generation', record: w.start, predictedRecord: w.start, dueRecord: due, recordedGeneration: recordedGen, predictedGeneration: modelGen });
        } else if (line) a.matched++;
      }
    }
    if (modelGen >= 0) this.note({ generation: modelGen, startRecord: w.start, dueRecord: due, trigger, countsAtStart: [...m.counts] });
    if (line?.counts) this.compareCounts(line.counts);
    if (line?.thresholds) m.setThreshold(line.thresholds);
    if (line?.free_lists !== undefined && line.free_lists >= 0) this.freeLists = line.free_lists;
    // Take the recorded collection: its generation when logged, the model's otherwise. Survivors
    // are the recorded ones at its end; estimated only when nothing was logged.
    const generation = recordedGen ?? (modelGen >= 0 ? modelGen : 0);
    const count0 = m.counts[0];
    const cal = this.calibration;
    const promoted = Math.round(cal.young * (this.netSinceOlder + count0));
    const tracked = this.trackedNow();
    m.collect(generation, { promoted, total: tracked === undefined ? m.longLivedTotal + m.longLivedPending : Math.round(cal.full * tracked) });
    this.netSinceOlder = generation === 0 ? this.netSinceOlder + count0 : 0;
    m.collecting = true;
    this.open = { w, generation, count0 };
    this.released = 0;
    this.lastWindow = { trigger, generation };
    if (m.params.trigger === 'eval-breaker' && trigger === 'explicit') {
      // the eval breaker runs right after and finds nothing due any more
      m.scheduled = false;
      this.dueRecord = -1;
    }
  }

  private compareCounts(recorded: readonly number[]): void {
    const c = this.agreement.counts;
    c.compared++;
    if (recorded[1] === this.model.counts[1] && recorded[2] === this.model.counts[2]) c.equal++;
  }

  windowEnd(w: RecordedWindow, young: number): void {
    const o = this.open;
    this.open = undefined;
    const m = this.model;
    m.collecting = false;
    // What the collection's callbacks and finalizers allocated is in the recorded count.
    m.counts[0] = young;
    if (!o) return;
    const start = w.startLine;
    const stop = w.stopLine;
    const last = this.collections.at(-1);
    const mine = last && last.startRecord === w.start ? last : undefined;
    if (stop?.counts) {
      this.compareCounts(stop.counts);
      m.counts[1] = stop.counts[1]!;
      m.counts[2] = stop.counts[2]!;
    }
    const cal = this.calibration;
    if (start?.objects && stop?.objects) {
      if (o.generation === 0 && start.counts) cal.addYoung(stop.objects[1]! - start.objects[1]!, start.counts[0]!);
      if (o.generation === 2 && stop.long_lived_total !== undefined && start.objects[2] !== null) cal.addFull(stop.long_lived_total, start.objects[0]! + start.objects[1]! + start.objects[2]!);
      const walked = stop.objects[2];
      if (walked !== null && walked !== undefined) {
        this.lastOldest = walked;
        this.oldestFreed = 0;
        if (this.youngSinceWalk) this.youngSinceWalk = new PointerSet();
      }
      // Before the first walk: what the collector itself knows of generation 2.
      const known = stop.long_lived_total === undefined ? undefined : stop.long_lived_total + (stop.long_lived_pending ?? 0);
      const oldest = walked ?? (this.lastOldest === undefined ? known : Math.max(0, this.lastOldest - this.oldestFreed));
      if (oldest !== undefined) cal.lastTracked = stop.objects[0]! + stop.objects[1]! + oldest;
    }
    if (stop?.long_lived_total !== undefined && stop.long_lived_pending !== undefined) {
      m.longLivedTotal = stop.long_lived_total;
      m.longLivedPending = stop.long_lived_pending;
    } else if (mine) mine.estimated = true;
    if (stop?.enabled !== undefined) m.enabled = stop.enabled;
    if (o.generation === 2 && stop && m.params.collector === 'generational') this.freeListCleared.push(Math.max(0, this.released - stop.collected - stop.uncollectable));
    if (mine) {
      mine.longLived = { total: m.longLivedTotal, pending: m.longLivedPending };
      if (start) mine.record = start.record;
    }
  }

  finish(): void {
    this.settle();
    const a = this.agreement;
    const d = [...this.delays].sort((x, y) => x - y);
    const q = (f: number) => (d.length ? d[Math.min(d.length - 1, Math.floor(f * d.length))]! : 0);
    a.delays = { count: d.length, zero: d.filter((x) => x === 0).length, p50: q(0.5), p95: q(0.95), max: d.at(-1) ?? 0 };
    a.exact = a.claimsExactness && a.missed === 0 && a.unpredicted === 0 && a.generationMismatch === 0 && a.counts.equal === a.counts.compared;
  }
}

export type { GcLogLine };
