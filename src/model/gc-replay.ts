// One pass of a capture bundle's GC-relevant events (src/model/gc-events.ts) through the GC model
// (src/model/gc.ts), in two worlds:
//
// * The follow world predicts each collection one step ahead — where it starts, which generation —
//   checks the prediction against the recording, and then takes what really happened (so one
//   wrong prediction is one mismatch, not a cascade). 3.8–3.11 collect inside the allocation that
//   makes count0 exceed threshold0, so the start is exact to the record; 3.12+ collect at the next
//   eval-breaker check, which allocation records cannot show, so the distance is measured.
// * A what-if world (other thresholds, another version's collector) mirrors the follow world while
//   its decisions would be the same, and forks at the first allocation or collection where they
//   differ. From then on it runs on the recorded allocations and frees alone: each GC allocation
//   +1, each GC free −1 (never below 0, with its own count, which after a different collection is
//   not the recorded one), collections at its own thresholds, the program's explicit gc calls where
//   the program made them.
//
// What a log of allocations cannot tell is estimated and said so: survivors of a collection (the
// long-lived numbers that decide full collections) once a what-if world has forked — from the
// objects each world holds per generation (GC objects are followed by pointer from allocation to
// free) scaled by the share the recorder saw tracked and surviving at the recorded collections —
// and, on 3.12+, how many records after becoming due a forked world's collection runs
// (evalBreakerDelay, default 0).

import { GcModel, type GcCall, type GcFault, type Thresholds } from './gc.js';
import { GcEventExtractor, type GcEventSink, type GcEventStats, type GcLogLine, type RecordedWindow } from './gc-events.js';
import type { GcParams } from './params.js';
import type { EventBatch, GcCollection } from './types.js';
import { FLAG_YOUNG, OP_NOTE, OP_STATS } from './types.js';

/**
 * Shares measured at recorded collections, for estimating survivors where nothing was recorded: of
 * the GC objects a collection left alive (followed by pointer), how many the collector counted
 * (tracked; the rest are untracked tuples and dicts, and objects parked on free lists).
 */
class Calibration {
  /** Young collections: tracked survivors (gen_list_size moved on) and GC objects that survived. */
  private youngTracked = 0;
  private youngObjects = 0;
  /** Full collections: long_lived_total and GC objects that survived. */
  private allTracked = 0;
  private allObjects = 0;
  /** Any collection's start: tracked objects (gc_list_size) / GC objects, young and all. */
  trackedYoung?: number;
  trackedAll?: number;

  addYoung(tracked: number, objects: number): void {
    if (objects <= 0 || tracked < 0) return;
    this.youngTracked += tracked;
    this.youngObjects += objects;
  }

  addAll(tracked: number, objects: number): void {
    if (objects <= 0 || tracked < 0) return;
    this.allTracked += tracked;
    this.allObjects += objects;
  }

  get young(): number {
    return this.youngObjects > 0 ? this.youngTracked / this.youngObjects : (this.trackedYoung ?? 1);
  }

  get all(): number {
    return this.allObjects > 0 ? this.allTracked / this.allObjects : (this.trackedAll ?? 1);
  }
}

/** How one automatic collection of the recording compares with the follow world's prediction. */
export interface GcComparison {
  kind: 'matched' | 'generation' | 'position' | 'missed' | 'unpredicted';
  /** First record of the recorded collection (undefined for 'missed'). */
  record?: number;
  /** Where the model had it start, and when it became due. */
  predictedRecord?: number;
  dueRecord?: number;
  recordedGeneration?: number;
  predictedGeneration?: number;
}

