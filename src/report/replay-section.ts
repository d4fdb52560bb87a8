// The report's replay sections: the run at a glance, arenas over the events, pinned arenas, the
// model against the dumps CPython printed at each marker, and (capture bundles) the GC sections with
// the GC model against the recorded collections. Every string from an input is escaped.

import { PINNED_MAX_USE } from '../analysis/pinned-arenas.js';
import { arenaMapChart, arenaTimelineChart } from './charts/arenas.js';
import type { ChartSpec } from './charts/spec.js';
import { formatBytes, formatInt, formatPercent } from './format.js';
import { renderGcSections } from './gc-section.js';
import { escapeHtml as e, figure, numCell, section, table, textCell } from './markup.js';
import type { ReplayReportData, ReplayRunData } from './replay-data.js';

export function replayCharts(d: ReplayReportData): ChartSpec[] {
  return [arenaTimelineChart(d.recorded, d.whatIf), arenaMapChart(d.recorded), d.whatIf ? arenaMapChart(d.whatIf) : null]
    .filter((c): c is ChartSpec => c !== null)
    .map((c, i) => (i === 2 ? { ...c, id: 'arena-map-what-if', title: `${c.title} (what if)` } : c));
}

function runLines(r: ReplayRunData): string[] {
  const a = r.arenas;
  return [
    `${r.title}: CPython ${r.python} geometry, ${formatBytes(r.arenaSize)} arenas of ${formatBytes(r.poolSize)} pools${r.syntheticAddresses ? ' (synthetic arena addresses)' : ''}.`,
    `${formatInt(a.allocatedTotal)} arenas allocated, ${formatInt(a.reclaimed)} released, at most ${formatInt(a.highwater)} at once (${formatBytes(r.peakReservedBytes)} reserved at the peak), ${formatInt(a.final)} at the end.`,
    r.syntheticAddresses
      ? 'Block addresses are not comparable under another geometry.'
      : `${formatInt(r.addresses.predicted)} of ${formatInt(r.addresses.checked)} block addresses predicted (${formatPercent(r.addresses.checked ? r.addresses.predicted / r.addresses.checked : null, 3)}).`,
  ];
}

function markerTable(r: ReplayRunData): string {
  const rows = r.markers.map((m) => {
    const verdict = m.identical === null ? 'no real dump' : m.identical ? 'identical' : `${formatInt(m.differingLines ?? 0)} lines differ`;
    const diff = m.firstDifference ? `line ${m.firstDifference.line}: CPython "${m.firstDifference.real.trim()}", model "${m.firstDifference.model.trim()}"` : '';
    const blocks =
      m.recordedAllocatedBlocks === null ? formatInt(m.modelAllocatedBlocks) : m.recordedAllocatedBlocks === m.modelAllocatedBlocks ? `${formatInt(m.modelAllocatedBlocks)} =` : `${formatInt(m.modelAllocatedBlocks)} ≠ ${formatInt(m.recordedAllocatedBlocks)}`;
    return (
      `<tr${m.identical === false ? ' class="bad"' : ''}>${numCell(String(m.index + 1))}${textCell(m.label ?? '')}${numCell(formatInt(m.event))}` +
      `${textCell(verdict, diff || undefined)}${numCell(blocks, 'sys.getallocatedblocks(): model, and = or ≠ the value CPython returned')}` +
      `${numCell(m.arenasReal === null ? formatInt(m.arenasModel) : `${formatInt(m.arenasModel)} / ${formatInt(m.arenasReal)}`)}` +
      `${numCell(formatInt(m.occupancy.pinned))}${numCell(formatBytes(m.occupancy.pinnedReservedBytes))}${numCell(formatInt(m.occupancy.minArenas))}</tr>`
    );
  });
  return table(
    ['#', 'marker', 'event', 'model vs CPython dump', 'allocated blocks', 'arenas model / real', 'pinned arenas', 'reserved by pinned', 'fewest arenas'],
    rows,
    [true, false, true, false, true, true, true, true, true],
  );
}

/** The HTML sections, given each chart's rendered markup. */
export function renderReplaySections(d: ReplayReportData, render: (spec: ChartSpec) => string): string[] {
  const charts = new Map(replayCharts(d).map((c) => [c.id, figure(c, render(c))]));
  const r = d.recorded;
  const { compared, identical } = r.markerTotals;
  const verdict = compared
    ? `${formatInt(identical)} of ${formatInt(compared)} dumps the model printed are identical to CPython's, line for line.`
    : 'No marker has a real dump to compare with.';
  const divergences = r.divergences.length
    ? `<p class="note">${e(`First divergence at event ${formatInt(r.divergences[0]!.event)} (${r.divergences[0]!.op}): the model expected ${r.divergences[0]!.expected}, the log has ${r.divergences[0]!.recorded}.`)}</p>`
    : '';
  const overview = section('replay', `Replay of ${d.file}`, [
    ...runLines(r).map((l) => `<p>${e(l)}</p>`),
    ...(d.whatIf ? runLines(d.whatIf).map((l) => `<p>${e(l)}</p>`) : []),
    d.whatIf ? `<p>${e(`Peak reserved would change by ${formatBytes(d.whatIf.peakReservedBytes - r.peakReservedBytes)} (${formatBytes(r.peakReservedBytes)} → ${formatBytes(d.whatIf.peakReservedBytes)}).`)}</p>` : '',
    `<p>${e(verdict)}</p>`,
    divergences,
    charts.get('arena-timeline') ?? '',
  ]);
  const pinned = section('pinned', 'Pinned arenas', [
    `<p class="how"><strong>How to read this:</strong> ${e(`pymalloc gives an arena back to the system only when all its pools are empty. An arena is counted as pinned when its live blocks fill at most ${formatPercent(PINNED_MAX_USE, 0)} of its pool bytes: the whole arena stays reserved for a few objects. "Fewest arenas" is how many arenas the live blocks would need if they were packed into full pools.`)}</p>`,
    charts.get('arena-map') ?? '',
    charts.get('arena-map-what-if') ?? '',
  ]);
  const markers = section('model-vs-real', 'Model versus CPython at each marker', [
    `<p class="how"><strong>How to read this:</strong> at every marker the model prints its own _PyObject_DebugMallocStats text and it is compared line by line with the dump CPython printed there; hover a verdict for the first differing line. Allocated blocks is sys.getallocatedblocks() as the model counts it, "=" when CPython returned the same.</p>`,
    r.markers.length < r.markerTotals.markers
      ? `<p class="note">${e(`${formatInt(r.markers.length)} of ${formatInt(r.markerTotals.markers)} markers listed (here and in the embedded data): per stretch of the run the first, the last and the extremes of arenas, allocated blocks, pinned arenas and differing lines, and the first marker that differs.`)}</p>`
      : '',
    markerTable(r),
  ]);
  return [overview, pinned, markers, ...(d.gc ? renderGcSections(d.gc, render) : [])].filter(Boolean);
}
