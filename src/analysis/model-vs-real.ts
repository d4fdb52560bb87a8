// Replaying a recorded run and holding the model's numbers against CPython's own: the shared
// pipeline of `cpymem replay` and `cpymem compare`.
//
// Model and real are two values of one type (MallocStats): the model's dump is printed in CPython's
// layout and compared line by line with the dump the recorder took at the same point, so a
// difference is reported as the very line CPython printed otherwise.

import { existsSync, readFileSync } from 'node:fs';
import type { EventSource } from '../ingest/events-bundle.js';
import { parseMallocStats } from '../ingest/malloc-stats.js';
import { formatAllocatorSection } from '../model/malloc-stats-text.js';
import { pymallocParams, type PymallocParams } from '../model/params.js';
import type { ModelFault } from '../model/pymalloc.js';
import { Replay, type Marker, type ReplaySummary } from '../model/replay.js';
import type { MallocStats } from '../model/types.js';
import { ArenaTimelineRecorder, type ArenaTimeline } from './arena-timeline.js';
import { arenaOccupancy, summariseOccupancy, type ArenaOccupancy, type OccupancySummary } from './pinned-arenas.js';

export interface DumpDifference {
  /** 1-based line within the dump. */
  line: number;
  real: string;
  model: string;
}

export interface MarkerResult {
  index: number;
  /** 0-based event index of the stats record. */
  event: number;
  label?: string;
  /** The real dump file on disk, when it exists and CPython printed a pymalloc section. */
  realFile?: string;
  real?: MallocStats;
  model: MallocStats;
  /** The model's dump, in CPython's layout. */
  modelText: string;
  /** undefined when there is no real dump to compare with. */
  identical?: boolean;
  firstDifference?: DumpDifference;
  differingLines?: number;
  recordedAllocatedBlocks?: number;
  modelAllocatedBlocks: number;
  /** The model's live arenas at the marker: how many are pinned by a few blocks. */
  occupancy: OccupancySummary;
}

/** Every live arena at one marker, for the pinned-arena map. */
export interface ArenaMap {
  marker: number;
  event: number;
  label?: string;
  arenas: ArenaOccupancy[];
}

export interface ReplayRun {
  file: string;
  version: string;
  params: PymallocParams;
  summary: ReplaySummary;
  markers: MarkerResult[];
  /** Arenas live, allocated and released over the events (bounded, extremes kept). */
  arenaTimeline: ArenaTimeline;
  /** Per-arena occupancy at the last marker and at the marker with the most pinned arenas. */
  arenaMaps: { last?: ArenaMap; mostPinned?: ArenaMap };
}

export interface ReplayRunOptions {
  /** CPython version; defaults to the bundle manifest's. */
  python?: string;
  /** Geometry overrides for "what if" (addresses become synthetic). */
  params?: PymallocParams;
  /** Do not read and compare the real dumps. */
  skipReal?: boolean;
  onProgress?(events: number): void;
  /** Called for every marker as soon as it is known (streaming: --dump-dir). */
  onMarker?(m: MarkerResult): void;
  /** Keep MarkerResults in the returned run (default true). */
  keepMarkers?: boolean;
  /** A deliberately wrong model variant (negative controls in tests). */
  fault?: ModelFault;
}

/** The CPython version a source was recorded with, or the one given. */
export function versionOf(source: EventSource, python?: string): string | undefined {
  return python ?? source.manifest?.python.version;
}

/** Compare two dumps in CPython's layout; the first differing line, and how many differ. */
export function diffDumps(realText: string, modelText: string): { first?: DumpDifference; count: number } {
  const a = realText.split('\n');
  const b = modelText.split('\n');
  let first: DumpDifference | undefined;
  let count = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    count++;
    first ??= { line: i + 1, real: a[i] ?? '<no line>', model: b[i] ?? '<no line>' };
  }
  return { first, count };
}

export async function replayRun(source: EventSource, version: string, opts: ReplayRunOptions = {}): Promise<ReplayRun> {
  const params = opts.params ?? pymallocParams(version);
  const markers: MarkerResult[] = [];
  const timeline = new ArenaTimelineRecorder();
  const arenaMaps: ReplayRun['arenaMaps'] = {};
  let mostPinned = 0;
  let index = 0;
  let replay: Replay;
  const onMarker = (m: Marker) => {
    const modelText = formatAllocatorSection(m.stats);
    const arenas = arenaOccupancy(replay.model.liveArenas(), params);
    const occupancy = summariseOccupancy(arenas, params);
    const r: MarkerResult = {
      index: index++,
      event: m.event,
      label: m.label,
      model: m.stats,
      modelText,
      recordedAllocatedBlocks: m.recordedAllocatedBlocks,
      modelAllocatedBlocks: m.modelAllocatedBlocks,
      occupancy,
    };
    const map: ArenaMap = { marker: r.index, event: r.event, label: r.label, arenas };
    arenaMaps.last = map;
    if (occupancy.pinned > mostPinned) {
      mostPinned = occupancy.pinned;
      arenaMaps.mostPinned = map;
    }
    if (!opts.skipReal && !opts.params && m.label) {
      const file = source.resolveLabel(m.label);
      if (existsSync(file)) {
        const text = readFileSync(file, 'utf8');
        // An empty dump: CPython printed nothing (hooks replaced); nothing to compare.
        if (text.includes('Small block threshold')) {
          const real = parseMallocStats(text, { file }).dumps[0];
          if (real) {
            r.realFile = file;
            r.real = real;
            const d = diffDumps(formatAllocatorSection(real), modelText);
            r.identical = d.count === 0;
            r.firstDifference = d.first;
            r.differingLines = d.count;
          }
        }
      }
    }
    opts.onMarker?.(r);
    if (opts.keepMarkers !== false) markers.push(r);
  };
  replay = new Replay({ params, synthetic: Boolean(opts.params), onMarker, onProgress: opts.onProgress, onArenaChange: (c) => timeline.add(c), fault: opts.fault });
  for await (const batch of source.columns()) replay.pushBatch(batch);
  return { file: source.file, version, params, summary: replay.end(), markers, arenaTimeline: timeline.finish(), arenaMaps };
}
