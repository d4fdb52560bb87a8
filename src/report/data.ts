// Plain report data for malloc-stats dumps: everything the page shows, as JSON-able values, so the
// same numbers can be written with --json and embedded in the page (memray's reader → aggregator →
// plain data → one render function).

import { analyseDump, type ArenaBreakdown, type DumpFragmentation } from '../analysis/fragmentation.js';
import { buildTimeline, downsampleExtremes, type Timeline } from '../analysis/timeline.js';
import type { MallocStats, ReadWarning, Severity } from '../model/types.js';

export interface ReportInput {
  file: string;
  dumps: MallocStats[];
  warnings: ReadWarning[];
}

export const REPORT_SCHEMA = 'cpymem-malloc-stats-report/1';

/**
 * Dump rows kept in the report data beyond this are thinned, extremes kept: at ~450 bytes a row, the
 * 10,528 dumps of a long PYTHONMALLOCSTATS stream alone made a 7 MB page (issue 8: ≤ 5 MB).
 */
export const MAX_LISTED_DUMPS = 1000;

export interface DumpSummary {
  seq: number;
  fileIndex: number;
  /** 0-based index of the dump within its file. */
  dump: number;
  line: number;
  allocator: MallocStats['allocator'];
  /** "3.11–3.14" or "3.9": the versions whose layout and geometry fit the dump. */
  versions: string | null;
  arenasCurrent: number | null;
  arenasHighwater: number | null;
  arenasAllocatedTotal: number | null;
  arenasReclaimed: number | null;
  /** Bytes in arenas (the printed Total, or derived). */
  arenaBytes: number | null;
  allocatedBytes: number | null;
  availableBytes: number | null;
  overallFragmentation: number | null;
  /** True when a breakdown value was derived rather than printed. */
  derived: boolean;
  arenaMapBytes: number | null;
  freeListBytes: number | null;
  mimallocAllocatedBytes: number | null;
  mimallocReservedBytes: number | null;
  truncated: boolean;
}

export interface InputSummary {
  file: string;
  dumps: number;
  pymalloc: number;
  mimalloc: number;
  none: number;
  warnings: number;
}

export interface WarningCount {
  code: string;
  severity: Severity;
  count: number;
  /** How many inputs had it. */
  files: number;
  /** The first occurrence, to show what it looks like. */
  example: { file: string; line: number | null; message: string };
}

/** A dump picked for the detailed charts. */
export interface FocusDump {
  seq: number;
  fileIndex: number;
  file: string;
  dump: number;
  line: number;
}

export interface ReportData {
  /** REPORT_SCHEMA; a report that carries more parts (run-report.ts) names its own. */
  schema: string;
  inputs: InputSummary[];
  summary: {
    files: number;
    dumps: number;
    pymallocDumps: number;
    mimallocDumps: number;
    freeListOnlyDumps: number;
    peakArenas: number | null;
    peakArenaBytes: number | null;
    warnings: number;
  };
  /** The pymalloc dump with the most bytes in arenas (the later one on a tie), in detail. */
  focus: (FocusDump & { fragmentation: DumpFragmentation }) | null;
  /** Per input, its pymalloc dump with the most bytes in arenas: the bars of the breakdown chart. */
  peaks: (FocusDump & { breakdown: ArenaBreakdown })[];
  /** The dumps in reading order; at most MAX_LISTED_DUMPS (summary.dumps counts them all). */
  dumps: DumpSummary[];
  /** True when `dumps` was thinned: first, last, the focus dump and every stretch's extremes kept. */
  dumpsDownsampled: boolean;
  /** Present when there are at least two dumps. */
  timeline: Timeline | null;
  warnings: WarningCount[];
  /** Things the reader should know about the inputs as a whole. */
  notes: string[];
}