export interface GcAgreement {
  /** Collections in the recording (with callbacks logged) per generation, by trigger. */
  recorded: { automatic: number[]; explicit: number[] };
  /** Collections before the helper attached: seen as cleared counts or flagged records, generation not logged. */
  unlogged: number;
  /** The follow world's predictions of the automatic ones, per generation. */
  predicted: number[];
  /** Recorded automatic collections whose start and generation the model predicted (3.8–3.11: to the record). */
  matched: number;
  /** Predicted at the right place but another generation. */
  generationMismatch: number;
  /** 3.12+: predicted as due, ran later (the eval breaker): not a mismatch; see delays. */
  deferredByEvalBreaker: number;
  /** 3.8–3.11: the model predicted a collection where the recording has none. */
  missed: number;
  /** An automatic collection the model did not predict. */
  unpredicted: number;
  /**
   * 3.8–3.11: allocations that took count0 past threshold0 but collected nothing (CPython does not
   * collect while an exception is pending; gc.disable() from C), in runs; the next allocation is due again.
   */
  notTaken: number;
  /** gc.get_count()[1:] at each logged collection's start and end, model against recorded. */
  counts: { compared: number; equal: number };
  /** 3.12+: records from becoming due to the collection's first record. */
  delays: { count: number; zero: number; p50: number; p95: number; max: number };
  /** Explicit collections: logged by the recorder's gc.collect note, or not (PyGC_Collect from C, finalisation). */
  explicitLogged: number;
  explicitUnlogged: number;
  /** The first few disagreements. */
  mismatches: GcComparison[];
  /** True when the model claims exactness for this version (in-allocation trigger) and nothing disagreed. */
  exact: boolean;
  /** The version's trigger: exactness is claimed for in-allocation only. */
  claimsExactness: boolean;
}

export interface GcWhatIf {
  params: GcParams;
  /** Pinned thresholds (the program's own gc.set_threshold calls are then ignored). */
  thresholds?: Thresholds;
  /**
   * The record from which the pinned thresholds apply (before it, the recording's): the script's
   * start (manifest hooks.attachRecord) reads as "the script began with gc.set_threshold(…)",
   * while the interpreter's own start-up kept its defaults. Default 0.
   */
  from?: number;
  /** 3.12+ (eval-breaker) what-ifs: records between becoming due and the collection (default 0). */
  evalBreakerDelay?: number;
  /**
   * GC objects a full collection takes off the type free lists (dict, list, tuple …; gc_collect_main
   * clears them): afterwards the program allocates that many objects with malloc where it would have
   * reused them, each +1. A what-if world adds this many +1s after each full collection of its own
   * and takes them away after each full collection of the recording it does not make. Measured on
   * the recording's own full collections (GcReplayResult.freeLists); 0 when unknown.
   */
  freeListRefill?: number;
  /**
   * FollowWorld.garbage of an earlier pass over the same recording: objects the recording's collector
   * freed, and since when they were unreachable at the latest. A forked world drops them at its own
   * collections after that point instead of counting them as survivors.
   */
  garbage?: ReadonlyMap<number, number>;
  /**
   * Run on its own from the first GC allocation, even where its decisions are the follow world's:
   * with the recorded thresholds this shows what the estimates alone do (a check of the what-if
   * machinery against the recording).
   */
  forkAtStart?: boolean;
}

export interface GcReplayOptions {
  /** The recorded version's GC. */
  params: GcParams;
  /** The bundle's gc.jsonl lines. */
  lines: readonly GcLogLine[];
  /** The records carry the recorder's "collecting" flag (manifest recorder.gcState). */
  collectingFlag: boolean;
  whatIf?: GcWhatIf;
  /** A deliberately wrong model (negative controls), in both worlds. */
  fault?: GcFault;
  /** Keep at most this many mismatches (default 20). */
  maxMismatches?: number;
}

export interface GcWorldResult {
  collections: GcCollection[];
  perGeneration: number[];
  automatic: number[];
  explicit: number[];
  /** Thresholds at the end. */
  thresholds: number[];
  /** Collections whose survivors were estimated. */
  estimated: number;
}

export interface GcReplayResult {
  recorded: GcCollection[];
  agreement: GcAgreement;
  /** The follow world: the model's own account of every collection (one step ahead). */
  model: GcWorldResult;
  whatIf?: GcWorldResult & { forkedAt: number | null; ignoredSetThreshold: number; evalBreakerDelay: number; freeListRefill: number };
  /** Objects each logged full collection took off the free lists (released beyond `collected`), and their median. */
  freeLists: { cleared: number[]; median: number };
  /** FollowWorld.garbage: pass it to a what-if run over the same recording (GcWhatIf.garbage). */
  garbage: Map<number, number>;
  events: GcEventStats;
}

const GENS = () => [0, 0, 0];

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

/** GC objects per generation, by pointer (3 = permanent). */
class Generations {
  readonly sets: Set<number>[] = [new Set(), new Set(), new Set(), new Set()];

  add(p: number): void {
    this.sets[0]!.add(p);
  }

  remove(p: number): void {
    for (const s of this.sets) if (s.delete(p)) return;
  }

  move(from: number, to: number): void {
    for (const s of this.sets) {
      if (s.delete(from)) {
        s.add(to);
        return;
      }
    }
  }

