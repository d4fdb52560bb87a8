// The numbers a CI gate is set on, measured from the evidence of a run, and the gates themselves.
//
// Each metric keeps where its value was found (file, dump, line) so that a failing gate can say
// where to look. Metrics are plain JSON: `cpymem check --json` writes them, and a later run reads
// them back as its --baseline.

import type { MallocStats } from '../model/types.js';
import type { Evidence } from './evidence.js';
import { analyseDump } from './fragmentation.js';
import { verdict } from './model-verdict.js';
import { formatBytes, formatInt, formatPercent } from '../util/format.js';

export interface Measured {
  value: number;
  /** Where the value was found, for the failure line: "run.txt dump 3 (line 120)". */
  where: string;
}

export interface Metrics {
  /** Most pymalloc arenas allocated at once. */
  arenas?: Measured;
  /** Most bytes reserved in arenas at once. */
  reservedBytes?: Measured;
  /** Fragmentation of the last dump of each input (the worst): bytes in arenas not in live blocks, as a share. */
  fragmentation?: Measured;
  /** Most pinned arenas at a marker of a replayed run. */
  pinnedArenas?: Measured;
  /** Bytes in allocated blocks of the last pymalloc dump (summed over inputs' last dumps). */
  allocatedBytes?: Measured;
  /** Traced memory of the last tracemalloc snapshot. */
  tracedBytes?: Measured;
  /** Largest relative growth within the run: first → last snapshot, first → last dump. */
  growthInRun?: Measured;
  /** Replays whose model did not reproduce the real run (0 = all exact). */
  modelMismatches?: Measured;
  /** Longest GC pause, in seconds. */
  gcPauseSeconds?: Measured;
  /** Generation-2 collections per minute of run time. */
  gen2PerMinute?: Measured;
}

export type MetricName = keyof Metrics;

function dumpWhere(file: string, index: number, d: MallocStats): string {
  return `${file} dump ${index + 1}, line ${d.line}`;
}

/** Keep the larger of two measurements. */
function max(a: Measured | undefined, b: Measured): Measured {
  return a === undefined || b.value > a.value ? b : a;
}

function growth(first: number, last: number): number {
  return first > 0 ? (last - first) / first : last > 0 ? Infinity : 0;
}

/** Everything the gates can be set on, from what the inputs contain. */
export function measure(e: Evidence): Metrics {
  const m: Metrics = {};
  let allocated = 0;
  let allocatedSeen = false;
  for (const input of e.inputs) {
    if (input.format === 'malloc-stats') {
      const pymalloc = input.dumps.map((d, i) => ({ d, i })).filter(({ d }) => d.allocator === 'pymalloc');
      for (const { d, i } of pymalloc) {
        const arenas = d.arenas?.current;
        if (arenas !== undefined) m.arenas = max(m.arenas, { value: arenas, where: dumpWhere(input.file, i, d) });
        const reserved = analyseDump(d).breakdown?.total ?? null;
        if (reserved !== null) m.reservedBytes = max(m.reservedBytes, { value: reserved, where: dumpWhere(input.file, i, d) });
      }
      const last = pymalloc.at(-1);
      if (last) {
        const f = analyseDump(last.d).overallFragmentation;
        if (f !== null) m.fragmentation = max(m.fragmentation, { value: f, where: dumpWhere(input.file, last.i, last.d) });
        const bytes = last.d.totals?.bytesInAllocatedBlocks;
        if (bytes !== undefined) {
          allocated += bytes;
          allocatedSeen = true;
        }
        const a = pymalloc[0]!.d.totals?.bytesInAllocatedBlocks;
        if (pymalloc.length > 1 && a !== undefined && bytes !== undefined) {
          m.growthInRun = max(m.growthInRun, { value: growth(a, bytes), where: `${input.file}: bytes in allocated blocks, dump 1 → dump ${last.i + 1}` });
        }
      }
    }
  }
  // Traced memory is the last snapshot's; growth runs from the first snapshot to the last.
  const snaps = e.inputs.flatMap((i) => (i.format === 'tracemalloc-snapshot' ? [{ file: i.file, size: i.snapshot.groups.reduce((s, g) => s + g.size, 0) }] : []));
  const lastSnap = snaps.at(-1);
  if (lastSnap) m.tracedBytes = { value: lastSnap.size, where: lastSnap.file };
  if (snaps.length > 1) {
    const first = snaps[0]!;
    m.growthInRun = max(m.growthInRun, { value: growth(first.size, lastSnap!.size), where: `traced memory, ${first.file} → ${lastSnap!.file}` });
  }
  if (allocatedSeen) m.allocatedBytes = { value: allocated, where: 'last dump of each input' };
  let mismatches = 0;
  for (const run of e.replays) {
    const s = run.summary;
    m.arenas = max(m.arenas, { value: s.arenas.highwater, where: `${run.file} (replayed)` });
    m.reservedBytes = max(m.reservedBytes, { value: s.arenas.highwater * run.params.arenaSize, where: `${run.file} (replayed)` });
    for (const mk of run.markers) {
      m.pinnedArenas = max(m.pinnedArenas, { value: mk.occupancy.pinned, where: `${run.file} marker ${mk.index + 1}${mk.label ? ` (${mk.label})` : ''}` });
    }
    const last = run.markers.at(-1);
    if (last) {
      const f = analyseDump(last.real ?? last.model).overallFragmentation;
      if (f !== null) m.fragmentation = max(m.fragmentation, { value: f, where: `${run.file} marker ${last.index + 1}` });
    }
    if (!verdict(run).identical) mismatches++;
  }
  for (const g of e.gcLogs) {
    for (const c of g.log.collections) {
      if (c.elapsedSeconds !== undefined) {
        m.gcPauseSeconds = max(m.gcPauseSeconds, { value: c.elapsedSeconds, where: `${g.file}, generation ${c.generation} collection${c.line ? ` at line ${c.line}` : c.record !== undefined ? ` at record ${c.record}` : ''}` });
      }
    }
    if (g.durationSeconds !== undefined && g.durationSeconds > 0) {
      const gen2 = g.log.collections.filter((c) => c.generation === 2).length;
      m.gen2PerMinute = max(m.gen2PerMinute, { value: gen2 / (g.durationSeconds / 60), where: `${g.file}: ${gen2} over ${g.durationSeconds.toFixed(1)} s` });
    }
  }
  if (e.replays.length) m.modelMismatches = { value: mismatches, where: `${mismatches} of ${e.replays.length} replayed run(s)` };
  return m;
}