export function buildReportData(inputs: readonly ReportInput[]): ReportData {
  const dumps: DumpSummary[] = [];
  const details: DumpFragmentation[] = [];
  inputs.forEach((input, fileIndex) => {
    input.dumps.forEach((d, dump) => {
      const f = analyseDump(d);
      details.push(f);
      dumps.push(summarise(d, f, dumps.length, fileIndex, dump));
    });
  });

  const largest = (rows: DumpSummary[]): DumpSummary | undefined =>
    rows.reduce<DumpSummary | undefined>(
      (best, r) => (r.arenaBytes !== null && (!best || r.arenaBytes >= best.arenaBytes!) ? r : best),
      undefined,
    );
  const where = (r: DumpSummary): FocusDump => ({ seq: r.seq, fileIndex: r.fileIndex, file: inputs[r.fileIndex]!.file, dump: r.dump, line: r.line });
  const pymallocRows = dumps.filter((r) => r.allocator === 'pymalloc');
  const top = largest(pymallocRows) ?? pymallocRows.at(-1);
  const peaks = inputs.flatMap((_, i) => {
    const r = largest(pymallocRows.filter((p) => p.fileIndex === i)) ?? pymallocRows.filter((p) => p.fileIndex === i).at(-1);
    const breakdown = r && details[r.seq]!.breakdown;
    return r && breakdown ? [{ ...where(r), breakdown }] : [];
  });

  const count = (a: MallocStats['allocator']) => dumps.filter((r) => r.allocator === a).length;
  const notes: string[] = [];
  if (count('mimalloc') > 0) notes.push(`${count('mimalloc')} dump(s) came from mimalloc: CPython prints no arenas, pools or size classes for it, so they have no pymalloc charts.`);
  if (count('none') > 0) notes.push(`${count('none')} dump(s) have only free lists: the allocator section was not printed, so they have no pymalloc charts.`);
  if (dumps.length === 0) notes.push('No dumps were found in the inputs.');

  const warnings = countWarnings(inputs);
  return {
    schema: REPORT_SCHEMA,
    inputs: inputs.map((input) => ({
      file: input.file,
      dumps: input.dumps.length,
      pymalloc: input.dumps.filter((d) => d.allocator === 'pymalloc').length,
      mimalloc: input.dumps.filter((d) => d.allocator === 'mimalloc').length,
      none: input.dumps.filter((d) => d.allocator === 'none').length,
      warnings: warningTotal(countWarnings([input])),
    })),
    summary: {
      files: inputs.length,
      dumps: dumps.length,
      pymallocDumps: count('pymalloc'),
      mimallocDumps: count('mimalloc'),
      freeListOnlyDumps: count('none'),
      peakArenas: maxOf(dumps.map((r) => r.arenasHighwater ?? r.arenasCurrent)),
      peakArenaBytes: maxOf(dumps.map((r) => r.arenaBytes)),
      warnings: warningTotal(warnings),
    },
    focus: top ? { ...where(top), fragmentation: details[top.seq]! } : null,
    peaks,
    ...listed(dumps, top),
    timeline: dumps.length >= 2 ? buildTimeline(inputs) : null,
    warnings,
    notes,
  };
}

function listed(dumps: DumpSummary[], focus: DumpSummary | undefined): { dumps: DumpSummary[]; dumpsDownsampled: boolean } {
  const series = [(d: DumpSummary) => d.arenasCurrent, (d: DumpSummary) => d.arenaBytes, (d: DumpSummary) => d.allocatedBytes, (d: DumpSummary) => d.overallFragmentation];
  const { items, downsampled } = downsampleExtremes(dumps, MAX_LISTED_DUMPS, series, (d) => d === focus);
  return { dumps: items, dumpsDownsampled: downsampled };
}

function summarise(d: MallocStats, f: DumpFragmentation, seq: number, fileIndex: number, dump: number): DumpSummary {
  const b = f.breakdown;
  const range = d.platform?.versionRange;
  return {
    seq,
    fileIndex,
    dump,
    line: d.line,
    allocator: d.allocator,
    versions: range ? (range.min === range.max ? range.min : `${range.min}–${range.max}`) : null,
    arenasCurrent: d.arenas?.current ?? null,
    arenasHighwater: d.arenas?.highwater ?? null,
    arenasAllocatedTotal: d.arenas?.allocatedTotal ?? null,
    arenasReclaimed: d.arenas?.reclaimed ?? null,
    arenaBytes: b?.total ?? null,
    allocatedBytes: b?.parts[0]!.bytes ?? null,
    availableBytes: b?.parts[1]!.bytes ?? null,
    overallFragmentation: f.overallFragmentation,
    derived: b ? b.totalSource === 'derived' || b.parts.some((p) => p.source !== 'printed') : false,
    arenaMapBytes: d.arenaMap?.total ?? d.arenaMap?.bytesLostToRoot ?? null,
    freeListBytes: d.freeLists ? d.freeLists.reduce((s, l) => s + l.totalBytes, 0) : null,
    mimallocAllocatedBytes: d.mimalloc?.allocatedBytes ?? null,
    mimallocReservedBytes: d.mimalloc?.bytesReserved ?? null,
    truncated: d.truncated ?? false,
  };
}

function maxOf(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.max(...known) : null;
}

/** How many warnings the counts add up to. */
export function warningTotal(counts: readonly WarningCount[]): number {
  return counts.reduce((s, w) => s + w.count, 0);
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
const MORE_RE = /^(\d+) more (\S+) warnings not listed$/;

export function countWarnings(inputs: readonly Pick<ReportInput, 'file' | 'warnings'>[]): WarningCount[] {
  const byCode = new Map<string, WarningCount & { seen: Set<number> }>();
  inputs.forEach((input, i) => {
    for (const w of input.warnings) {
      // The reader keeps the first warnings of a code and sums up the rest in one entry
      // ("N more CODE warnings not listed", src/ingest/warnings.ts): count those N, not 1.
      const more = MORE_RE.exec(w.message);
      const n = more && more[2] === w.code ? Number(more[1]) : 1;
      let row = byCode.get(w.code);
      if (!row) {
        row = { code: w.code, severity: w.severity, count: 0, files: 0, seen: new Set(), example: { file: input.file, line: w.line ?? null, message: w.message } };
        byCode.set(w.code, row);
      }
      row.count += n;
      if (SEVERITY_RANK[w.severity] < SEVERITY_RANK[row.severity]) row.severity = w.severity;
      row.seen.add(i);
    }
  });
  return [...byCode.values()]
    .map(({ seen, ...row }) => ({ ...row, files: seen.size }))
    .sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.count - a.count || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}