  size(g: number): number {
    return this.sets[g]!.size;
  }

  /** Survivors of generations 0..g move on (g = 2: into 2). */
  collect(g: number): void {
    const into = this.sets[Math.min(g + 1, 2)]!;
    for (let i = 0; i <= Math.min(g, 1); i++) {
      if (this.sets[i] === into) continue;
      for (const p of this.sets[i]!) into.add(p);
      this.sets[i]!.clear();
    }
  }

  freeze(): void {
    for (let i = 0; i < 3; i++) {
      for (const p of this.sets[i]!) this.sets[3]!.add(p);
      this.sets[i]!.clear();
    }
  }

  unfreeze(): void {
    for (const p of this.sets[3]!) this.sets[2]!.add(p);
    this.sets[3]!.clear();
  }

  clone(): Generations {
    const g = new Generations();
    this.sets.forEach((s, i) => {
      for (const p of s) g.sets[i]!.add(p);
    });
    return g;
  }
}

/** The state both worlds share the shape of. */
abstract class World {
  model: GcModel;
  gens = new Generations();
  readonly collections: GcCollection[] = [];
  /** 3.12+: the record whose allocation made the pending collection due. */
  dueRecord = -1;

  constructor(params: GcParams, thresholds: readonly number[] | undefined, fault: GcFault | undefined) {
    this.model = new GcModel(params, { thresholds, fault });
  }

  protected note(c: GcCollection): void {
    this.collections.push(c);
  }

  result(): GcWorldResult {
    const perGeneration = GENS();
    const automatic = GENS();
    const explicit = GENS();
    let estimated = 0;
    for (const c of this.collections) {
      perGeneration[c.generation]!++;
      (c.trigger === 'explicit' ? explicit : automatic)[c.generation]!++;
      if (c.estimated) estimated++;
    }
    return { collections: this.collections, perGeneration, automatic, explicit, thresholds: [...this.model.thresholds], estimated };
  }
}

/** The follow world: predicts, compares, then takes what the recording did. */
class FollowWorld extends World {
  readonly calibration = new Calibration();
  /**
   * GC objects freed inside a recorded collection (garbage), by the record that allocated them: the
   * last record at which a recorded collection saw them alive (or their allocation). A what-if
   * world given this map (from an earlier pass) drops them at its own collections after that point.
   */
  readonly garbage = new Map<number, number>();
  /** Pointer → the record that allocated it, and the last recorded collection that kept it. */
  private readonly allocRecord = new Map<number, number>();
  private readonly lastKept = new Map<number, number>();
  private examined: number[] = [];
  readonly agreement: GcAgreement;
  /** In-allocation: a collection predicted to start at this record, not yet confirmed. */
  private predicted: { start: number; due: number; generation: number } | undefined;
  /** In a run of due allocations that collected nothing. */
  private notTakenRun = false;
  /** A gc.collect() note seen, its collection not yet. */
  explicitCall: { generation: number | null } | undefined;
  /** The recorded collection being followed. */
  private open: { w: RecordedWindow; generation: number; sizes: number[]; pendingBefore: number } | undefined;
  /** How the last recorded collection was classified (for the what-if world). */
  lastWindow: { trigger: 'automatic' | 'explicit'; generation: number } | undefined;
  /** The last allocation's decision (for the what-if world's fork test). */
  lastDecision: { due: boolean; generation: number } = { due: false, generation: -1 };
  private readonly delays: number[] = [];
  /** GC objects freed inside the window being followed. */
  private released = 0;
  /** Full collections: objects freed beyond the garbage found (`collected`): the cleared free lists. */
  readonly freeListCleared: number[] = [];
  /** GC objects on the type free lists at the last logged collection (recorders that read them). */
  private freeLists: number | undefined;

  /** Live GC objects and the records that allocated them. */
  allocRecords(): IterableIterator<[number, number]> {
    return this.allocRecord.entries();
  }

