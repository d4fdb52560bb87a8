// Plain report data for tracemalloc snapshots (memray's reader → aggregator → plain data): the
// growth over the snapshots (src/analysis/growth.ts) and the implied pymalloc packing of the last
// snapshot (src/analysis/packing.ts), beside the last real pymalloc dump when one was given.
import { analyseGrowth, type Growth, type SiteGrowth } from '../analysis/growth.js';
import { impliedPacking, type Geometry, type Packing } from '../analysis/packing.js';
import type { TracemallocParams } from '../model/params.js';
import type { MallocStats, ReadWarning, TracemallocSnapshot } from '../model/types.js';

export const TRACEMALLOC_REPORT_SCHEMA = 'cpymem-tracemalloc-report/1';
/** Rows of the per-site growth table (all sites are in the JSON). */
export const MAX_SUSPECTS = 25;
export const MAX_GROWING_BARS = 15;

export interface TracemallocReportInput {
  file: string;
  snapshot: TracemallocSnapshot;
  warnings: ReadWarning[];
}

export interface TracemallocReportData {
  schema: typeof TRACEMALLOC_REPORT_SCHEMA;
  /** The CPython semantics sites are named with ("3.9–3.14"). */
  python: string;
  growth: Omit<Growth, 'growing' | 'suspects'> & { growing: SiteGrowth[]; suspects: SiteGrowth[] };
  packing: (Packing & { snapshot: string; mallocStats: { file: string; dump: number } | null }) | null;
  warnings: { file: string; code: string; message: string }[];
  notes: string[];
}

export function buildTracemallocReportData(
  snapshots: readonly TracemallocReportInput[],
  p: TracemallocParams,
  packing: { geometry: Geometry; source: string; dump?: { file: string; index: number; stats: MallocStats } } | null,
): TracemallocReportData {
  const growth = analyseGrowth(snapshots, p, 'lineno');
  const last = snapshots.at(-1);
  const notes: string[] = [];
  if (snapshots.length < 2) notes.push('One snapshot: growth needs at least two, so only its packing is shown.');
  const pk = last && packing ? impliedPacking(last.snapshot, packing.geometry, packing.source, packing.dump?.stats) : null;
  if (pk && packing?.dump) notes.push(`Packing compares the last snapshot (${last!.file}) with the last pymalloc dump (${packing.dump.file}, dump ${packing.dump.index + 1}), taken to be of the same process.`);
  return {
    schema: TRACEMALLOC_REPORT_SCHEMA,
    python: `${p.min}–${p.max}`,
    growth,
    packing: pk ? { ...pk, snapshot: last!.file, mallocStats: packing?.dump ? { file: packing.dump.file, dump: packing.dump.index } : null } : null,
    warnings: snapshots.flatMap((s) => s.warnings.map((w) => ({ file: s.file, code: w.code, message: w.message }))),
    notes,
  };
}
