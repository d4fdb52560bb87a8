// Builds a TracemallocSnapshot from traces one at a time (the ingesters' only way into the model).
// Frames and tracebacks are interned by value, and traces are summed per (domain, traceback) as
// they arrive: memory grows with the distinct tracebacks, never with the number of traces.

import type { TraceDomain, TraceFrame, TraceGroup, TracemallocSnapshot, TraceTraceback } from './types.js';

/** Requests of at most this many bytes are pymalloc's (SMALL_REQUEST_THRESHOLD, every version). */
export const SMALL_SIZE_LIMIT = 512;

interface FrameRec extends TraceFrame {
  id: number;
}

export class SnapshotBuilder {
  private readonly framesByFile = new Map<string, Map<number, FrameRec>>();
  private frameCount = 0;
  private readonly tracebacksByKey = new Map<string, TraceTraceback>();
  private readonly tracebackList: TraceTraceback[] = [];
  // Domain 0 (every Python allocator) is summed in flat arrays indexed by traceback id.
  private size0 = new Float64Array(256);
  private count0 = new Float64Array(256);
  private readonly other = new Map<string, TraceGroup>();
  private readonly domainTotals = new Map<number, TraceDomain>();
  private readonly smallSizes = new Float64Array(SMALL_SIZE_LIMIT + 1);
  private largeTraces = 0;
  private largeSize = 0;
  private traces = 0;
  private size = 0;
  private maxTotal = -1;
  private truncated = 0;
  traceFields: 2 | 3 | 4 | null = null;
  private lastDomainTotals: TraceDomain | undefined;

  /** The one frame object for (filename, lineno). */
  frame(filename: string, lineno: number): TraceFrame {
    let byLine = this.framesByFile.get(filename);
    if (!byLine) {
      byLine = new Map();
      this.framesByFile.set(filename, byLine);
    }
    let f = byLine.get(lineno);
    if (!f) {
      f = { filename, lineno, id: this.frameCount++ };
      byLine.set(lineno, f);
    }
    return f;
  }

  /** The one traceback object for these frames (raw order, most recent first); frames from frame(). */
  traceback(frames: readonly TraceFrame[]): TraceTraceback {
    let key = '';
    for (let i = 0; i < frames.length; i++) key += `${(frames[i] as FrameRec).id},`;
    let tb = this.tracebacksByKey.get(key);
    if (!tb) {
      tb = { id: this.tracebackList.length, frames: frames.slice() };
      this.tracebacksByKey.set(key, tb);
      this.tracebackList.push(tb);
      if (tb.id >= this.size0.length) {
        const grow = (a: Float64Array) => {
          const b = new Float64Array(a.length * 2);
          b.set(a);
          return b;
        };
        this.size0 = grow(this.size0);
        this.count0 = grow(this.count0);
      }
    }
    return tb;
  }

  /** One trace. `totalNframe` is the real stack depth (3.9+), or null. */
  add(domain: number, size: number, tb: TraceTraceback, totalNframe: number | null): void {
    this.traces++;
    this.size += size;
    if (domain === 0) {
      this.size0[tb.id] += size;
      this.count0[tb.id] += 1;
      if (size >= 0 && size <= SMALL_SIZE_LIMIT) this.smallSizes[size] += 1;
      else {
        this.largeTraces++;
        this.largeSize += size;
      }
    } else {
      const key = `${domain}:${tb.id}`;
      const g = this.other.get(key);
      if (g) {
        g.size += size;
        g.count++;
      } else this.other.set(key, { domain, traceback: tb, size, count: 1 });
    }
    // The totals of the last trace's domain are kept at hand: a snapshot is nearly all domain 0.
    let d = this.lastDomainTotals;
    if (d === undefined || d.domain !== domain) {
      d = this.domainTotals.get(domain);
      if (!d) this.domainTotals.set(domain, (d = { domain, traces: 0, size: 0 }));
      this.lastDomainTotals = d;
    }
    d.traces++;
    d.size += size;
    if (totalNframe !== null) {
      if (totalNframe > this.maxTotal) this.maxTotal = totalNframe;
      if (totalNframe > tb.frames.length) this.truncated++;
    }
  }

  finish(meta: { tracebackLimit: number | null; source: TracemallocSnapshot['source'] }): TracemallocSnapshot {
    const groups: TraceGroup[] = [];
    for (const tb of this.tracebackList) {
      const count = this.count0[tb.id]!;
      if (count > 0) groups.push({ domain: 0, traceback: tb, size: this.size0[tb.id]!, count });
    }
    groups.push(...[...this.other.values()].sort((a, b) => a.domain - b.domain || a.traceback.id - b.traceback.id));
    let maxFrames = 0;
    for (const tb of this.tracebackList) maxFrames = Math.max(maxFrames, tb.frames.length);
    return {
      tracebackLimit: meta.tracebackLimit,
      traceFields: this.traceFields,
      traces: this.traces,
      size: this.size,
      groups,
      domains: [...this.domainTotals.values()].sort((a, b) => a.domain - b.domain),
      tracebacks: this.tracebackList.length,
      frames: this.frameCount,
      filenames: this.framesByFile.size,
      maxFrames,
      totalNframe: this.maxTotal >= 0 ? { max: this.maxTotal, truncatedTraces: this.truncated } : null,
      smallSizes: Array.from(this.smallSizes),
      largeTraces: this.largeTraces,
      largeSize: this.largeSize,
      source: meta.source,
    };
  }
}