  /** The free lists' GC objects now, as last logged (undefined when the recorder could not read them). */
  freeListObjects(): number | undefined {
    return this.freeLists;
  }

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
      deferredByEvalBreaker: 0,
      missed: 0,
      unpredicted: 0,
      notTaken: 0,
      counts: { compared: 0, equal: 0 },
      delays: { count: 0, zero: 0, p50: 0, p95: 0, max: 0 },
      explicitLogged: 0,
      explicitUnlogged: 0,
      mismatches: [],
      exact: false,
      claimsExactness: params.trigger === 'in-allocation',
    };
  }

  private mismatch(c: GcComparison): void {
    if (this.agreement.mismatches.length < this.maxMismatches) this.agreement.mismatches.push(c);
  }

  /**
   * An in-allocation prediction is confirmed only by a collection whose first record is the very
   * next one. Anything else first: CPython did not collect there (an exception was pending, or the
   * collector was disabled from C); the next GC allocation is due again.
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

  alloc(record: number, ptr: number): void {
    this.settle();
    this.gens.add(ptr);
    this.allocRecord.set(ptr, record);
    this.lastKept.delete(ptr);
    const m = this.model;
    const wasOver = m.counts[0] > m.thresholds[0];
    const outcome = m.allocate();
    const generation = outcome === 'none' ? -1 : m.selectGeneration();
    this.lastDecision = { due: outcome !== 'none', generation };
    if (outcome === 'none') this.notTakenRun = false;
    if (outcome === 'collect') {
      this.predicted = { start: record + 1, due: record, generation };
      m.collecting = true;
    } else if (outcome === 'schedule' && (!wasOver || this.dueRecord < 0)) this.dueRecord = record;
  }

  free(record: number, ptr: number): void {
    this.settle();
    this.gens.remove(ptr);
    this.allocRecord.delete(ptr);
    this.lastKept.delete(ptr);
    if (!this.open) this.model.deallocate();
    void record;
  }

  release(record: number, ptr: number): void {
    this.settle();
    this.gens.remove(ptr);
    const a = this.allocRecord.get(ptr);
    if (this.open) {
      this.released++;
      // Young collections free only garbage; full ones also empty the free lists, whose objects
      // were in use until then (reused without a record), so they tell nothing.
      if (a !== undefined && this.open.generation < 2) this.garbage.set(a, this.lastKept.get(ptr) ?? a);
    }
    this.allocRecord.delete(ptr);
    this.lastKept.delete(ptr);
    void record;
  }

  move(from: number, to: number): void {
    this.gens.move(from, to);
    const a = this.allocRecord.get(from);
    if (a !== undefined) {
      this.allocRecord.delete(from);
      this.allocRecord.set(to, a);
    }
    const k = this.lastKept.get(from);
    if (k !== undefined) {
      this.lastKept.delete(from);
      this.lastKept.set(to, k);
    }
  }

  call(record: number, call: GcCall): void {
    this.settle();
    applyCall(this, call, false);
    if (call.call === 'collect') this.explicitCall = { generation: call.generation };
    void record;
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
        // Due, and not predicted here: the model lost the count, or CPython collected later than
        // the allocation that made it due.
        trigger = 'automatic';
      } else {
        // Nothing was due and no gc.collect() was noted: PyGC_Collect() from C or at finalisation
        // (logged by the callbacks), or _PyGC_CollectNoFail at shutdown, which calls no callbacks
        // and always collects the oldest generation.
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
    // Take the recorded collection: its generation when logged, the model's otherwise.
    const generation = recordedGen ?? (modelGen >= 0 ? modelGen : 0);
    const sizes = [this.gens.size(0), this.gens.size(1), this.gens.size(2)];
    if (line?.objects) {
      const young = sizes[0]! + sizes[1]!;
      const all = young + sizes[2]!;
      if (young > 0) this.calibration.trackedYoung = (line.objects[0]! + line.objects[1]!) / young;
      if (all > 0) this.calibration.trackedAll = (line.objects[0]! + line.objects[1]! + line.objects[2]!) / all;
    }
    const pendingBefore = line?.long_lived_pending ?? m.longLivedPending;
    // Survivors when nothing is logged (before the helper attached): the shares measured so far.
    const promoted = Math.round((sizes[0]! + sizes[1]!) * this.calibration.young);
    const total = Math.round((sizes[0]! + sizes[1]! + sizes[2]!) * this.calibration.all);
    this.examined = [];
    for (let i = 0; i <= generation; i++) for (const p of this.gens.sets[i]!) this.examined.push(p);
    m.collect(generation, { promoted, total });
    this.gens.collect(generation);
    m.collecting = true;
    this.open = { w, generation, sizes, pendingBefore };
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

  windowEnd(w: RecordedWindow, record: number, young: number): void {
    const o = this.open;
    this.open = undefined;
    const m = this.model;
    m.collecting = false;
    // What the collection's callbacks and finalizers allocated is in the recorded count.
    m.counts[0] = young;
    void record;
    if (!o) return;
    const stop = w.stopLine;
    const last = this.collections.at(-1);
    const mine = last && last.startRecord === w.start ? last : undefined;
    if (stop?.counts) {
      this.compareCounts(stop.counts);
      m.counts[1] = stop.counts[1]!;
      m.counts[2] = stop.counts[2]!;
    }
    // The examined objects still here survived: seen alive at this collection.
    let kept = 0;
    for (const p of this.examined) {
      if (!this.allocRecord.has(p)) continue;
      this.lastKept.set(p, w.start);
      kept++;
    }
    this.examined = [];
    const start = w.startLine;
    if (start?.objects && stop?.objects) {
      if (o.generation === 0) this.calibration.addYoung(stop.objects[1]! - start.objects[1]!, kept);
      if (o.generation === 1 && stop.long_lived_pending !== undefined && start.long_lived_pending !== undefined) this.calibration.addYoung(stop.long_lived_pending - start.long_lived_pending, kept);
      if (o.generation === 2 && stop.long_lived_total !== undefined) this.calibration.addAll(stop.long_lived_total, kept);
    }
    if (stop?.long_lived_total !== undefined && stop.long_lived_pending !== undefined) {
      m.longLivedTotal = stop.long_lived_total;
      m.longLivedPending = stop.long_lived_pending;
    } else if (mine) mine.estimated = true;
    if (stop?.enabled !== undefined) m.enabled = stop.enabled;
    if (o.generation === 2 && stop && m.params.collector === 'generational') this.freeListCleared.push(Math.max(0, this.released - stop.collected - stop.uncollectable));
    if (mine) {
      mine.longLived = { total: m.longLivedTotal, pending: m.longLivedPending };
      if (w.startLine) mine.record = w.startLine.record;
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

/** A gc-module call's effect on a world (collect is handled where its collection starts). */
function applyCall(w: World, call: GcCall, pinned: boolean): void {
  const m = w.model;
  switch (call.call) {
    case 'enable':
      m.enable();
      break;
    case 'disable':
      m.disable();
      break;
    case 'freeze':
      m.freeze();
      w.gens.freeze();
      break;
    case 'unfreeze':
      w.gens.unfreeze();
      break;
    case 'set_threshold':
      if (!pinned && call.thresholds) m.setThreshold(call.thresholds);
      break;
    default:
      break;
  }
}

