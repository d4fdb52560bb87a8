// Plain report data for cyclic-GC logs and the GC model (memray's reader → aggregator → plain data):
// per-generation totals (src/analysis/gc-stats.ts), a bounded series of the collections, the pause
// histogram, and the model against the recorded collections with the what-if beside them
// (src/analysis/gc-vs-real.ts). JSON-able: only plain objects, arrays, numbers, strings and null.

import { summariseGc, type GcSummary } from '../analysis/gc-stats.js';
import type { GcRun } from '../analysis/gc-vs-real.js';
import { downsampleExtremes } from '../analysis/timeline.js';
import type { GcCollection, GcLog } from '../model/types.js';

export const GC_REPORT_SCHEMA = 'cpymem-gc-report/1';
/** Collections drawn per log at the most; the rest are merged with first, last and extremes kept. */
export const MAX_GC_POINTS = 3000;
/** Pause bin edges in milliseconds: a 1-2-5 series (log-scaled), the first bin from 0. */
const PAUSE_EDGES_MS = [0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, Infinity];

/** One GC log: an ingested file, or a capture bundle's gc.jsonl (src/analysis/evidence.ts GcEvidence fits). */
export interface GcReportInput {
  file: string;
  log: GcLog;
  /** Run time the log covers, seconds (a bundle's duration); else the log's own first-to-last time is used. */
  durationSeconds?: number;
}

/** The GC model over one capture bundle (gcReplayRun / prepareGcRun), and what its what-if is called. */
export interface GcModelInput {
  file: string;
  run: GcRun;
  /** Heading of the what-if column, e.g. "what if" or "as CPython 3.13". */
  whatIfTitle?: string;
}

/** One collection as drawn. x is seconds since the log's first record when every collection has a time, else its 1-based position. */
export interface GcPoint {
  index: number;
  x: number;
  generation: number;
  collected: number | null;
  uncollectable: number | null;
  elapsedMs: number | null;
  /** Where it is in the input: the log's line, or the bundle's record. */
  line: number | null;
  record: number | null;
}

export interface GcSeries {
  x: 'seconds' | 'collection';
  points: GcPoint[];
  /** Collections in the log (points may hold fewer). */
  total: number;
  downsampled: boolean;
}

export interface GcPauseBin {
  loMs: number;
  /** null: no upper edge. */
  hiMs: number | null;
  label: string;
  /** Per generation 0..n. */
  counts: number[];
  total: number;
}

export interface GcLogData {
  file: string;
  format: string;
  versionRange: string | null;
  durationSeconds: number | null;
  summary: GcSummary;
  /** Σ pauses ÷ run time, when both are known. */
  timeInGcShare: number | null;
  series: GcSeries;
  /** Bins from the first to the last one holding a pause; empty when the log has no pause times. */
  pauses: { bins: GcPauseBin[]; measured: number; unmeasured: number };
  collectableTypes: number;
  uncollectableObjects: Record<string, number>;
  warnings: { code: string; count: number }[];
}

export interface GcModelRow {
  generation: number;
  /** Collections the recording logged through gc.callbacks (automatic and explicit). */
  recorded: number;
  /** The model's generation at those same collections. */
  model: number;
  /** Recorded collections the model has at the same record with the same generation. */
  matched: number;
  /** Collections without callbacks (start-up before the recorder attached, shutdown), by the model's generation. */
  withoutCallbacks: number;
  /** Every collection of the run as the model has it: recorded + without callbacks. */
  wholeRun: number;
  /** The what-if world's collections over the whole run; null without a what-if. */
  whatIf: number | null;
}

export interface GcModelData {
  file: string;
  python: string;
  trigger: string;
  thresholds: number[];
  /** 3.8–3.11 collect inside the allocation: positions are exact, and exactness is claimed. */
  claimsExactness: boolean;
  exact: boolean;
  rows: GcModelRow[];
  agreement: {
    automatic: number;
    matched: number;
    generationMismatch: number;
    missed: number;
    unpredicted: number;
    countsCompared: number;
    countsEqual: number;
    /** 3.12+: records from becoming due to the collection. */
    delays: { count: number; zero: number; p50: number; p95: number; max: number } | null;
  };
  firstDivergence: { kind: string; record: number | null; recordedGeneration: number | null; modelGeneration: number | null } | null;
  whatIf: { title: string; python: string; thresholds: number[]; forkedAtRecord: number | null; estimated: number; ignoredSetThreshold: number } | null;
  /** Collections over the records: recorded, model, what if. */
  timeline: { rows: { series: string; record: number; generation: number }[]; total: number; downsampled: boolean };
}

