// The replay's arena charts: arenas live / allocated / released over the events (with a what-if run
// beside the recorded one), and the pinned-arena map (one cell per live arena).

import * as Plot from '@observablehq/plot';
import { PINNED_MAX_USE } from '../../analysis/pinned-arenas.js';
import { formatBytes, formatInt, formatPercent } from '../format.js';
import type { ReplayRunData } from '../replay-data.js';
import { CHART_STYLE, CHART_WIDTH, USED_COLOUR, joinNotes, rampColours, type ChartSpec } from './spec.js';

interface Row {
  event: number;
  value: number;
  series: string;
  title: string;
}

function timelineRows(run: ReplayRunData, suffix: string): Row[] {
  const rows: Row[] = [];
  // Start at zero arenas before the first event, so the step line shows the first arena too.
  const pts = [{ event: 0, current: 0, allocatedTotal: 0 }, ...run.timeline.points];
  for (const p of pts) {
    const where = `event ${formatInt(p.event)}`;
    rows.push({ event: p.event, value: p.current, series: `live${suffix}`, title: `${where}${suffix}\nlive arenas: ${formatInt(p.current)}` });
    rows.push({ event: p.event, value: p.allocatedTotal, series: `allocated so far${suffix}`, title: `${where}${suffix}\narenas allocated so far: ${formatInt(p.allocatedTotal)}` });
    rows.push({ event: p.event, value: p.allocatedTotal - p.current, series: `released so far${suffix}`, title: `${where}${suffix}\narenas released so far: ${formatInt(p.allocatedTotal - p.current)}` });
  }
  // Carry the last values to the end of the run.
  const last = pts.at(-1)!;
  for (const [series, value] of [[`live${suffix}`, last.current], [`allocated so far${suffix}`, last.allocatedTotal], [`released so far${suffix}`, last.allocatedTotal - last.current]] as const) {
    rows.push({ event: run.events, value, series, title: `end of the run${suffix}\n${series}: ${formatInt(value)}` });
  }
  return rows;
}

/** Allocated (widest) under released under live. */
function drawOrder(series: string): number {
  return series.startsWith('allocated') ? 0 : series.startsWith('released') ? 1 : 2;
}

export function arenaTimelineChart(recorded: ReplayRunData, whatIf: ReplayRunData | null): ChartSpec | null {
  if (recorded.events === 0) return null;
  const rows = [...timelineRows(recorded, ''), ...(whatIf ? timelineRows(whatIf, ' (what if)') : [])];
  const names = [...new Set(rows.map((r) => r.series))];
  const colours: Record<string, string> = {
    live: USED_COLOUR,
    'allocated so far': '#ec8c4c',
    'released so far': '#5aa469',
    'live (what if)': '#b04fb0',
    'allocated so far (what if)': '#f2b98f',
    'released so far (what if)': '#a6d4ae',
  };
  const markers = recorded.markers.map((m) => ({ event: m.event, title: `marker ${m.index + 1}${m.label ? ` (${m.label})` : ''} at event ${formatInt(m.event)}` }));
  const downsampled = [recorded, whatIf].filter((r): r is ReplayRunData => r !== null && r.timeline.downsampled);
  return {
    id: 'arena-timeline',
    title: 'Arenas over the run',
    howToRead:
      'x is the position in the recorded event stream. The blue step line counts live arenas, orange the arenas allocated so far and green those released so far; grey ticks are the markers where CPython printed a dump. A release only happens when every pool of an arena is empty, so a flat blue line after a drop in live data means pinned arenas.' +
      (whatIf ? ' The paler and purple lines replay the same requests under the what-if geometry.' : ''),
    note: joinNotes(
      downsampled.map(
        (r) => `${r.title}: ${formatInt(r.timeline.points.length)} of ${formatInt(r.timeline.changes)} arena allocations and releases drawn, keeping the first, last, lowest and highest live count of every stretch.`,
      ),
    ),
    options: {
      width: CHART_WIDTH,
      height: 340,
      marginLeft: 70,
      marginBottom: 44,
      style: CHART_STYLE,
      x: { label: 'event →', labelAnchor: 'center', domain: [0, recorded.events], ticks: 8, tickFormat: (n: number) => formatInt(n) },
      y: { label: '↑ arenas', grid: true, zero: true, tickFormat: (n: number) => (Number.isInteger(n) ? formatInt(n) : '') },
      color: { legend: true, domain: names, range: names.map((n) => colours[n] ?? '#777') },
      marks: [
        Plot.tickX(markers, { x: 'event', stroke: '#aaa', title: 'title' }),
        // Widest first, so that equal series (live = allocated until the first release) both show.
        ...[...names].sort((a, b) => drawOrder(a) - drawOrder(b)).map((n) =>
          Plot.line(
            rows.filter((r) => r.series === n),
            { x: 'event', y: 'value', stroke: 'series', curve: 'step-after', strokeWidth: n.startsWith('allocated') ? 5 : n.startsWith('released') ? 3.5 : 2 },
          ),
        ),
        Plot.dot(rows, { x: 'event', y: 'value', r: 5, fill: 'white', fillOpacity: 0, title: 'title' }),
      ],
    },
  };
}