/** A what-if world: a copy of the follow world until their decisions differ, then on its own. */
class WhatIfWorld extends World {
  forkedAt: number | null = null;
  ignoredSetThreshold = 0;
  private pendingExplicit: number | null | undefined;
  /**
   * Free-list slots emptied by a full collection and not yet refilled, in this world and in the
   * recording: while this world owes more, a GC allocation comes with one more malloc (+1) than the
   * recording shows; while the recording owes more, one it shows is a reuse here (no +1).
   */
  private emptyHere = 0;
  private emptyThere = 0;
  /** Pointer → allocating record, for the garbage map (forked worlds given one). */
  private readonly allocRecord = new Map<number, number>();

  /** The pinned thresholds are in force (from spec.from on). */
  private pinnedNow: boolean;

  constructor(
    readonly spec: GcWhatIf,
    private readonly follow: FollowWorld,
    fault: GcFault | undefined,
  ) {
    super(spec.params, (spec.from ?? 0) > 0 ? undefined : spec.thresholds, fault);
    this.pinnedNow = !spec.thresholds || (spec.from ?? 0) <= 0;
  }

  /** Before spec.from: the recording's thresholds; at it, the pinned ones. */
  private thresholdsAt(record: number): void {
    if (this.pinnedNow) return;
    if (record >= (this.spec.from ?? 0)) {
      this.pinnedNow = true;
      this.model.setThreshold(this.spec.thresholds!);
    } else this.model.setThreshold(this.follow.model.thresholds);
  }

  get forked(): boolean {
    return this.forkedAt !== null;
  }

  /** From here on, on its own: the follow world's state now, with this world's collector and thresholds. */
  private fork(record: number): void {
    const f = this.follow.model;
    const m = this.model;
    [m.counts[0], m.counts[1], m.counts[2]] = [f.counts[0], f.counts[1], f.counts[2]];
    m.enabled = f.enabled;
    m.longLivedTotal = f.longLivedTotal;
    m.longLivedPending = f.longLivedPending;
    m.collecting = false;
    m.scheduled = m.params.trigger === 'eval-breaker' && f.scheduled;
    this.dueRecord = m.scheduled ? this.follow.dueRecord : -1;
    this.gens = this.follow.gens.clone();
    this.collections.push(...this.follow.collections.map((c) => ({ ...c })));
    this.forkedAt = record;
    if (this.spec.garbage) for (const [p, a] of this.follow.allocRecords()) this.allocRecord.set(p, a);
  }

