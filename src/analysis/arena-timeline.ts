// Arenas allocated, released and live over the events of a replay, in bounded memory.
//
// A long run allocates and releases arenas millions of times; the chart needs a few thousand points.
// Points are kept per bucket of events (its first, last, lowest and highest "current"), and when
// there are too many buckets they are merged pairwise with twice the width, so memory stays bounded
// however long the run is and no peak or trough of the live-arena count is lost.

import type { ArenaChange } from '../model/replay.js';

export interface ArenaTimelinePoint {
  /** 0-based index of the call that allocated or released the arena. */
  event: number;
  /** Arenas live right after it. */
  current: number;
  /** Arenas allocated so far (ntimes_arena_allocated); released so far = allocatedTotal − current. */
  allocatedTotal: number;
}

export interface ArenaTimeline {
  points: ArenaTimelinePoint[];
  /** Arena allocations and releases seen (before any merging). */
  changes: number;
  /** True when points were merged (extremes kept). */
  downsampled: boolean;
  highwater: number;
}

interface Bucket {
  /** floor(change index / width). */
  key: number;
  first: ArenaTimelinePoint;
  last: ArenaTimelinePoint;
  min: ArenaTimelinePoint;
  max: ArenaTimelinePoint;
}

/** Buckets kept by default: at most 4 × 250 = 1,000 points, one per pixel of the chart's width. */
export const MAX_TIMELINE_BUCKETS = 250;

/** Collects arena changes with at most 4 × maxBuckets points kept. */
export class ArenaTimelineRecorder {
  private buckets: Bucket[] = [];
  private width = 1;
  private changes = 0;
  private highwater = 0;

  constructor(private readonly maxBuckets = MAX_TIMELINE_BUCKETS) {}

  add(c: ArenaChange): void {
    const p: ArenaTimelinePoint = { event: c.event, current: c.current, allocatedTotal: c.allocatedTotal };
    const key = Math.floor(this.changes / this.width);
    this.changes++;
    if (p.current > this.highwater) this.highwater = p.current;
    const b = this.buckets.at(-1);
    if (b && b.key === key) {
      b.last = p;
      if (p.current < b.min.current) b.min = p;
      if (p.current > b.max.current) b.max = p;
      return;
    }
    this.buckets.push({ key, first: p, last: p, min: p, max: p });
    if (this.buckets.length > this.maxBuckets) this.merge();
  }

  /** Double the bucket width: merge neighbours, keeping first, last and both extremes. */
  private merge(): void {
    this.width *= 2;
    const merged: Bucket[] = [];
    for (const b of this.buckets) {
      const key = Math.floor(b.key / 2);
      const m = merged.at(-1);
      if (m && m.key === key) {
        m.last = b.last;
        if (b.min.current < m.min.current) m.min = b.min;
        if (b.max.current > m.max.current) m.max = b.max;
      } else merged.push({ ...b, key });
    }
    this.buckets = merged;
  }

  finish(): ArenaTimeline {
    const seen = new Set<ArenaTimelinePoint>();
    const points: ArenaTimelinePoint[] = [];
    for (const b of this.buckets) {
      for (const p of [b.first, b.min, b.max, b.last].sort((x, y) => x.event - y.event || x.allocatedTotal - y.allocatedTotal)) {
        if (!seen.has(p)) {
          seen.add(p);
          points.push(p);
        }
      }
    }
    return { points, changes: this.changes, downsampled: this.width > 1, highwater: this.highwater };
  }
}
