// The malloc-stats sections of the page, and the page of malloc-stats dumps (the shell, with its
// CSS, table of contents and JSON block, is page.ts). Every string that came from an input (file
// names, warning messages) is escaped here; chart markup was escaped by jsdom's serialiser.

import { escapeHtml, figure, numCell, table, textCell } from './markup.js';
import type { SizeClassUse } from '../analysis/fragmentation.js';
import { breakdownChart } from './charts/breakdown.js';
import { arenasChart, bytesChart, classFragmentationChart, classPoolsChart } from './charts/evolution.js';
import { sizeClassBlocksChart, sizeClassBytesChart } from './charts/size-classes.js';
import type { ChartSpec } from './charts/spec.js';
import type { DumpSummary, ReportData, WarningCount } from './data.js';
import { formatBytes, formatBytesExact, formatInt, formatPercent } from './format.js';
import { partFromSection, renderShell, type PagePart } from './page.js';

export interface RenderedChart {
  spec: ChartSpec;
  markup: string;
}

export interface PageOptions {
  title?: string;
  /** Shown in the footer; omitted when absent so output stays identical across versions in tests. */
  generator?: string;
  /** More `<section>`s (already escaped HTML), e.g. the tracemalloc ones, placed by id in the page order (page.ts). */
  sections?: string[];
  /** More members of the embedded JSON (e.g. `tracemalloc`). */
  extraData?: Record<string, unknown>;
  /** False when there is no malloc-stats input: its sections are left out. */
  mallocStats?: boolean;
  /** The line under the title, when mallocStats is false. */
  lede?: string;
  /** The footer's sentence on where the numbers come from (HTML), when mallocStats is false. */
  footer?: string;
}

/** Rows of the per-dump table beyond this are elided in the middle (all of them are in the JSON). */
export const MAX_DUMP_ROWS = 200;

export { escapeHtml };

const e = escapeHtml;