  /** The generation this world's collector would pick from the follow world's counts (-2: another trigger). */
  private selectFrom(count0: number): number {
    const f = this.follow.model;
    const m = this.model;
    if (m.params.trigger !== f.params.trigger || m.params.collector !== f.params.collector) return -2;
    const save = [m.counts[0], m.counts[1], m.counts[2], m.longLivedTotal, m.longLivedPending] as const;
    [m.counts[0], m.counts[1], m.counts[2]] = [count0, f.counts[1], f.counts[2]];
    m.longLivedTotal = f.longLivedTotal;
    m.longLivedPending = f.longLivedPending;
    const g = m.selectGeneration();
    [m.counts[0], m.counts[1], m.counts[2], m.longLivedTotal, m.longLivedPending] = save;
    return g;
  }

  /** Before the follow world sees a GC allocation (count0 before it). */
  alloc(record: number, ptr: number, countBefore: number, collectingBefore = false): void {
    this.thresholdsAt(record);
    if (!this.forked) {
      const f = this.follow;
      const c = countBefore + 1;
      if (this.spec.forkAtStart) {
        this.fork(record);
        this.model.counts[0] = countBefore;
        this.model.scheduled = false;
        this.dueRecord = -1;
        this.gens.remove(ptr);
        return this.alloc(record, ptr, countBefore, collectingBefore);
      }
      const t0 = this.model.thresholds[0];
      const due = c > t0 && f.model.enabled && t0 !== 0 && !collectingBefore;
      const same = due === f.lastDecision.due && (!due || this.selectFrom(c) === f.lastDecision.generation || (f.model.params.trigger === 'eval-breaker' && this.selectFrom(c) !== -2));
      if (same) return;
      this.fork(record);
      this.model.counts[0] = countBefore;
      this.model.scheduled = false;
      this.dueRecord = -1;
      this.gens.remove(ptr);
    }
    this.runDue(record);
    this.gens.add(ptr);
    if (this.spec.garbage) this.allocRecord.set(ptr, record);
    if (this.emptyThere > 0) {
      this.emptyThere--;
      if (this.emptyHere > 0) this.emptyHere--;
      else return; // the recording refilled a free list this world had not emptied: a reuse here
    } else if (this.emptyHere > 0) {
      this.emptyHere--;
      this.model.counts[0]++; // an allocation the recording served from its free list
    }
    const outcome = this.model.allocate();
    if (outcome === 'collect') this.collectNow(this.model.selectGeneration(), record + 1, record, 'automatic');
    else if (outcome === 'schedule') {
      if (this.dueRecord < 0) this.dueRecord = record;
      this.runDue(record + 1);
    }
  }

  /** 3.12+ (forked): the scheduled collection runs evalBreakerDelay records after it became due. */
  runDue(record: number, evalBreaker = false): void {
    if (!this.forked || this.dueRecord < 0 || !this.model.scheduled) return;
    const at = this.dueRecord + 1 + (this.spec.evalBreakerDelay ?? 0);
    if (record < at && !evalBreaker) return;
    const due = this.dueRecord;
    this.dueRecord = -1;
    const g = this.model.runScheduled();
    if (g >= 0) this.collectNow(g, Math.min(at, record), due, 'automatic');
  }

  private collectNow(g: number, start: number, due: number | undefined, trigger: 'automatic' | 'explicit'): void {
    const m = this.model;
    const cal = this.follow.calibration;
    const garbage = this.spec.garbage;
    if (garbage) {
      // what the recording's collector later found unreachable, and was so already: freed here
      for (let i = 0; i <= g; i++) {
        for (const p of this.gens.sets[i]!) {
          const a = this.allocRecord.get(p);
          const since = a === undefined ? undefined : garbage.get(a);
          if (since !== undefined && since < start) {
            this.gens.sets[i]!.delete(p);
            this.allocRecord.delete(p);
          }
        }
      }
    }
    const young = this.gens.size(0) + this.gens.size(1);
    const all = young + this.gens.size(2);
    const countsAtStart = [...m.counts];
    const promoted = Math.round(young * cal.young);
    const total = Math.round(all * cal.all);
    m.collect(g, { promoted, total });
    this.gens.collect(g);
    if (g === 2 && trigger === 'automatic' && m.params.collector === 'generational') this.emptyHere = this.follow.freeListObjects() ?? this.spec.freeListRefill ?? 0;
    this.note({ generation: g, startRecord: start, dueRecord: due, trigger, countsAtStart, longLived: { total: m.longLivedTotal, pending: m.longLivedPending }, estimated: true });
  }

