// Plain report data for a replay (`cpymem replay EVENTS -o report.html`): what the model did over the
// events, how it compares with the dumps CPython printed, and which arenas are pinned. JSON-able, so
// it is embedded in the page and written by --json as it is.

import type { ArenaTimeline } from '../analysis/arena-timeline.js';
import type { ArenaMap, ReplayRun } from '../analysis/model-vs-real.js';
import type { OccupancySummary } from '../analysis/pinned-arenas.js';

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
  markers: ReplayMarkerRow[];
  /** The pinned-arena map: the marker with the most pinned arenas, else the last marker. */
  arenaMap: ArenaMap | null;
}

export interface ReplayReportData {
  file: string;
  recorded: ReplayRunData;
  whatIf: ReplayRunData | null;
}

export function replayRunData(run: ReplayRun, title: string): ReplayRunData {
  const s = run.summary;
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
    markers: run.markers.map((m) => ({
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

export function buildReplayReportData(file: string, recorded: ReplayRun, whatIf: ReplayRun | undefined, whatIfTitle: string): ReplayReportData {
  return { file, recorded: replayRunData(recorded, 'as recorded'), whatIf: whatIf ? replayRunData(whatIf, whatIfTitle) : null };
}