/** A byte count for a table cell: exact with separators, humanised in the tooltip. */
function bytesCell(n: number | null): string {
  return n === null ? '<td class="num">–</td>' : `<td class="num" title="${e(formatBytes(n))}">${formatInt(n)}</td>`;
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

/** The footer of a page with malloc-stats dumps. */
export const MALLOC_STATS_FOOTER =
  'Numbers are as CPython printed them in <code>sys._debugmallocstats()</code> / <code>PYTHONMALLOCSTATS</code> output; values marked <em>derived</em> were not printed and are computed from the size-class table and the pool geometry.';
export const TRACEMALLOC_FOOTER = 'Numbers are computed from the traces of the snapshots exactly as Lib/tracemalloc.py computes its statistics.';

/** The charts of a report, in page order; a chart without data is left out. */
export function reportCharts(data: ReportData): ChartSpec[] {
  return [
    breakdownChart(data.peaks),
    sizeClassBytesChart(data.focus),
    sizeClassBlocksChart(data.focus),
    arenasChart(data.timeline),
    bytesChart(data.timeline),
    classPoolsChart(data.timeline),
    classFragmentationChart(data.timeline),
  ].filter((c): c is ChartSpec => c !== null);
}

/** A page of malloc-stats dumps, with more sections (already rendered `<section>`s) from other parts. */
export function renderPage(data: ReportData, charts: readonly RenderedChart[], opts: PageOptions = {}): string {
  const extra = (opts.sections ?? []).map(partFromSection);
  const withDumps = opts.mallocStats !== false;
  return renderShell({
    title: opts.title ?? 'cpymem report: pymalloc memory',
    // Without dumps only the header, the extra sections and the footer.
    lede: withDumps ? lede(data) : (opts.lede ?? ''),
    parts: withDumps
      ? [summaryPart(summaryRows(data), data.notes), ...extra, ...mallocStatsParts(data, charts), { id: 'inputs', heading: 'Inputs', html: inputTable(data) }, warningsPart(data.warnings)]
      : extra,
    footer: withDumps ? MALLOC_STATS_FOOTER : (opts.footer ?? TRACEMALLOC_FOOTER),
    data: opts.extraData ? { ...data, ...opts.extraData } : data,
    generator: opts.generator,
  });
}

/** The malloc-stats sections: where the memory goes, size classes, over the dumps, the dump table. */
export function mallocStatsParts(data: ReportData, charts: readonly RenderedChart[]): PagePart[] {
  const chart = (id: string) => {
    const c = charts.find((x) => x.spec.id === id);
    return c ? figure(c.spec, c.markup) : '';
  };
  const part = (id: string, heading: string, parts: string[]): PagePart => ({ id, heading, html: parts.filter(Boolean).join('\n') });
  return [
    part('where', 'Where the memory goes', [chart('breakdown'), focusBreakdown(data)]),
    part('classes', 'Size classes', [chart('size-class-bytes'), chart('size-class-blocks'), rankingTable(data), classTable(data)]),
    part('time', 'Over the dumps', data.timeline ? [chart('arenas'), chart('bytes'), chart('class-pools'), chart('class-fragmentation')] : []),
    part('dumps', 'Dumps', [dumpTable(data)]),
  ].filter((p) => p.html);
}

/** A row of the summary table: label, value, and the exact value or an explanation on hover. */
export type SummaryRow = [label: string, value: string, title?: string];

/** The summary section: one table of rows, then the notes about the inputs as a whole. */
export function summaryPart(rows: readonly SummaryRow[], notes: readonly string[] = []): PagePart {
  const body = rows.map(([k, v, t]) => `<tr><th scope="row">${e(k)}</th><td${t ? ` title="${e(t)}"` : ''}>${e(v)}</td></tr>`).join('\n');
  return {
    id: 'summary',
    heading: 'Summary',
    html: [`<table class="summary"><tbody>\n${body}\n</tbody></table>`, notes.length ? `<div class="notice">${notes.map((n) => `<p>${e(n)}</p>`).join('')}</div>` : ''].filter(Boolean).join('\n'),
  };
}

/** The "warnings while reading" section: one row per warning code over every input. */
export function warningsPart(warnings: readonly WarningCount[]): PagePart {
  return { id: 'warnings', heading: 'Warnings while reading', html: warningTable(warnings) };
}

/** The line under the title of a page of dumps. */
export function lede(data: ReportData): string {
  const s = data.summary;
  const files = data.inputs.map((i) => i.file);
  const named = files.length <= 3 ? `: ${files.join(', ')}` : '';
  return `${formatInt(s.dumps)} dump${s.dumps === 1 ? '' : 's'} read from ${formatInt(s.files)} file${s.files === 1 ? '' : 's'}${named}.`;
}

/**
 * The summary rows of the dumps. In a page of other inputs too (`mixed`), the files counted are
 * named as the ones holding dumps, and the warnings row is left to the page.
 */
export function summaryRows(data: ReportData, mixed = false): SummaryRow[] {
  const s = data.summary;
  const f = data.focus;
  const b = f?.fragmentation.breakdown;
  const used = b?.parts.find((p) => p.part === 'usedBlocks')?.bytes ?? null;
  const rows: SummaryRow[] = [
    [mixed ? 'Files with dumps' : 'Files', formatInt(s.files)],
    ['Dumps', `${formatInt(s.dumps)} (pymalloc ${formatInt(s.pymallocDumps)}, mimalloc ${formatInt(s.mimallocDumps)}, free lists only ${formatInt(s.freeListOnlyDumps)})`],
    ['Most arenas at once', formatInt(s.peakArenas)],
    ['Most bytes in arenas', formatBytes(s.peakArenaBytes), formatBytesExact(s.peakArenaBytes)],
  ];
  if (f && b) {
    rows.push(['Dump in detail', `${f.file}, dump ${f.dump + 1} (line ${f.line}): the one with the most bytes in arenas`]);
    rows.push(['… bytes in arenas', formatBytes(b.total), formatBytesExact(b.total)]);
    rows.push(['… bytes in allocated blocks', formatBytes(used), formatBytesExact(used)]);
    rows.push(['… fragmentation', formatPercent(f.fragmentation.overallFragmentation), 'bytes in arenas not in allocated blocks, over bytes in arenas']);
    const worst = f.fragmentation.ranking[0];
    if (worst) rows.push(['… size class wasting most', `${worst.size} bytes: ${formatBytes(worst.wastedBytes)} not in live blocks`, formatBytesExact(worst.wastedBytes)]);
  }
  if (!mixed) rows.push(['Warnings while reading', formatInt(s.warnings)]);
  return rows;
}

function focusBreakdown(data: ReportData): string {
  const f = data.focus;
  const b = f?.fragmentation.breakdown;
  if (!f || !b) return data.dumps.length ? '<p class="empty">No pymalloc dump: there is no arena breakdown to show.</p>' : '';
  const rows = b.parts.map(
    (p) =>
      `<tr>${textCell(p.label)}${bytesCell(p.bytes)}${numCell(formatBytes(p.bytes))}${numCell(formatPercent(b.total && p.bytes !== null ? p.bytes / b.total : null))}${textCell(p.source)}</tr>`,
  );
  rows.push(`<tr class="total">${textCell('Total (bytes in arenas)')}${bytesCell(b.total)}${numCell(formatBytes(b.total))}${numCell(b.total ? '100.0%' : '–')}${textCell(b.totalSource)}</tr>`);
  return [
    `<h3>${e(`Bytes in arenas — ${f.file}, dump ${f.dump + 1} (line ${f.line})`)}</h3>`,
    table(['part', 'bytes', '', 'share', 'value'], rows, [false, true, true, true, false]),
    b.notes.length ? `<p class="note">${e(b.notes.map((n) => n[0]!.toUpperCase() + n.slice(1)).join(' '))}</p>` : '',
  ].join('\n');
}

function classRow(c: SizeClassUse, rank?: number): string {
  return (
    '<tr>' +
    (rank !== undefined ? numCell(String(rank)) : '') +
    numCell(String(c.index)) +
    numCell(formatInt(c.size)) +
    numCell(formatInt(c.pools)) +
    numCell(formatInt(c.blocksInUse)) +
    numCell(formatInt(c.availBlocks)) +
    bytesCell(c.usedBytes) +
    bytesCell(c.freeBytes) +
    bytesCell(c.wastedBytes) +
    numCell(formatPercent(c.fragmentation)) +
    numCell(formatPercent(c.wasteShare)) +
    '</tr>'
  );
}

const CLASS_HEAD = ['class', 'size', 'num pools', 'blocks in use', 'avail blocks', 'used bytes', 'free bytes', 'wasted bytes', 'fragmentation', 'share of waste'];

function rankingTable(data: ReportData): string {
  const r = data.focus?.fragmentation.ranking ?? [];
  if (r.length === 0) return '';
  return [
    '<h3>Size classes wasting the most</h3>',
    `<p class="how"><strong>How to read this:</strong> wasted bytes are the bytes of a class's pools that hold no live block (free blocks, pool headers, quantization); share of waste is their part of all ${e(formatBytes(wastedAll(data)))} in arenas not holding live blocks; fragmentation is free ÷ (used + free) bytes.</p>`,
    table(['rank', ...CLASS_HEAD], r.map((c, i) => classRow(c, i + 1)), [true, true, true, true, true, true, true, true, true, true, true]),
  ].join('\n');
}

function wastedAll(data: ReportData): number | null {
  const b = data.focus?.fragmentation.breakdown;
  const used = b?.parts.find((p) => p.part === 'usedBlocks')?.bytes;
  return b && b.total !== null && used !== null && used !== undefined ? b.total - used : null;
}

function classTable(data: ReportData): string {
  const classes = data.focus?.fragmentation.classes ?? [];
  if (classes.length === 0) return '';
  return `<details><summary>All ${classes.length} size classes in use</summary>\n${table(CLASS_HEAD, classes.map((c) => classRow(c)), CLASS_HEAD.map(() => true))}\n</details>`;
}

/** A byte count for a compact cell: humanised, exact in the tooltip. */
function shortBytesCell(n: number | null): string {
  return n === null ? '<td class="num">–</td>' : `<td class="num" title="${e(formatBytesExact(n))}">${e(formatBytes(n))}</td>`;
}

function dumpRow(d: DumpSummary, data: ReportData): string {
  const file = data.inputs[d.fileIndex]?.file ?? '';
  const notes: string[] = [];
  if (d.allocator === 'mimalloc') notes.push(`${formatBytes(d.mimallocAllocatedBytes)} allocated, ${formatBytes(d.mimallocReservedBytes)} reserved`);
  if (d.derived) notes.push('some values derived');
  if (d.truncated) notes.push('truncated');
  const allocator = d.allocator === 'none' ? 'free lists only' : `${d.allocator}${d.versions ? ` ${d.versions}` : ''}`;
  const arenas = d.arenasCurrent === null ? '–' : `${formatInt(d.arenasCurrent)} / ${formatInt(d.arenasHighwater)}`;
  return (
    `<tr${d.seq === data.focus?.seq ? ' class="focus"' : ''}>` +
    numCell(formatInt(d.seq + 1)) +
    textCell(`#${d.fileIndex + 1} ${baseName(file)}`, file) +
    numCell(formatInt(d.dump + 1), `line ${formatInt(d.line)}`) +
    textCell(allocator, d.versions ? `CPython versions whose layout and geometry fit: ${d.versions}` : undefined) +
    numCell(arenas) +
    shortBytesCell(d.arenaBytes) +
    shortBytesCell(d.allocatedBytes) +
    shortBytesCell(d.availableBytes) +
    numCell(formatPercent(d.overallFragmentation)) +
    shortBytesCell(d.freeListBytes) +
    textCell(notes.join('; '), undefined, true) +
    '</tr>'
  );
}

function dumpTable(data: ReportData): string {
  const rows = data.dumps;
  if (rows.length === 0) return '<p class="empty">No dumps.</p>';
  const half = MAX_DUMP_ROWS / 2;
  const shown = rows.length > MAX_DUMP_ROWS ? [...rows.slice(0, half), null, ...rows.slice(-half)] : rows;
  const body = shown.map((d) =>
    d
      ? dumpRow(d, data)
      : `<tr class="elided"><td colspan="11">… ${formatInt(rows.length - MAX_DUMP_ROWS)} dumps not listed here; ${data.dumpsDownsampled ? `${formatInt(rows.length)} of the ${formatInt(data.summary.dumps)} dumps (first, last and the extremes of every stretch)` : 'every dump'} is in the embedded JSON …</td></tr>`,
  );
  const head = ['#', 'file', 'dump', 'allocator', 'arenas now / most', 'bytes in arenas', 'allocated blocks', 'available blocks', 'fragmentation', 'free lists', 'notes'];
  return [
    `<p class="how"><strong>How to read this:</strong> one row per dump in reading order; hover a value for the exact bytes, the dump for its line in the file; the highlighted row is the dump shown in detail above.</p>`,
    table(head, body, [true, false, true, false, true, true, true, true, true, true, false]),
  ].join('\n');
}

function inputTable(data: ReportData): string {
  if (data.inputs.length === 0) return '<p class="empty">No inputs.</p>';
  const rows = data.inputs.map(
    (i, n) =>
      `<tr>${numCell(`#${n + 1}`)}${textCell(i.file, undefined, true)}${numCell(formatInt(i.dumps))}${numCell(formatInt(i.pymalloc))}${numCell(formatInt(i.mimalloc))}${numCell(formatInt(i.none))}${numCell(formatInt(i.warnings))}</tr>`,
  );
  return table(['', 'file', 'dumps', 'pymalloc', 'mimalloc', 'free lists only', 'warnings'], rows, [true, false, true, true, true, true, true]);
}

function warningTable(warnings: readonly WarningCount[]): string {
  if (warnings.length === 0) return '<p class="empty">None: every line was read as CPython prints it.</p>';
  const rows = warnings.map((w) => {
    const where = `${w.example.file}${w.example.line !== null ? `:${w.example.line}` : ''}`;
    return `<tr>${textCell(w.code)}<td class="sev-${w.severity}">${e(w.severity)}</td>${numCell(formatInt(w.count))}${numCell(formatInt(w.files))}${textCell(`${where}: ${w.example.message}`, undefined, true)}</tr>`;
  });
  return table(['code', 'severity', 'count', 'files', 'first seen'], rows, [false, false, true, true, false]);
}