  free(record: number, ptr: number): void {
    if (!this.forked) return;
    this.runDue(record);
    this.gens.remove(ptr);
    this.allocRecord.delete(ptr);
    this.model.deallocate();
  }

  release(record: number, ptr: number): void {
    if (!this.forked) return;
    this.runDue(record);
    this.gens.remove(ptr);
    this.allocRecord.delete(ptr);
  }

  move(from: number, to: number): void {
    if (!this.forked) return;
    this.gens.move(from, to);
    const a = this.allocRecord.get(from);
    if (a !== undefined) {
      this.allocRecord.delete(from);
      this.allocRecord.set(to, a);
    }
  }

  call(record: number, call: GcCall): void {
    this.thresholdsAt(record);
    const pinned = Boolean(this.spec.thresholds) && this.pinnedNow;
    if (call.call === 'set_threshold' && pinned) this.ignoredSetThreshold++;
    if (!this.forked) {
      if (call.call === 'set_threshold' && !pinned && call.thresholds) this.model.setThreshold(call.thresholds);
      return;
    }
    this.runDue(record);
    applyCall(this, call, pinned);
    if (call.call === 'collect') this.pendingExplicit = call.generation;
  }

  /** Before the follow world takes a recorded collection: 3.12+ re-select the generation then. */
  beforeWindow(w: RecordedWindow): void {
    this.thresholdsAt(w.start);
    if (this.forked || !this.follow.willRunScheduled()) return;
    const f = this.follow.model;
    const mine = f.enabled ? this.selectFrom(f.counts[0]) : -1;
    if (mine === f.selectGeneration() || !f.enabled) return;
    this.fork(w.start);
  }

  /** After the follow world classified the recorded collection. */
  windowStart(w: RecordedWindow): void {
    if (!this.forked) return;
    const lw = this.follow.lastWindow;
    if (lw?.trigger === 'explicit') {
      this.runDue(w.start);
      const g = this.pendingExplicit ?? (lw.generation >= 0 ? lw.generation : 2);
      this.collectNow(g, w.start, undefined, 'explicit');
    } else {
      // The recording's eval breaker ran here: so would this world's, at the same program point.
      this.runDue(w.start, this.model.params.trigger === 'eval-breaker');
      if (lw?.generation === 2) this.emptyThere = w.startLine?.free_lists !== undefined && w.startLine.free_lists >= 0 ? w.startLine.free_lists : (this.spec.freeListRefill ?? 0);
    }
    this.pendingExplicit = undefined;
  }

  windowEnd(record: number): void {
    this.runDue(record);
  }
}

/** A bundle's gc.jsonl, tolerant of a torn last line. */
export function parseGcJsonl(text: string): GcLogLine[] {
  const out: GcLogLine[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    try {
      const o = JSON.parse(t) as GcLogLine;
      if ((o.phase === 'start' || o.phase === 'stop') && typeof o.record === 'number') out.push(o);
    } catch {
      // a line cut by a killed process: the rest is still usable
    }
  }
  return out;
}

/** The recorded collections of a bundle, as GcCollection records (the callbacks' lines, paired). */
export function recordedCollections(lines: readonly GcLogLine[], windowStarts?: ReadonlyMap<number, number>): GcCollection[] {
  const out: GcCollection[] = [];
  let t0: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i]!;
    if (s.phase !== 'start') continue;
    const e = lines[i + 1]?.phase === 'stop' ? lines[i + 1] : undefined;
    t0 ??= s.t_ns;
    const c: GcCollection = { generation: s.generation, record: s.record, trigger: undefined };
    if (s.calls !== undefined) c.calls = s.calls;
    if (s.thread !== undefined) c.thread = s.thread;
    if (s.counts) c.countsAtStart = [...s.counts];
    if (s.objects) c.objects = [...s.objects];
    if (s.permanent !== undefined) c.permanent = s.permanent;
    if (s.t_ns !== undefined) c.timeSeconds = s.t_ns / 1e9;
    const start = windowStarts?.get(s.record);
    if (start !== undefined) c.startRecord = start;
    if (e) {
      c.collected = e.collected;
      c.uncollectable = e.uncollectable;
      c.unreachable = e.collected + e.uncollectable;
      if (e.t_ns !== undefined && s.t_ns !== undefined) c.elapsedSeconds = (e.t_ns - s.t_ns) / 1e9;
      if (e.long_lived_total !== undefined && e.long_lived_pending !== undefined) c.longLived = { total: e.long_lived_total, pending: e.long_lived_pending };
    } else c.truncated = true;
    out.push(c);
  }
  return out;
}

