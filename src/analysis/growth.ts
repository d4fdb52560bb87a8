// Growth over a series of tracemalloc snapshots (in the order given): total traced memory per
// snapshot, and per allocation site (Snapshot.statistics(group_by) keys, lineno by default) its
// size in every snapshot. Leak suspects are sites that grow steadily: ranked by
// growth × steadiness, where steadiness is (steps up − steps down) / steps, so a site that grows
// at every step outranks one that grew as much in a single burst and then fell back.

import type { TracemallocParams } from '../model/params.js';
import { formatFrame, tracebackFrame } from '../model/tracemalloc-text.js';
import type { TraceFrame, TracemallocSnapshot } from '../model/types.js';
import { compareTracebacks, groupStatistics, type GroupBy } from './tracemalloc-stats.js';

export interface SnapshotPoint {
  /** 0-based position in the series. */
  index: number;
  file: string;
  traces: number;
  size: number;
}

export interface SiteGrowth {
  /** str(traceback) of the site, as CPython prints it: "file.py:12". */
  site: string;
  frames: readonly TraceFrame[];
  /** Size and count in each snapshot (0 where the site had no trace). */
  sizes: number[];
  counts: number[];
  /** Last minus first. */
  growth: number;
  countGrowth: number;
  stepsUp: number;
  stepsDown: number;
  /** (stepsUp − stepsDown) / steps, clamped at 0. */
  steadiness: number;
  /** Least-squares bytes per snapshot. */
  slope: number;
  /** growth × steadiness: the rank of leak suspects. */
  score: number;
}

export interface Growth {
  groupBy: GroupBy;
  snapshots: SnapshotPoint[];
  /** Every site that grew (growth > 0), biggest growth first. */
  growing: SiteGrowth[];
  /** Sites with growth > 0 and steadiness > 0, by score. */
  suspects: SiteGrowth[];
  sites: number;
}

function slopeOf(ys: number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

export function analyseGrowth(series: readonly { file: string; snapshot: TracemallocSnapshot }[], p: TracemallocParams, groupBy: GroupBy = 'lineno'): Growth {
  const n = series.length;
  const sites = new Map<string, { frames: readonly TraceFrame[]; sizes: number[]; counts: number[] }>();
  series.forEach(({ snapshot }, i) => {
    for (const [key, acc] of groupStatistics(snapshot.groups, groupBy, false)) {
      let s = sites.get(key);
      if (!s) {
        s = { frames: acc.traceback, sizes: new Array(n).fill(0), counts: new Array(n).fill(0) };
        sites.set(key, s);
      }
      s.sizes[i] = acc.size;
      s.counts[i] = acc.count;
    }
  });
  const all: SiteGrowth[] = [...sites.values()].map((s) => {
    let up = 0;
    let down = 0;
    for (let i = 1; i < n; i++) {
      if (s.sizes[i]! > s.sizes[i - 1]!) up++;
      else if (s.sizes[i]! < s.sizes[i - 1]!) down++;
    }
    const growth = s.sizes[n - 1]! - s.sizes[0]!;
    const steadiness = n > 1 ? Math.max(0, (up - down) / (n - 1)) : 0;
    return {
      site: formatFrame(tracebackFrame(s.frames, p)),
      frames: s.frames,
      sizes: s.sizes,
      counts: s.counts,
      growth,
      countGrowth: s.counts[n - 1]! - s.counts[0]!,
      stepsUp: up,
      stepsDown: down,
      steadiness,
      slope: slopeOf(s.sizes),
      score: growth > 0 ? growth * steadiness : 0,
    };
  });
  // Ties broken as CPython breaks them (traceback order, descending), so the order is stable.
  const byTb = (a: SiteGrowth, b: SiteGrowth) => compareTracebacks(b.frames, a.frames, p);
  return {
    groupBy,
    snapshots: series.map((s, index) => ({ index, file: s.file, traces: s.snapshot.traces, size: s.snapshot.size })),
    growing: all.filter((s) => s.growth > 0).sort((a, b) => b.growth - a.growth || byTb(a, b)),
    suspects: all.filter((s) => s.score > 0).sort((a, b) => b.score - a.score || b.growth - a.growth || byTb(a, b)),
    sites: all.length,
  };
}
