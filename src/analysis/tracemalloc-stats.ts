// Snapshot.filter_traces(), Snapshot.statistics() and Snapshot.compare_to() of Lib/tracemalloc.py,
// computed on trace groups (one per domain and traceback) instead of single traces: every key,
// filter and sum of CPython's code depends on a trace only through those, so the results are the
// same, in time and memory that follow the distinct tracebacks.
//
// Order: CPython sorts with unique keys (a traceback appears once per result), so the order is
// fully determined: Statistic by (size, count, traceback) descending; StatisticDiff by
// (|size_diff|, size, |count_diff|, count, traceback) descending. Tracebacks compare as tuples of
// (filename, lineno) in the version's Traceback._frames order; strings compare by code point, as
// Python's do (JavaScript's < compares UTF-16 code units, which differs above U+FFFF).

import type { TracemallocParams } from '../model/params.js';
import type { Statistic, StatisticDiff, TraceFrame, TraceGroup } from '../model/types.js';
import { fnmatch } from '../util/fnmatch.js';

export type GroupBy = 'lineno' | 'filename' | 'traceback';
export const GROUP_BY: readonly GroupBy[] = ['lineno', 'filename', 'traceback'];

/** tracemalloc.Filter / tracemalloc.DomainFilter. */
export type TraceFilter =
  | { kind: 'filename'; inclusive: boolean; pattern: string; lineno: number | null; allFrames: boolean; domain: number | null }
  | { kind: 'domain'; inclusive: boolean; domain: number };

/** _normalize_filename(): os.path.normcase (identity on POSIX) and ".pyc" → ".py" (".pyo" too in 3.4–3.5). */
function normalizeFilename(name: string, p: TracemallocParams): string {
  if (name.endsWith('.pyc') || (p.normalizesPyo && name.endsWith('.pyo'))) return name.slice(0, -1);
  return name;
}

function matchFrameImpl(f: TraceFilter & { kind: 'filename' }, pattern: string, frame: TraceFrame, p: TracemallocParams): boolean {
  if (!fnmatch(normalizeFilename(frame.filename, p), pattern)) return false;
  return f.lineno === null || frame.lineno === f.lineno;
}

/** Filter._match(trace) / DomainFilter._match(trace). */
function matches(f: TraceFilter, g: TraceGroup, p: TracemallocParams): boolean {
  if (f.kind === 'domain') return (g.domain === f.domain) !== !f.inclusive;
  const pattern = normalizeFilename(f.pattern, p);
  let res: boolean;
  if (f.allFrames) {
    res = g.traceback.frames.some((fr) => matchFrameImpl(f, pattern, fr, p)) ? f.inclusive : !f.inclusive;
  } else {
    // traceback[0] of the raw tuple: the most recent frame.
    res = matchFrameImpl(f, pattern, g.traceback.frames[0]!, p) !== !f.inclusive;
  }
  if (f.domain !== null) return f.inclusive ? res && g.domain === f.domain : res || g.domain !== f.domain;
  return res;
}

/** Snapshot.filter_traces(filters): keep a trace if an inclusive filter (if any) matches it and every exclusive one does. */
export function filterGroups(groups: readonly TraceGroup[], filters: readonly TraceFilter[], p: TracemallocParams): TraceGroup[] {
  if (filters.length === 0) return groups.slice();
  const include = filters.filter((f) => f.inclusive);
  const exclude = filters.filter((f) => !f.inclusive);
  return groups.filter((g) => (include.length === 0 || include.some((f) => matches(f, g, p))) && !exclude.some((f) => !matches(f, g, p)));
}

/** Python str comparison: by code point. */
export function comparePyStr(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // A surrogate pair is a code point above U+FFFF: it sorts after U+E000–U+FFFF.
      const pairX = x >= 0xd800 && x <= 0xdbff && i + 1 < a.length && (a.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      const pairY = y >= 0xd800 && y <= 0xdbff && i + 1 < b.length && (b.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      const cx = pairX ? a.codePointAt(i)! : x;
      const cy = pairY ? b.codePointAt(i)! : y;
      return cx < cy ? -1 : 1;
    }
  }
  return a.length - b.length;
}

export function compareFrames(a: TraceFrame, b: TraceFrame): number {
  return comparePyStr(a.filename, b.filename) || (a.lineno < b.lineno ? -1 : a.lineno > b.lineno ? 1 : 0);
}