/** The replay: feed records (push / pushBatch), then end(). */
export class GcReplay {
  private readonly follow: FollowWorld;
  private readonly whatIf?: WhatIfWorld;
  private readonly extractor: GcEventExtractor;
  private readonly windowStarts = new Map<number, number>();
  private readonly triggers = new Map<number, 'automatic' | 'explicit'>();
  private n = 0;

  constructor(private readonly opts: GcReplayOptions) {
    this.follow = new FollowWorld(opts.params, opts.fault, opts.maxMismatches ?? 20);
    if (opts.whatIf) this.whatIf = new WhatIfWorld(opts.whatIf, this.follow, opts.fault);
    const f = this.follow;
    const w = this.whatIf;
    const sink: GcEventSink = {
      alloc: (record, ptr) => {
        const before = f.model.counts[0];
        const collecting = f.model.collecting;
        f.alloc(record, ptr);
        w?.alloc(record, ptr, before, collecting);
      },
      free: (record, ptr) => {
        f.free(record, ptr);
        w?.free(record, ptr);
      },
      release: (record, ptr) => {
        f.release(record, ptr);
        w?.release(record, ptr);
      },
      move: (from, to) => {
        f.move(from, to);
        w?.move(from, to);
      },
      windowStart: (win) => {
        w?.beforeWindow(win);
        f.windowStart(win);
        if (win.startLine) {
          this.windowStarts.set(win.startLine.record, win.start);
          if (f.lastWindow) this.triggers.set(win.startLine.record, f.lastWindow.trigger);
        }
        w?.windowStart(win);
      },
      windowEnd: (win, record, young) => {
        f.windowEnd(win, record, young);
        w?.windowEnd(record);
      },
      call: (record, call) => {
        f.call(record, call);
        w?.call(record, call);
      },
      record: w ? (record) => w.runDue(record) : undefined,
    };
    this.extractor = new GcEventExtractor(sink, opts.lines, opts.collectingFlag, opts.params.trigger === 'in-allocation');
  }

  /** One record (fields of an EventBatch row; `young` undefined when the record has none). */
  push(code: number, flags: number, young: number | undefined, ptr: number, result: number, label?: string): void {
    this.extractor.push(this.n++, code, flags, young, ptr, result, label);
  }

  pushBatch(b: EventBatch): void {
    const { op, flags, young, ptr, result } = b;
    for (let i = 0; i < b.length; i++) {
      const code = op[i]!;
      const f = flags[i]!;
      this.extractor.push(this.n++, code, f, f & FLAG_YOUNG ? young[i]! : undefined, ptr[i]!, result[i]!, code === OP_NOTE || code === OP_STATS ? b.labels.get(i) : undefined);
    }
  }

  end(): GcReplayResult {
    this.follow.finish();
    const recorded = recordedCollections(this.opts.lines, this.windowStarts);
    for (const c of recorded) c.trigger = this.triggers.get(c.record!);
    const w = this.whatIf;
    return {
      recorded,
      agreement: this.follow.agreement,
      model: this.follow.result(),
      whatIf: w
        ? {
            ...(w.forked ? w.result() : { ...this.follow.result(), collections: this.follow.collections.map((c) => ({ ...c })), thresholds: [...w.model.thresholds] }),
            forkedAt: w.forkedAt,
            ignoredSetThreshold: w.ignoredSetThreshold,
            evalBreakerDelay: w.spec.evalBreakerDelay ?? 0,
            freeListRefill: w.spec.freeListRefill ?? 0,
          }
        : undefined,
      freeLists: { cleared: this.follow.freeListCleared, median: median(this.follow.freeListCleared) },
      garbage: this.follow.garbage,
      events: this.extractor.stats,
    };
  }
}