export interface GcReportData {
  schema: typeof GC_REPORT_SCHEMA;
  logs: GcLogData[];
  models: GcModelData[];
}

/**
 * Keep at most `max` items, generation by generation (so a handful of full collections is never
 * merged away among thousands of young ones): the first, last and the items `keys` pick (largest,
 * smallest) of every stretch (src/analysis/timeline.ts downsampleExtremes). Order is preserved.
 */
export function boundCollections<T extends { generation: number }>(items: readonly T[], max: number, keys: ((t: T) => number | null)[] = []): { kept: T[]; downsampled: boolean } {
  if (items.length <= max) return { kept: [...items], downsampled: false };
  const indexed = items.map((t, i) => ({ t, i }));
  const gens = [...new Set(items.map((t) => t.generation))];
  const budget = Math.floor(max / gens.length);
  const kept = gens.flatMap(
    (g) =>
      downsampleExtremes(
        indexed.filter((x) => x.t.generation === g),
        budget,
        keys.map((k) => (x: { t: T }) => k(x.t)),
      ).items,
  );
  return { kept: kept.sort((a, b) => a.i - b.i).map((x) => x.t), downsampled: true };
}

function series(cs: readonly GcCollection[]): GcSeries {
  const timed = cs.length > 0 && cs.every((c) => c.timeSeconds !== undefined);
  const points: GcPoint[] = cs.map((c, i) => ({
    index: i + 1,
    x: timed ? c.timeSeconds! : i + 1,
    generation: c.generation,
    collected: c.truncated ? null : (c.collected ?? null),
    uncollectable: c.truncated ? null : (c.uncollectable ?? null),
    elapsedMs: c.elapsedSeconds === undefined ? null : Math.round(c.elapsedSeconds * 1e9) / 1e6,
    line: c.line ?? null,
    record: c.record ?? null,
  }));
  const { kept, downsampled } = boundCollections(points, MAX_GC_POINTS, [(p) => p.collected, (p) => p.elapsedMs, (p) => p.uncollectable]);
  return { x: timed ? 'seconds' : 'collection', points: kept, total: cs.length, downsampled };
}