// ---- gates -------------------------------------------------------------------------------------

export type GateName =
  | 'max-arenas'
  | 'max-reserved'
  | 'max-fragmentation'
  | 'max-pinned-arenas'
  | 'max-growth'
  | 'max-gc-pause'
  | 'max-gen2-per-minute'
  | 'model-must-match';

export interface GateResult {
  gate: GateName;
  /** What was compared, e.g. "arenas" or "reserved bytes vs baseline". */
  subject: string;
  value: number | null;
  limit: number;
  pass: boolean;
  /** One line for the CI log. */
  message: string;
  where: string | null;
}

export interface Limits {
  maxArenas?: number;
  maxReserved?: number;
  maxFragmentation?: number;
  maxPinnedArenas?: number;
  /** A ratio: 0.1 for 10 %. */
  maxGrowth?: number;
  maxGcPauseSeconds?: number;
  maxGen2PerMinute?: number;
  modelMustMatch?: boolean;
}

const f = {
  int: formatInt,
  bytes: formatBytes,
  percent: (x: number) => formatPercent(x),
  seconds: (s: number) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(3)} s`),
};

/** Evaluate every gate that has a limit. A gate with nothing to measure fails: silence is not a pass. */
export function evaluateGates(m: Metrics, limits: Limits, baseline?: Metrics): GateResult[] {
  const out: GateResult[] = [];
  const gate = (gate: GateName, subject: string, measured: Measured | undefined, limit: number, show: (n: number) => string, missing: string) => {
    if (!measured) {
      out.push({ gate, subject, value: null, limit, pass: false, message: `${subject}: not measured (${missing})`, where: null });
      return;
    }
    const pass = measured.value <= limit;
    out.push({
      gate,
      subject,
      value: measured.value,
      limit,
      pass,
      message: `${subject} ${show(measured.value)} ${pass ? '≤' : '>'} limit ${show(limit)} (${measured.where})`,
      where: measured.where,
    });
  };
  if (limits.maxArenas !== undefined) gate('max-arenas', 'arenas', m.arenas, limits.maxArenas, f.int, 'needs a pymalloc dump or a capture bundle');
  if (limits.maxReserved !== undefined) gate('max-reserved', 'reserved in arenas', m.reservedBytes, limits.maxReserved, f.bytes, 'needs a pymalloc dump or a capture bundle');
  if (limits.maxFragmentation !== undefined) gate('max-fragmentation', 'fragmentation', m.fragmentation, limits.maxFragmentation, f.percent, 'needs a pymalloc dump or a capture bundle');
  if (limits.maxPinnedArenas !== undefined) gate('max-pinned-arenas', 'pinned arenas', m.pinnedArenas, limits.maxPinnedArenas, f.int, 'needs a capture bundle: per-arena occupancy comes from replaying its events');
  if (limits.maxGrowth !== undefined) {
    if (baseline) {
      const pairs: [MetricName, string, (n: number) => string][] = [
        ['reservedBytes', 'reserved in arenas', f.bytes],
        ['allocatedBytes', 'bytes in allocated blocks', f.bytes],
        ['tracedBytes', 'traced memory', f.bytes],
        ['arenas', 'arenas', f.int],
      ];
      let compared = 0;
      for (const [key, label, show] of pairs) {
        const now = m[key];
        const before = baseline[key];
        if (!now || !before) continue;
        compared++;
        const g = growth(before.value, now.value);
        gate('max-growth', `${label} vs baseline`, { value: g, where: `${show(before.value)} → ${show(now.value)}, ${now.where}` }, limits.maxGrowth, f.percent, '');
      }
      if (compared === 0) gate('max-growth', 'growth vs baseline', undefined, limits.maxGrowth, f.percent, 'the baseline and this run have no metric in common');
    } else {
      gate('max-growth', 'growth within the run', m.growthInRun, limits.maxGrowth, f.percent, 'needs two or more dumps in one file or two or more tracemalloc snapshots, or --baseline');
    }
  }
  if (limits.maxGcPauseSeconds !== undefined) gate('max-gc-pause', 'longest GC pause', m.gcPauseSeconds, limits.maxGcPauseSeconds, f.seconds, 'needs a gc.DEBUG_STATS log, a gc.callbacks log or a capture bundle');
  if (limits.maxGen2PerMinute !== undefined) gate('max-gen2-per-minute', 'generation-2 collections per minute', m.gen2PerMinute, limits.maxGen2PerMinute, (n) => n.toFixed(1), 'needs a GC log with times or a capture bundle');
  if (limits.modelMustMatch) gate('model-must-match', 'replayed runs the model did not reproduce', m.modelMismatches, 0, f.int, 'needs a capture bundle');
  return out;
}