/** Traceback.__lt__: tuple comparison of Traceback._frames (oldest first from 3.7). Raw frames in. */
export function compareTracebacks(a: readonly TraceFrame[], b: readonly TraceFrame[], p: TracemallocParams): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const fa = p.tracebackOldestFirst ? a[a.length - 1 - i]! : a[i]!;
    const fb = p.tracebackOldestFirst ? b[b.length - 1 - i]! : b[i]!;
    if (fa !== fb) {
      const c = compareFrames(fa, fb);
      if (c) return c;
    }
  }
  return a.length - b.length;
}

interface Acc {
  traceback: readonly TraceFrame[];
  size: number;
  count: number;
}

/** Length-prefixed, so no file name can make two different frames (or tracebacks) share a key. */
function frameKey(f: TraceFrame): string {
  return `${f.lineno}:${f.filename.length}:${f.filename}`;
}

/** Snapshot._group_by(key_type, cumulative): key → summed statistic. Keys are values, so two snapshots' groups meet. */
export function groupStatistics(groups: readonly TraceGroup[], groupBy: GroupBy, cumulative: boolean): Map<string, Acc> {
  if (cumulative && groupBy === 'traceback') throw new Error("cumulative mode cannot by used with key type 'traceback'");
  const out = new Map<string, Acc>();
  const add = (key: string, tb: () => readonly TraceFrame[], size: number, count: number) => {
    const a = out.get(key);
    if (a) {
      a.size += size;
      a.count += count;
    } else out.set(key, { traceback: tb(), size, count });
  };
  for (const g of groups) {
    const frames = g.traceback.frames;
    if (!cumulative) {
      if (groupBy === 'traceback') add(frames.map(frameKey).join(''), () => frames, g.size, g.count);
      else if (groupBy === 'lineno') add(frameKey(frames[0]!), () => [frames[0]!], g.size, g.count);
      else add(frames[0]!.filename, () => [{ filename: frames[0]!.filename, lineno: 0 }], g.size, g.count);
    } else {
      // Every frame of the traceback, repeated frames included (a recursive stack counts the
      // trace once per occurrence), as CPython's loop over trace_traceback does.
      for (const f of frames) {
        if (groupBy === 'lineno') add(frameKey(f), () => [f], g.size, g.count);
        else add(f.filename, () => [{ filename: f.filename, lineno: 0 }], g.size, g.count);
      }
    }
  }
  return out;
}

/** Snapshot.statistics(key_type, cumulative), sorted as CPython sorts it. */
export function statistics(groups: readonly TraceGroup[], groupBy: GroupBy, cumulative: boolean, p: TracemallocParams): Statistic[] {
  const stats: Statistic[] = [...groupStatistics(groups, groupBy, cumulative).values()];
  stats.sort((a, b) => b.size - a.size || b.count - a.count || compareTracebacks(b.traceback, a.traceback, p));
  return stats;
}

/** new.compare_to(old, key_type, cumulative), sorted as CPython sorts it. */
export function compareTo(
  newGroups: readonly TraceGroup[],
  oldGroups: readonly TraceGroup[],
  groupBy: GroupBy,
  cumulative: boolean,
  p: TracemallocParams,
): StatisticDiff[] {
  const now = groupStatistics(newGroups, groupBy, cumulative);
  const before = groupStatistics(oldGroups, groupBy, cumulative);
  const out: StatisticDiff[] = [];
  for (const [key, s] of now) {
    const prev = before.get(key);
    if (prev) {
      before.delete(key);
      out.push({ traceback: s.traceback, size: s.size, sizeDiff: s.size - prev.size, count: s.count, countDiff: s.count - prev.count });
    } else out.push({ traceback: s.traceback, size: s.size, sizeDiff: s.size, count: s.count, countDiff: s.count });
  }
  for (const s of before.values()) out.push({ traceback: s.traceback, size: 0, sizeDiff: -s.size, count: 0, countDiff: -s.count });
  out.sort(
    (a, b) =>
      Math.abs(b.sizeDiff) - Math.abs(a.sizeDiff) ||
      b.size - a.size ||
      Math.abs(b.countDiff) - Math.abs(a.countDiff) ||
      b.count - a.count ||
      compareTracebacks(b.traceback, a.traceback, p),
  );
  return out;
}