/** Arenas per row of the map. */
const MAP_COLUMNS = 32;
/** Cells drawn at most; the rest are summarised in the note (the JSON has them all). */
export const MAX_MAP_CELLS = 4096;
const USE_BINS = [PINNED_MAX_USE, 0.25, 0.5, 0.75, 0.9];

export function arenaMapChart(run: ReplayRunData): ChartSpec | null {
  const map = run.arenaMap;
  if (!map || map.arenas.length === 0) return null;
  const drawn = map.arenas.slice(0, MAX_MAP_CELLS);
  const pinned = map.arenas.filter((a) => a.pinned);
  const cells = drawn.map((a, i) => ({
    col: i % MAP_COLUMNS,
    row: Math.floor(i / MAP_COLUMNS),
    use: a.use,
    pinned: a.pinned,
    title:
      `arena ${run.syntheticAddresses ? '(synthetic) ' : ''}0x${a.address.toString(16)}${a.pinned ? ' — PINNED' : ''}\n` +
      `${formatInt(a.usedPools)} of ${formatInt(a.totalPools)} pools in use, ${formatInt(a.blocks)} live blocks, ${formatBytes(a.blockBytes)} (${formatPercent(a.use)} of its pool bytes)`,
  }));
  const rows = Math.ceil(drawn.length / MAP_COLUMNS);
  const where = `marker ${map.marker + 1}${map.label ? ` (${map.label})` : ''}, event ${formatInt(map.event)}`;
  return {
    id: 'arena-map',
    title: `Pinned arenas at ${where}`,
    howToRead: `One square per live arena, in address order, ${MAP_COLUMNS} to a row; the darker, the more of its pool bytes live blocks fill. Squares outlined in red are pinned: live blocks fill at most ${formatPercent(PINNED_MAX_USE, 0)} of them, yet CPython cannot return the arena to the system until its last block is freed.`,
    note: joinNotes([
      `${formatInt(pinned.length)} of ${formatInt(map.arenas.length)} arenas pinned, holding ${formatBytes(pinned.length * run.arenaSize)} reserved for ${formatBytes(pinned.reduce((s, a) => s + a.blockBytes, 0))} of live blocks.`,
      map.arenas.length > MAX_MAP_CELLS ? `The first ${formatInt(MAX_MAP_CELLS)} arenas by address are drawn; all are in the embedded JSON.` : '',
      run.syntheticAddresses ? 'Addresses are synthetic (what-if geometry).' : '',
    ]),
    options: {
      width: Math.min(CHART_WIDTH, 80 + MAP_COLUMNS * 28),
      height: 30 + rows * 28,
      marginTop: 20,
      marginLeft: 40,
      marginBottom: 10,
      style: CHART_STYLE,
      x: { axis: null, domain: Array.from({ length: MAP_COLUMNS }, (_, i) => i) },
      y: { label: 'row', domain: Array.from({ length: rows }, (_, i) => i), tickFormat: (r: number) => String(r * MAP_COLUMNS) },
      color: { type: 'threshold', domain: USE_BINS, range: rampColours(USE_BINS.length + 1), legend: true, label: 'live share of pool bytes', tickFormat: (x: number) => formatPercent(x, 0) },
      marks: [
        Plot.cell(cells, { x: 'col', y: 'row', fill: 'use', inset: 1.5, title: 'title' }),
        Plot.cell(
          cells.filter((c) => c.pinned),
          { x: 'col', y: 'row', fill: 'none', stroke: '#d62728', strokeWidth: 2, inset: 1 },
        ),
      ],
    },
  };
}
