// The report's tracemalloc sections: traced memory over the snapshots, the sites that grew, the
// leak-suspect table, and the implied pymalloc packing. Markup follows html.ts (figure, tables,
// "how to read this" notes); every string from an input is escaped.
import type { ChartSpec } from './charts/spec.js';
import { growingSitesChart, tracedMemoryChart } from './charts/traced-memory.js';
import { formatBytes, formatBytesExact, formatInt, formatPercent } from './format.js';
import { escapeHtml as e, figure, table } from './markup.js';
import { MAX_SUSPECTS, type TracemallocReportData } from './tracemalloc-data.js';

export function tracemallocCharts(d: TracemallocReportData): ChartSpec[] {
  return [tracedMemoryChart(d), growingSitesChart(d)].filter((c): c is ChartSpec => c !== null);
}

const num = (text: string, title?: string) => `<td class="num"${title ? ` title="${e(title)}"` : ''}>${e(text)}</td>`;
const txt = (text: string, title?: string) => `<td class="wrap"${title ? ` title="${e(title)}"` : ''}>${e(text)}</td>`;
const bytes = (n: number) => num(formatBytes(n), formatBytesExact(n));

function suspectsTable(d: TracemallocReportData): string {
  const g = d.growth;
  if (g.snapshots.length < 2) return '';
  if (g.suspects.length === 0) return '<p class="empty">No site grew more often than it shrank: no leak suspect.</p>';
  const rows = g.suspects.slice(0, MAX_SUSPECTS).map(
    (s, i) =>
      `<tr>${num(String(i + 1))}${txt(s.site, s.frames.map((f) => `${f.filename}:${f.lineno}`).join('\n'))}${bytes(s.sizes[0]!)}${bytes(s.sizes.at(-1)!)}${bytes(s.growth)}` +
      `${num(`${s.stepsUp} / ${s.stepsDown}`)}${num(formatPercent(s.steadiness, 0))}${num(`${formatBytes(s.slope)}/snapshot`)}${num(formatInt(s.countGrowth))}</tr>`,
  );
  return [
    '<h3>Leak suspects: sites that grow steadily</h3>',
    `<p class="how"><strong>How to read this:</strong> one row per source line whose traced size grew, ranked by growth × steadiness (steps up minus steps down, over all ${g.snapshots.length - 1} steps): a site that grows at every snapshot ranks above one that grew as much once. Slope is the least-squares growth per snapshot; blocks is the change in the number of live blocks.</p>`,
    table(['rank', 'site', 'first', 'last', 'growth', 'steps up / down', 'steadiness', 'slope', 'blocks'], rows, [true, false, true, true, true, true, true, true, true]),
    g.suspects.length > MAX_SUSPECTS ? `<p class="note">${e(`${MAX_SUSPECTS} of ${formatInt(g.suspects.length)} suspects shown; all are in the embedded JSON.`)}</p>` : '',
  ].join('\n');
}

function snapshotTable(d: TracemallocReportData): string {
  const rows = d.growth.snapshots.map((s) => `<tr>${num(String(s.index + 1))}${txt(s.file)}${num(formatInt(s.traces))}${bytes(s.size)}</tr>`);
  return table(['#', 'snapshot', 'traces', 'traced'], rows, [true, false, true, true]);
}

function packingSection(d: TracemallocReportData): string {
  const p = d.packing;
  if (!p) return '';
  const rows = p.classes.map(
    (c) =>
      `<tr>${num(String(c.index))}${num(String(c.size))}${num(formatInt(c.blocks))}${num(String(c.blocksPerPool))}${num(formatInt(c.minPools))}` +
      (p.real ? `${num(formatInt(c.realPools ?? 0))}${num(formatInt(c.realBlocks ?? 0))}` : '') +
      '</tr>',
  );
  const head = ['class', 'size', 'traced blocks', 'blocks per pool', 'min pools', ...(p.real ? ['real pools', 'real blocks in use'] : [])];
  const g = p.geometry;
  const lines = [
    `${formatInt(p.blocks)} live traced requests of 1–512 bytes in ${p.snapshot}: ${formatBytes(p.requestedBytes)} requested, ${formatBytes(p.blockBytes)} in blocks.`,
    `Fewest pools: ${formatInt(p.minPools)}; fewest arenas: ${formatInt(p.minArenas)} of ${p.poolsPerArena} pools (${formatInt(p.minArenasMisaligned)} if every arena loses a pool to alignment). Geometry: ${g.alignment}-byte classes, ${formatBytes(g.poolSize)} pools, ${formatBytes(g.arenaSize)} arenas — ${g.source}.`,
  ];
  if (p.real) {
    lines.push(
      `The real dump had ${formatInt(p.real.arenas)} arenas and ${formatInt(p.real.pools)} pools in use: ${formatInt(p.real.excessArenas)} arenas (${p.real.arenaRatio === null ? '–' : `${p.real.arenaRatio.toFixed(2)}×`}) and ${formatInt(p.real.excessPools)} pools beyond the minimum; ${formatInt(p.real.blocks)} blocks in use against ${formatInt(p.blocks)} traced.`,
    );
  }
  return [
    `<section id="packing"><h2>Implied pymalloc packing</h2>`,
    `<p class="how"><strong>How to read this:</strong> the snapshot's live small requests put in pymalloc's size classes, and the fewest pools and arenas that could hold them with no free block anywhere. Against a real dump of the same process, the excess is free blocks in partly used pools, empty pools, alignment loss and blocks allocated before tracing started. A trace does not say its allocator domain, so small PyMem_RawMalloc requests (served by malloc) are counted too.</p>`,
    ...lines.map((l) => `<p>${e(l)}</p>`),
    table(head, rows, head.map(() => true)),
    '</section>',
  ].join('\n');
}

/** The HTML sections, given each chart's rendered markup. */
export function renderTracemallocSections(d: TracemallocReportData, render: (spec: ChartSpec) => string): string[] {
  const charts = tracemallocCharts(d).map((spec) => figure(spec, render(spec)));
  const g = d.growth;
  const growth = [
    `<section id="tracemalloc"><h2>${e(`Traced memory over ${g.snapshots.length} tracemalloc snapshot${g.snapshots.length === 1 ? '' : 's'}`)}</h2>`,
    ...d.notes.map((n) => `<p class="note">${e(n)}</p>`),
    ...charts,
    suspectsTable(d),
    snapshotTable(d),
    d.warnings.length ? `<p class="note">${e(`${d.warnings.length} warning(s) while reading the snapshots: ${[...new Set(d.warnings.map((w) => w.code))].join(', ')}.`)}</p>` : '',
    '</section>',
  ]
    .filter(Boolean)
    .join('\n');
  return [growth, packingSection(d)].filter(Boolean);
}
