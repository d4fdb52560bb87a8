// Plain report data for a replay (`cpymem replay EVENTS -o report.html`): what the model did over the
// events, how it compares with the dumps CPython printed, and which arenas are pinned. JSON-able, so
// it is embedded in the page and written by --json as it is.

import type { ArenaTimeline } from '../analysis/arena-timeline.js';
import type { ArenaMap, MarkerResult, ReplayRun } from '../analysis/model-vs-real.js';
import type { OccupancySummary } from '../analysis/pinned-arenas.js';
import { downsampleExtremes } from '../analysis/timeline.js';
import { buildGcReportData, type GcModelInput, type GcReportData, type GcReportInput } from './gc-data.js';

export interface ReplayMarkerRow {
  index: number;
  event: number;
  label: string | null;
  /** null: no real dump to compare with (what-if, or CPython printed nothing). */
  identical: boolean | null;
  differingLines: number | null;
  firstDifference: { line: number; real: string; model: string } | null;
  recordedAllocatedBlocks: number | null;
  modelAllocatedBlocks: number;
  arenasModel: number | null;
  arenasReal: number | null;
  occupancy: OccupancySummary;
}

export interface ReplayRunData {
  title: string;
  python: string;
  arenaSize: number;
  poolSize: number;
  syntheticAddresses: boolean;
  events: number;
  arenas: { allocatedTotal: number; reclaimed: number; highwater: number; final: number };
  peakReservedBytes: number;
  addresses: { checked: number; predicted: number };
  divergences: { event: number; op: string; expected: string; recorded: string }[];
  timeline: ArenaTimeline;
  /**
   * Every marker of a short run; of a long one at most MAX_MARKER_ROWS: per stretch of markers the
   * first, the last and the extremes of arenas, allocated blocks, pinned arenas and differing lines,
   * and the first marker that differs.
   */
  markers: ReplayMarkerRow[];
  /** Over every marker, listed or not. */
  markerTotals: { markers: number; compared: number; identical: number; mostPinned: number };
  /** The pinned-arena map: the marker with the most pinned arenas, else the last marker. */
  arenaMap: ArenaMap | null;
}

export interface ReplayReportData {
  file: string;
  recorded: ReplayRunData;
  whatIf: ReplayRunData | null;
  /** The bundle's GC log and the GC model over the run (capture bundles); null for an events CSV. */
  gc: GcReportData | null;
}

/** Marker rows a report keeps (its table and its embedded data), so a long run's page stays small. */
export const MAX_MARKER_ROWS = 200;

const MARKER_SERIES: ((m: MarkerResult) => number | null)[] = [
  (m) => m.model.arenas?.current ?? null,
  (m) => m.modelAllocatedBlocks,
  (m) => m.occupancy.pinned,
  (m) => m.differingLines ?? null,
];

export function replayRunData(run: ReplayRun, title: string): ReplayRunData {
  const s = run.summary;
  const totals = { markers: run.markers.length, compared: 0, identical: 0, mostPinned: 0 };
  for (const m of run.markers) {
    if (m.identical !== undefined) totals.compared++;
    if (m.identical) totals.identical++;
    totals.mostPinned = Math.max(totals.mostPinned, m.occupancy.pinned);
  }
  return {
    title,
    python: run.version,
    arenaSize: run.params.arenaSize,
    poolSize: run.params.poolSize,
    syntheticAddresses: s.syntheticAddresses,
    events: s.events,
    arenas: s.arenas,
    peakReservedBytes: s.arenas.highwater * run.params.arenaSize,
    addresses: { checked: s.addressesChecked, predicted: s.addressesPredicted },
    divergences: s.divergences.map((d) => ({ ...d })),
    timeline: run.arenaTimeline,
    markerTotals: totals,
    markers: downsampleExtremes(run.markers, MAX_MARKER_ROWS, MARKER_SERIES, (m) => m.identical === false).items.map((m) => ({
      index: m.index,
      event: m.event,
      label: m.label ?? null,
      identical: m.identical ?? null,
      differingLines: m.differingLines ?? null,
      firstDifference: m.firstDifference ?? null,
      recordedAllocatedBlocks: m.recordedAllocatedBlocks ?? null,
      modelAllocatedBlocks: m.modelAllocatedBlocks,
      arenasModel: m.model.arenas?.current ?? null,
      arenasReal: m.real?.arenas?.current ?? null,
      occupancy: m.occupancy,
    })),
    arenaMap: run.arenaMaps.mostPinned ?? run.arenaMaps.last ?? null,
  };
}

export function buildReplayReportData(
  file: string,
  recorded: ReplayRun,
  whatIf: ReplayRun | undefined,
  whatIfTitle: string,
  gc: { log?: GcReportInput; model?: GcModelInput } = {},
): ReplayReportData {
  return {
    file,
    recorded: replayRunData(recorded, 'as recorded'),
    whatIf: whatIf ? replayRunData(whatIf, whatIfTitle) : null,
    gc: gc.log || gc.model ? buildGcReportData(gc.log ? [gc.log] : [], gc.model ? [gc.model] : []) : null,
  };
}
