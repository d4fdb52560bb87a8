// What the follow world (src/model/gc-follow.ts) and a what-if world (src/model/gc-whatif.ts)
// share: a GcModel, the collections the world made, the effect of the program's gc calls, and the
// calibration by which survivors are estimated where the recording has no numbers.

import { GcModel, type GcCall, type GcFault } from './gc.js';
import type { GcParams } from './params.js';
import type { GcCollection } from './types.js';

export interface GcWorldResult {
  collections: GcCollection[];
  /** Collections per generation, automatic and explicit. */
  perGeneration: number[];
  automatic: number[];
  explicit: number[];
  /** Thresholds at the end. */
  thresholds: number[];
  /** Collections whose survivors were estimated. */
  estimated: number;
}

export const GENS = (): number[] => [0, 0, 0];

export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

export abstract class GcWorld {
  model: GcModel;
  readonly collections: GcCollection[] = [];
  /** 3.12+: the record whose allocation made the pending collection due (-1: none). */
  dueRecord = -1;

  constructor(params: GcParams, thresholds: readonly number[] | undefined, fault: GcFault | undefined) {
    this.model = new GcModel(params, { thresholds, fault });
  }

  protected note(c: GcCollection): void {
    this.collections.push(c);
  }

  /** A gc-module call's effect (collect is taken where its collection starts). */
  applyCall(call: GcCall, pinnedThresholds: boolean): void {
    const m = this.model;
    switch (call.call) {
      case 'enable':
        m.enable();
        break;
      case 'disable':
        m.disable();
        break;
      case 'freeze':
        m.freeze();
        break;
      case 'set_threshold':
        if (!pinnedThresholds && call.thresholds) m.setThreshold(call.thresholds);
        break;
      default:
        // unfreeze moves the permanent generation back into the oldest one: no count changes
        break;
    }
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

/**
 * How many objects a collection the recording did not make would leave in the oldest generation,
 * learned from the collections it did make (gc.jsonl: gc_list_size of each generation and the
 * long-lived numbers around each collection).
 *
 * count0 at a young collection is the GC objects allocated minus freed since the last one: the
 * candidates to survive. The share that did (tracked objects moved on, per count0) is measured at
 * every logged young collection — it includes objects reused from free lists, which the collector
 * counts but the allocation log cannot show — and a generation-1 collection of another schedule is
 * taken to promote that share of the counts its young collections started with. A full collection
 * leaves the tracked objects the recording's collector last counted, grown by the same share of
 * count0 since, times the share full collections kept.
 */
export class GcCalibration {
  private survived = 0;
  private candidates = 0;
  private keptAll = 0;
  private trackedAll = 0;
  /** Tracked objects in generations 0–2 at the last logged collection. */
  lastTracked: number | undefined;

  /** A logged young collection: `survived` tracked objects moved on out of `count0` candidates. */
  addYoung(survived: number, count0: number): void {
    if (count0 <= 0 || survived < 0) return;
    this.survived += survived;
    this.candidates += count0;
  }

  /** A logged full collection: long_lived_total afterwards, tracked objects at its start. */
  addFull(total: number, tracked: number): void {
    if (tracked <= 0 || total < 0) return;
    this.keptAll += total;
    this.trackedAll += tracked;
  }

  /** Survivors per count0 candidate (1 before any logged young collection). */
  get young(): number {
    return this.candidates > 0 ? this.survived / this.candidates : 1;
  }

  /** Share of the tracked objects a full collection keeps (1 before any). */
  get full(): number {
    return this.trackedAll > 0 ? this.keptAll / this.trackedAll : 1;
  }
}