/** Bin edges in milliseconds, plainly ("0.05", "1,000"): the axis says the unit. */
function edgeLabel(ms: number): string {
  return ms.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** Pauses in log-scaled millisecond bins, per generation; the bins between the first and last used one. */
export function pauseBins(cs: readonly GcCollection[], generations: number): GcLogData['pauses'] {
  const bins: GcPauseBin[] = PAUSE_EDGES_MS.slice(0, -1).map((lo, i) => {
    const hi = PAUSE_EDGES_MS[i + 1]!;
    const label = lo === 0 ? `< ${edgeLabel(hi)}` : hi === Infinity ? `≥ ${edgeLabel(lo)}` : `${edgeLabel(lo)}–${edgeLabel(hi)}`;
    return { loMs: lo, hiMs: hi === Infinity ? null : hi, label, counts: new Array<number>(generations).fill(0), total: 0 };
  });
  let measured = 0;
  for (const c of cs) {
    if (c.elapsedSeconds === undefined) continue;
    const ms = c.elapsedSeconds * 1000;
    const bin = bins.find((b) => b.hiMs === null || ms < b.hiMs - 1e-9)!;
    bin.counts[c.generation] = (bin.counts[c.generation] ?? 0) + 1;
    bin.total++;
    measured++;
  }
  const first = bins.findIndex((b) => b.total > 0);
  let last = bins.length - 1;
  while (last > first && bins[last]!.total === 0) last--;
  return { bins: first < 0 ? [] : bins.slice(first, last + 1), measured, unmeasured: cs.length - measured };
}

function logData(input: GcReportInput): GcLogData {
  const { log } = input;
  const durationSeconds = input.durationSeconds ?? log.durationSeconds;
  const summary = summariseGc(log.collections, { durationSeconds });
  const paused = summary.all.elapsed?.total;
  const warnings = new Map<string, number>();
  for (const w of log.warnings) warnings.set(w.code, (warnings.get(w.code) ?? 0) + 1);
  return {
    file: input.file,
    format: log.format,
    versionRange: log.versionRange ?? null,
    durationSeconds: durationSeconds ?? null,
    summary,
    timeInGcShare: paused !== undefined && durationSeconds ? paused / durationSeconds : null,
    series: series(log.collections),
    pauses: pauseBins(log.collections, summary.generations.length),
    collectableTypes: Object.keys(log.collectable).length,
    uncollectableObjects: { ...log.uncollectableObjects },
    warnings: [...warnings].sort(([a], [b]) => a.localeCompare(b)).map(([code, count]) => ({ code, count })),
  };
}

function modelData(m: GcModelInput): GcModelData {
  const { run } = m;
  const r = run.result;
  const a = r.agreement;
  const gens = Math.max(3, r.model.perGeneration.length);
  const rows: GcModelRow[] = Array.from({ length: gens }, (_, g) => ({
    generation: g,
    recorded: (a.recorded.automatic[g] ?? 0) + (a.recorded.explicit[g] ?? 0),
    model: 0,
    matched: 0,
    withoutCallbacks: 0,
    wholeRun: r.model.perGeneration[g] ?? 0,
    whatIf: r.whatIf ? (r.whatIf.perGeneration[g] ?? 0) : null,
  }));
  // The follow world notes the record of the callbacks' "start" on the collections the recording logged.
  const modelAt = new Map<number, number>();
  for (const c of r.model.collections) {
    if (c.record !== undefined) {
      rows[c.generation]!.model++;
      modelAt.set(c.record, c.generation);
    } else rows[c.generation]!.withoutCallbacks++;
  }
  for (const c of r.recorded) if (c.record !== undefined && modelAt.get(c.record) === c.generation) rows[c.generation]!.matched++;
  const first = a.mismatches[0];
  const timelineRows = [
    ...r.recorded.map((c) => ({ series: 'recorded', record: c.startRecord ?? c.record ?? 0, generation: c.generation })),
    ...r.model.collections.map((c) => ({ series: 'model', record: c.startRecord ?? 0, generation: c.generation })),
    ...(r.whatIf?.collections ?? []).map((c) => ({ series: 'what if', record: c.startRecord ?? 0, generation: c.generation })),
  ];
  const bounded = ['recorded', 'model', 'what if'].map((s) => boundCollections(timelineRows.filter((x) => x.series === s), Math.floor(MAX_GC_POINTS / 3)));
  const w = r.whatIf;
  return {
    file: m.file,
    python: run.version,
    trigger: run.params.trigger,
    thresholds: [...r.model.thresholds],
    claimsExactness: a.claimsExactness,
    exact: a.exact,
    rows,
    agreement: {
      automatic: a.recorded.automatic.reduce((x, y) => x + y, 0),
      matched: a.matched,
      generationMismatch: a.generationMismatch,
      missed: a.missed,
      unpredicted: a.unpredicted,
      countsCompared: a.counts.compared,
      countsEqual: a.counts.equal,
      delays: a.claimsExactness ? null : { ...a.delays },
    },
    firstDivergence: first
      ? { kind: first.kind, record: first.record ?? first.predictedRecord ?? null, recordedGeneration: first.recordedGeneration ?? null, modelGeneration: (first.predictedGeneration ?? -1) >= 0 ? first.predictedGeneration! : null }
      : null,
    whatIf: w
      ? {
          title: m.whatIfTitle ?? 'what if',
          python: run.whatIf?.python ?? run.version,
          thresholds: [...w.thresholds],
          forkedAtRecord: w.forkedAt,
          estimated: w.estimated,
          ignoredSetThreshold: w.ignoredSetThreshold,
        }
      : null,
    timeline: { rows: bounded.flatMap((b) => b.kept), total: timelineRows.length, downsampled: bounded.some((b) => b.downsampled) },
  };
}

/**
 * The GC report data of some GC logs (each: file name, GcLog, optional run time — an Evidence's
 * gcLogs fit as they are) and the GC model over capture bundles (file, GcRun). Pure; same inputs →
 * same data. Render it with renderGcSections (src/report/gc-section.ts).
 */
export function buildGcReportData(logs: readonly GcReportInput[], models: readonly GcModelInput[] = []): GcReportData {
  return { schema: GC_REPORT_SCHEMA, logs: logs.map(logData), models: models.map(modelData) };
}
