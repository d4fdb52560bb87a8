// How pymalloc's arenas evolve over a sequence of dumps: one file of `sys._debugmallocstats()`
// calls, a PYTHONMALLOCSTATS stream (one dump before every new arena, Objects/obmalloc.c
// `new_arena`, and one at `Py_FinalizeEx`), or many such files read in order.
//
// Long sequences are downsampled for charts, keeping each bucket's first, last, minimum and maximum
// of every series, so a spike never disappears from a line chart; the chart says when this happened.

import type { MallocStats } from '../model/types.js';

export interface DumpSource {
  file: string;
  dumps: readonly MallocStats[];
}

export interface TimelinePoint {
  /** 0-based position of the dump over all inputs, in reading order. */
  seq: number;
  fileIndex: number;
  /** 0-based index of the dump within its file. */
  dump: number;
  line: number;
  allocator: MallocStats['allocator'];
  arenasCurrent: number | null;
  arenasHighwater: number | null;
  /** "# bytes in allocated blocks". */
  allocatedBytes: number | null;
  /** Bytes in arenas ("Total" of the pymalloc section), i.e. reserved from the system. */
  arenaBytes: number | null;
  /** Seconds since the first dump, when every dump carries a log collector's stamp (Timeline.clock). */
  atSeconds?: number;
}

/** Pools of one size class in one dump, or the largest count over a bucket of dumps. */
export interface ClassPoolsCell {
  seqStart: number;
  /** Inclusive. */
  seqEnd: number;
  size: number;
  pools: number;
  /**
   * Free blocks as a share of the class's carved blocks (available / (in use + available)), the
   * class's own fragmentation; the largest over a bucket of dumps. Null when the class had no pool.
   */
  freeShare: number | null;
}

export interface Timeline {
  /** Points for charts: every dump, or the extremes per bucket when there were too many. */
  points: TimelinePoint[];
  /** How many dumps there were before downsampling. */
  dumpCount: number;
  downsampled: boolean;
  classPools: ClassPoolsCell[];
  /** True when class-pool cells stand for buckets of several dumps (their maximum). */
  classPoolsBucketed: boolean;
  /** Where each input starts in `seq`, to mark file boundaries. */
  fileStarts: { seq: number; fileIndex: number; file: string }[];
  /**
   * Every dump carries a log collector's stamp, in reading order: the points have `atSeconds`, and
   * charts can draw them over time. `span` is the last dump's atSeconds.
   */
  clock?: { span: number };
}

/**
 * Line charts keep at most this many points before downsampling: about one per pixel of a chart's
 * width, and with the points' tooltips about 400 KB of page per chart (docs/scale.md).
 */
export const MAX_LINE_POINTS = 1000;
/** The per-class heatmap has at most this many columns. */
export const MAX_CLASS_COLUMNS = 100;

export function timelinePoints(sources: readonly DumpSource[]): TimelinePoint[] {
  const points: TimelinePoint[] = [];
  const stamps = sources.flatMap((s) => s.dumps.map((d) => d.stampedAt));
  const first = stamps[0];
  const timed = first !== undefined && stamps.every((t, i) => t !== undefined && (i === 0 || t >= stamps[i - 1]!));
  sources.forEach((src, fileIndex) => {
    src.dumps.forEach((d, dump) => {
      const pymalloc = d.allocator === 'pymalloc';
      points.push({
        seq: points.length,
        fileIndex,
        dump,
        line: d.line,
        allocator: d.allocator,
        arenasCurrent: pymalloc ? (d.arenas?.current ?? null) : null,
        arenasHighwater: pymalloc ? (d.arenas?.highwater ?? null) : null,
        allocatedBytes: pymalloc ? (d.totals?.bytesInAllocatedBlocks ?? sumClasses(d, (c) => c.blocksInUse * c.size)) : null,
        arenaBytes: pymalloc ? (d.totals?.total ?? d.arenas?.bytesInCurrent ?? null) : null,
        ...(timed ? { atSeconds: d.stampedAt! - first } : {}),
      });
    });
  });
  return points;
}

function sumClasses(d: MallocStats, f: (c: NonNullable<MallocStats['classes']>[number]) => number): number | null {
  return d.classes && !d.classesIncomplete ? d.classes.reduce((s, c) => s + f(c), 0) : null;
}

