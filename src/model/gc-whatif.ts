// A what-if world: the recording's program under other thresholds or another version's collector.
//
// It mirrors the follow world (src/model/gc-follow.ts) while its decisions would be the same, and
// forks at the first allocation or collection where they differ. From then on it runs on the
// recorded GC allocations and frees alone: +1 per allocation, −1 per free (never below 0, with its
// own count, which after a different collection is not the recorded one), collections at its own
// thresholds, the program's gc calls where the program made them. A collection the recording made
// and this world did not is not one here; one this world made is.
//
// Estimated, and marked so: the survivors of its own collections (GcCalibration), the free-list
// refills after full collections it makes or does not make, and, 3.12+, when the eval breaker runs
// a collection that became due where the recording had none (evalBreakerDelay records later, or
// at the next collection the recording's eval breaker ran, whichever comes first).

import type { GcCall, GcFault, Thresholds } from './gc.js';
import type { RecordedWindow } from './gc-events.js';
import type { GcFollowWorld } from './gc-follow.js';
import { GcWorld } from './gc-world.js';
import type { GcParams } from './params.js';

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
   * GC objects on the free lists a full collection empties, when the recording does not log them
   * (3.8, 3.9): the median the recording's own full collections freed beyond their garbage
   * (GcReplayResult.freeLists.median of an earlier pass). 0 when unknown.
   */
  freeListRefill?: number;
  /** Run on its own from the first GC allocation, even where its decisions are the follow world's. */
  forkAtStart?: boolean;
}

export class GcWhatIfWorld extends GcWorld {
  forkedAt: number | null = null;
  ignoredSetThreshold = 0;
  private pendingExplicit: number | null | undefined;
  /** The pinned thresholds are in force (from spec.from on). */
  private pinnedNow: boolean;
  /** count0 at the start of each of its young collections since its last older one. */
  private youngNet = 0;
  /**
   * Free-list slots a full collection emptied and the program has not refilled yet, here and in
   * the recording. While this world owes more, a GC allocation comes with one more malloc (+1)
   * than the recording shows; while the recording owes more, one it shows is a reuse here.
   */
  private emptyHere = 0;
  private emptyThere = 0;
  /**
   * count0 changes since the last collection that are free-list refills, not program objects: the
   * survivor shares measured on the recording already count reused objects (−1 per extra +1 here,
   * +1 per +1 this world did not see).
   */
  private refillAdjust = 0;

  constructor(
    readonly spec: GcWhatIf,
    private readonly follow: GcFollowWorld,
    fault: GcFault | undefined,
  ) {
    super(spec.params, (spec.from ?? 0) > 0 ? undefined : spec.thresholds, fault);
    this.pinnedNow = !spec.thresholds || (spec.from ?? 0) <= 0;
  }

  get forked(): boolean {
    return this.forkedAt !== null;
  }

  /** Before spec.from: the recording's thresholds; from it, the pinned ones. */
  private thresholdsAt(record: number): void {
    if (this.pinnedNow) return;
    if (record >= (this.spec.from ?? 0)) {
      this.pinnedNow = true;
      this.model.setThreshold(this.spec.thresholds!);
    } else this.model.setThreshold(this.follow.model.thresholds);
  }

  /** From here on, on its own: the follow world's state now, with this world's collector and thresholds. */
  private fork(record: number): void {
    const f = this.follow;
    const m = this.model;
    [m.counts[0], m.counts[1], m.counts[2]] = [f.model.counts[0], f.model.counts[1], f.model.counts[2]];
    m.enabled = f.model.enabled;
    m.longLivedTotal = f.model.longLivedTotal;
    m.longLivedPending = f.model.longLivedPending;
    m.collecting = false;
    m.scheduled = m.params.trigger === 'eval-breaker' && f.model.scheduled;
    this.dueRecord = m.scheduled ? f.dueRecord : -1;
    this.youngNet = f.netSinceOlder;
    this.collections.push(...f.collections.map((c) => ({ ...c })));
    this.forkedAt = record;
  }

  /** The generation this world's collector would take from the follow world's counts (-2: another trigger). */
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