export function buildTimeline(sources: readonly DumpSource[], maxPoints = MAX_LINE_POINTS, maxColumns = MAX_CLASS_COLUMNS): Timeline {
  const all = timelinePoints(sources);
  const series: ((p: TimelinePoint) => number | null)[] = [
    (p) => p.arenasCurrent,
    (p) => p.arenasHighwater,
    (p) => p.allocatedBytes,
    (p) => p.arenaBytes,
  ];
  const sampled = downsampleExtremes(all, maxPoints, series);
  const fileStarts: Timeline['fileStarts'] = [];
  let seq = 0;
  sources.forEach((src, fileIndex) => {
    fileStarts.push({ seq, fileIndex, file: src.file });
    seq += src.dumps.length;
  });
  const dumps = sources.flatMap((s) => s.dumps);
  const { cells, bucketed } = classPoolCells(dumps, maxColumns);
  return {
    points: sampled.items,
    dumpCount: all.length,
    downsampled: sampled.downsampled,
    classPools: cells,
    classPoolsBucketed: bucketed,
    fileStarts,
    ...(all.length > 1 && all.at(-1)!.atSeconds! > 0 ? { clock: { span: all.at(-1)!.atSeconds! } } : {}),
  };
}

/**
 * Keep at most about `maxPoints` items: split into equal buckets and keep, per bucket, the first and
 * last item and the items holding the minimum and maximum of every series. Order is preserved.
 * `firstOf`: the first item it holds for is kept too (say, the first marker that differs).
 */
export function downsampleExtremes<T>(
  items: readonly T[],
  maxPoints: number,
  series: readonly ((t: T) => number | null)[],
  firstOf?: (t: T) => boolean,
): { items: T[]; downsampled: boolean } {
  if (items.length <= maxPoints) return { items: [...items], downsampled: false };
  const perBucket = 2 + 2 * series.length;
  const buckets = Math.max(1, Math.floor((firstOf ? maxPoints - 1 : maxPoints) / perBucket));
  const keep = new Set<number>();
  const first = firstOf ? items.findIndex(firstOf) : -1;
  if (first >= 0) keep.add(first);
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * items.length) / buckets);
    const hi = Math.floor(((b + 1) * items.length) / buckets);
    if (hi <= lo) continue;
    keep.add(lo).add(hi - 1);
    for (const f of series) {
      let min = -1;
      let max = -1;
      for (let i = lo; i < hi; i++) {
        const v = f(items[i]!);
        if (v === null) continue;
        if (min < 0 || v < f(items[min]!)!) min = i;
        if (max < 0 || v > f(items[max]!)!) max = i;
      }
      if (min >= 0) keep.add(min).add(max);
    }
  }
  return { items: [...keep].sort((a, b) => a - b).map((i) => items[i]!), downsampled: true };
}

/** Pools per size class per dump (or the maximum per bucket of dumps), for classes ever in use. */
export function classPoolCells(dumps: readonly MallocStats[], maxColumns: number): { cells: ClassPoolsCell[]; bucketed: boolean } {
  const bucketed = dumps.length > maxColumns;
  const columns = bucketed ? maxColumns : dumps.length;
  const cells: ClassPoolsCell[] = [];
  for (let b = 0; b < columns; b++) {
    const lo = Math.floor((b * dumps.length) / columns);
    const hi = Math.floor(((b + 1) * dumps.length) / columns);
    const maxPools = new Map<number, number>();
    const maxFree = new Map<number, number>();
    for (let i = lo; i < hi; i++) {
      for (const c of dumps[i]!.classes ?? []) {
        maxPools.set(c.size, Math.max(maxPools.get(c.size) ?? 0, c.pools));
        const carved = c.blocksInUse + c.availBlocks;
        if (c.pools > 0 && carved > 0) maxFree.set(c.size, Math.max(maxFree.get(c.size) ?? 0, c.availBlocks / carved));
      }
    }
    for (const [size, pools] of [...maxPools].sort((a, b) => a[0] - b[0])) cells.push({ seqStart: lo, seqEnd: hi - 1, size, pools, freeShare: maxFree.get(size) ?? null });
  }
  return { cells, bucketed };
}