  /** A GC allocation, after the follow world took it (its count0 and collecting flag before it given). */
  alloc(record: number, countBefore: number, collectingBefore: boolean): void {
    this.thresholdsAt(record);
    if (!this.forked) {
      const f = this.follow;
      const c = countBefore + 1;
      const t0 = this.model.thresholds[0];
      const due = c > t0 && f.model.enabled && t0 !== 0 && !collectingBefore;
      const evalBreaker = f.model.params.trigger === 'eval-breaker';
      const same = !this.spec.forkAtStart && due === f.lastDecision.due && (!due || (evalBreaker ? this.selectFrom(c) !== -2 : this.selectFrom(c) === f.lastDecision.generation));
      if (same) return;
      // on its own from the state before this allocation
      this.fork(record);
      this.model.counts[0] = countBefore;
      this.model.scheduled = false;
      this.dueRecord = -1;
    }
    this.runDue(record);
    if (this.emptyThere > 0) {
      this.emptyThere--;
      if (this.emptyHere > 0) this.emptyHere--;
      else {
        this.refillAdjust++;
        return; // the recording refilled a free list this world had not emptied: a reuse here
      }
    } else if (this.emptyHere > 0) {
      this.emptyHere--;
      this.refillAdjust--;
      this.model.counts[0]++; // an allocation the recording served from its free list
    }
    const outcome = this.model.allocate();
    if (outcome === 'collect') this.collectNow(this.model.selectGeneration(), record + 1, record, 'automatic');
    else if (outcome === 'schedule') {
      if (this.dueRecord < 0) this.dueRecord = record;
      this.runDue(record + 1);
    }
  }

  /**
   * 3.12+ (forked): the scheduled collection runs evalBreakerDelay records after it became due, or
   * at an eval-breaker check the recording shows (a collection it ran), whichever is first.
   */
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
    const countsAtStart = [...m.counts];
    const candidates = Math.max(0, m.counts[0] + this.refillAdjust);
    this.refillAdjust = 0;
    const promoted = Math.round(cal.young * (this.youngNet + candidates));
    const tracked = this.follow.trackedNow();
    const total = tracked === undefined ? m.longLivedTotal + m.longLivedPending : Math.round(cal.full * tracked);
    this.youngNet = g === 0 ? this.youngNet + candidates : 0;
    m.collect(g, { promoted, total });
    if (g === 2 && trigger === 'automatic' && m.params.collector === 'generational') this.emptyHere = this.follow.freeListObjects() ?? this.spec.freeListRefill ?? 0;
    this.note({ generation: g, startRecord: start, dueRecord: due, trigger, countsAtStart, longLived: { total: m.longLivedTotal, pending: m.longLivedPending }, estimated: true });
  }

  free(record: number): void {
    if (!this.forked) return;
    this.runDue(record);
    this.model.deallocate();
  }

  release(record: number): void {
    if (this.forked) this.runDue(record);
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
    this.applyCall(call, pinned);
    if (call.call === 'collect') this.pendingExplicit = call.generation;
  }

  /** Before the follow world takes a recorded collection: 3.12+ re-select the generation then. */
  beforeWindow(w: RecordedWindow): void {
    this.thresholdsAt(w.start);
    if (this.forked || !this.follow.willRunScheduled()) return;
    const f = this.follow.model;
    if (!f.enabled || this.selectFrom(f.counts[0]) === f.selectGeneration()) return;
    this.fork(w.start);
  }

  /** After the follow world classified the recorded collection. */
  windowStart(w: RecordedWindow): void {
    if (!this.forked) return;
    const lw = this.follow.lastWindow;
    if (lw?.trigger === 'explicit') {
      this.runDue(w.start);
      this.collectNow(this.pendingExplicit ?? (lw.generation >= 0 ? lw.generation : 2), w.start, undefined, 'explicit');
    } else {
      // The recording's eval breaker ran here: so would this world's, at the same program point.
      this.runDue(w.start, this.model.params.trigger === 'eval-breaker');
      if (lw?.generation === 2) {
        const f = w.startLine?.free_lists;
        this.emptyThere = f !== undefined && f >= 0 ? f : (this.spec.freeListRefill ?? 0);
      }
    }
    this.pendingExplicit = undefined;
  }

  windowEnd(record: number): void {
    this.runDue(record);
  }
}
