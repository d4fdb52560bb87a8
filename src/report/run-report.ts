// One report for everything a run left behind (`cpymem report BUNDLE_OR_FILES…`): any mix of
// malloc-stats dumps, tracemalloc snapshots and printed statistics, GC logs and capture bundles
// (or events CSVs), read once by gatherEvidence (src/analysis/evidence.ts, as `cpymem check` reads
// them), turned into plain data, and laid out by the page shell (page.ts) in its fixed order. The
// real dumps inside a bundle are malloc-stats dumps too: they feed the fragmentation sections.

import { relative, resolve } from 'node:path';
import { gatherEvidence, type Evidence } from '../analysis/evidence.js';
import { packingGeometry } from '../analysis/packing.js';
import { gcReplayRun, gcUnavailable } from '../analysis/gc-vs-real.js';
import { versionOf, type ReplayRun } from '../analysis/model-vs-real.js';
import { openEventInput, sniffEventFormat, type Input, type ReadOptions } from '../ingest/index.js';
import { tracemallocParams, tracemallocRowsForFields, TRACEMALLOC_PARAMS } from '../model/params.js';
import type { MallocStats, ReadWarning, TracemallocSnapshot } from '../model/types.js';
import { buildReportData, countWarnings, warningTotal, type ReportData, type ReportInput } from './data.js';
import { buildGcReportData, type GcModelInput, type GcReportData } from './gc-data.js';
import { renderGcSections } from './gc-section.js';
import { formatBytes, formatInt } from './format.js';
import { lede as mallocLede, MALLOC_STATS_FOOTER, mallocStatsParts, reportCharts, summaryPart, summaryRows, TRACEMALLOC_FOOTER, warningsPart, type SummaryRow } from './html.js';
import { numCell, table, textCell } from './markup.js';
import { mergeParts, partFromSection, renderShell, type PagePart } from './page.js';
import { printedStatisticsData, printedStatisticsPart, type PrintedStatisticsData } from './printed-section.js';
import { renderChart } from './render.js';
import { buildReplayReportData, type ReplayReportData } from './replay-data.js';
import { renderReplaySections } from './replay-section.js';
import { renderTracemallocSections } from './tracemalloc-section.js';
import { expandInputs } from './run-inputs.js';
import { buildTracemallocReportData, type TracemallocReportData, type TracemallocReportInput } from './tracemalloc-data.js';

export const RUN_REPORT_SCHEMA = 'cpymem-report/1';


export interface RunReportOptions extends ReadOptions {
  /** Input paths are relative to this (default: the process's working directory). */
  cwd?: string;
  /** Directories that are not capture bundles: read every readable file and bundle under them. */
  recursive?: boolean;
  /** Shown in the footer (e.g. "cpymem 1.2.0"); left out when absent so output is version-free. */
  generator?: string;
  onProgress?(done: number, total: number, file: string): void;
  onReplayProgress?(events: number): void;
}

/** One input as the report lists it. */
export interface SourceSummary {
  file: string;
  format: Input['format'] | 'events-bundle' | 'events-csv';
  /** What was read from it, in words ("3 dumps", "278 collections"). */
  read: string;
  warnings: number;
}

/** The report data: the malloc-stats report's members at the top, and one member per other part. */
export type RunReportData = ReportData & {
  schema: typeof RUN_REPORT_SCHEMA;
  sources: SourceSummary[];
  tracemalloc?: TracemallocReportData;
  printedStatistics?: PrintedStatisticsData[];
  replays?: ReplayReportData[];
  gc?: GcReportData;
};

export interface RunReport {
  html: string;
  data: RunReportData;
  /** Files a directory walk found that no reader accepts. */
  skipped: string[];
}

/** Read every path (sniffed by content, or all in `opts.format`) and build the one page of them. */
export async function buildRunReport(paths: readonly string[], opts: RunReportOptions = {}): Promise<RunReport> {
  const cwd = opts.cwd ?? process.cwd();
  const { names, skipped } = expandInputs(paths, cwd, opts.recursive ?? false);
  const evidence = await gatherEvidence(names, { ...opts, cwd });
  const kinds = sortEvidence(evidence, names, cwd);

  const malloc = buildReportData(kinds.dumps);
  const warningSources = [...evidence.inputs, ...kinds.bundleWarnings];
  const warnings = countWarnings(warningSources);
  const replays = evidence.replays.map((r) => buildReplayReportData(r.file, r, undefined, ''));
  const tracemalloc = kinds.snapshots.length ? tracemallocReport(kinds.snapshots, kinds.dumps, opts) : undefined;
  const printed = kinds.printed.map((p) => printedStatisticsData(p.file, p.printed));
  const models: GcModelInput[] = [];
  for (const r of evidence.replays) {
    const m = await gcModel(resolve(cwd, r.file), r.file);
    if (m) models.push(m);
  }
  const gc = evidence.gcLogs.length || models.length ? buildGcReportData(evidence.gcLogs, models) : undefined;
  const data: RunReportData = {
    ...malloc,
    schema: RUN_REPORT_SCHEMA,
    summary: { ...malloc.summary, warnings: warningTotal(warnings) },
    warnings,
    notes: kinds.dumps.length ? malloc.notes : [],
    sources: kinds.sources,
    ...(tracemalloc ? { tracemalloc } : {}),
    ...(printed.length ? { printedStatistics: printed } : {}),
    ...(replays.length ? { replays } : {}),
    ...(gc ? { gc } : {}),
  };
  return { html: renderRunReport(data, opts.generator), data, skipped };
}

/** The inputs by kind, in the order given; a bundle's real dumps become malloc-stats inputs. */
function sortEvidence(evidence: Evidence, names: readonly string[], cwd: string) {
  const dumps: ReportInput[] = [];
  const snapshots: TracemallocReportInput[] = [];
  const printed: { file: string; printed: Extract<Input, { format: 'tracemalloc-text' }>['printed'] }[] = [];
  const sources: SourceSummary[] = [];
  const bundleWarnings: { file: string; warnings: ReadWarning[] }[] = [];
  const inputs = [...evidence.inputs];
  const replays = [...evidence.replays];
  for (const name of names) {
    if (replays[0]?.file === name) {
      const run = replays.shift()!;
      const gc = evidence.gcLogs.find((g) => g.file.startsWith(`${name}/`) || g.file.startsWith(`${name}\\`));
      if (gc) bundleWarnings.push({ file: gc.file, warnings: gc.log.warnings });
      dumps.push(...realDumps(run, resolve(cwd, name)));
      const real = run.markers.filter((m) => m.real).length;
      sources.push({
        file: name,
        format: sniffEventFormat(resolve(cwd, name)) ?? 'events-csv',
        read: `${formatInt(run.summary.events)} events, ${formatInt(run.markers.length)} markers (${formatInt(real)} with a CPython dump)${gc ? `, ${formatInt(gc.log.collections.length)} GC collections` : ''}`,
        warnings: gc ? warningTotal(countWarnings([{ file: gc.file, warnings: gc.log.warnings }])) : 0,
      });
      continue;
    }
    const input = inputs.shift()!;
    const n = warningTotal(countWarnings([input]));
    if (input.format === 'malloc-stats') {
      dumps.push({ file: input.file, dumps: input.dumps, warnings: input.warnings });
      sources.push({ file: input.file, format: input.format, read: plural(input.dumps.length, 'dump'), warnings: n });
    } else if (input.format === 'tracemalloc-snapshot') {
      snapshots.push({ file: input.file, snapshot: input.snapshot, warnings: input.warnings });
      sources.push({ file: input.file, format: input.format, read: plural(input.snapshot.traces, 'trace'), warnings: n });
    } else if (input.format === 'tracemalloc-text') {
      printed.push({ file: input.file, printed: input.printed });
      sources.push({ file: input.file, format: input.format, read: plural(input.printed.statistics.length, 'statistic line'), warnings: n });
    } else {
      sources.push({ file: input.file, format: input.format, read: plural(input.log.collections.length, 'collection'), warnings: n });
    }
  }
  return { dumps, snapshots, printed, sources, bundleWarnings };
}

/** The dumps CPython printed at a replayed run's markers, one input per dump file. */
function realDumps(run: ReplayRun, path: string): ReportInput[] {
  return run.markers.flatMap((m) => (m.real && m.realFile ? [{ file: `${run.file}/${relative(path, m.realFile).split('\\').join('/')}`, dumps: [m.real], warnings: [] }] : []));
}

/** The GC model over a capture bundle, when the bundle can drive it. */
async function gcModel(path: string, file: string): Promise<GcModelInput | undefined> {
  if (sniffEventFormat(path) !== 'events-bundle') return undefined;
  const source = openEventInput(path, 'events-bundle');
  const version = versionOf(source);
  if (!version || gcUnavailable(source)) return undefined;
  // A version without a GC model row (params.ts) has no model section; the recorded log still shows.
  const run = await gcReplayRun(source, version).catch(() => undefined);
  return run ? { file, run } : undefined;
}

/**
 * Growth over the snapshots (in the order given) and the packing of the last one, beside the last
 * pymalloc dump of the malloc-stats inputs when there is one (taken to be of the same process).
 */
function tracemallocReport(snapshots: TracemallocReportInput[], inputs: ReportInput[], opts: RunReportOptions): TracemallocReportData {
  const { python } = opts;
  const fields = snapshots.map((s) => s.snapshot.traceFields).find((f) => f !== null) ?? null;
  const p = python ? tracemallocParams(python) : fields !== null ? tracemallocRowsForFields(fields)[0]! : TRACEMALLOC_PARAMS[TRACEMALLOC_PARAMS.length - 1]!;
  let dump: { file: string; index: number; stats: MallocStats } | undefined;
  for (const input of inputs) input.dumps.forEach((d, index) => d.allocator === 'pymalloc' && d.classes && (dump = { file: input.file, index, stats: d }));
  const { g, source } = packingGeometry(snapshots.at(-1)!.snapshot, python, dump?.stats);
  return buildTracemallocReportData(snapshots, p, { geometry: g, source, dump });
}

function plural(n: number, what: string): string {
  return `${formatInt(n)} ${what}${n === 1 ? '' : 's'}`;
}

/** The page of the data: every part contributes its sections; the shell orders them. */
export function renderRunReport(data: RunReportData, generator?: string): string {
  const charts = reportCharts(data).map((spec) => ({ spec, markup: renderChart(spec) }));
  const hasDumps = data.dumps.length > 0;
  const replays = (data.replays ?? []).map((r, i) => ({ label: r.file, parts: replayParts(r, i) }));
  const parts: PagePart[] = [
    summaryPart(summary(data), data.notes),
    ...(hasDumps ? mallocStatsParts(data, charts) : []),
    ...mergeParts(replays, { replay: 'Replayed runs: arenas over the events' }),
    ...(data.gc ? renderGcSections(data.gc, renderChart).map(partFromSection) : []),
    ...(data.tracemalloc ? renderTracemallocParts(data.tracemalloc) : []),
    printedStatisticsPart(data.printedStatistics ?? []),
    { id: 'inputs', heading: 'Inputs', html: sourceTable(data.sources) },
    warningsPart(data.warnings),
  ];
  const only = new Set(data.sources.map((s) => kindOf(s.format)));
  const footer = [hasDumps ? MALLOC_STATS_FOOTER : '', data.tracemalloc ? TRACEMALLOC_FOOTER : '', data.gc ? 'GC numbers are the collections the logs recorded.' : ''].filter(Boolean).join(' ');
  return renderShell({ title: title(data, only), lede: lede(data, only), parts, footer, data, generator });
}

/** A replayed run's sections; charts and figures of the second and later runs get ids of their own. */
function replayParts(r: ReplayReportData, i: number): PagePart[] {
  const suffix = i === 0 ? '' : `-${i + 1}`;
  const sections = renderReplaySections(r, (spec) => renderChart({ ...spec, id: `${spec.id}${suffix}` }));
  return sections.map((s) => partFromSection(suffix ? s.replace(/(<figure class="chart" id="chart-[^"]+)"/g, `$1${suffix}"`) : s));
}

function renderTracemallocParts(d: TracemallocReportData): PagePart[] {
  return renderTracemallocSections(d, renderChart).map(partFromSection);
}

type Kind = 'dumps' | 'snapshots' | 'printed statistics' | 'GC logs' | 'recorded runs';

function kindOf(format: SourceSummary['format']): Kind {
  if (format === 'malloc-stats') return 'dumps';
  if (format === 'tracemalloc-snapshot') return 'snapshots';
  if (format === 'tracemalloc-text') return 'printed statistics';
  return format === 'gc-debug-stats' || format === 'gc-callbacks' ? 'GC logs' : 'recorded runs';
}

const KIND_LABEL: Record<Kind, [one: string, many: string]> = {
  dumps: ['malloc-stats file', 'malloc-stats files'],
  snapshots: ['tracemalloc snapshot', 'tracemalloc snapshots'],
  'printed statistics': ['file of printed tracemalloc statistics', 'files of printed tracemalloc statistics'],
  'GC logs': ['GC log', 'GC logs'],
  'recorded runs': ['recorded run', 'recorded runs'],
};

/** "2 malloc-stats files, 1 GC log": the inputs counted per kind, in a fixed order. */
function inputsInWords(sources: readonly SourceSummary[]): string {
  const counts = new Map<Kind, number>();
  for (const s of sources) counts.set(kindOf(s.format), (counts.get(kindOf(s.format)) ?? 0) + 1);
  return (Object.keys(KIND_LABEL) as Kind[])
    .filter((k) => counts.has(k))
    .map((k) => `${formatInt(counts.get(k)!)} ${KIND_LABEL[k][counts.get(k) === 1 ? 0 : 1]}`)
    .join(', ');
}

/** The title says what the page is about when the inputs are of one kind. */
function title(data: RunReportData, kinds: ReadonlySet<Kind>): string {
  if (kinds.size !== 1) return 'cpymem report: memory of a run';
  const [kind] = kinds;
  if (kind === 'snapshots') return 'cpymem report: tracemalloc snapshots';
  if (kind === 'GC logs') return 'cpymem report: cyclic GC';
  if (kind === 'recorded runs') return data.sources.length === 1 ? `cpymem report: replay of ${data.sources[0]!.file.split(/[\\/]/).filter(Boolean).pop()}` : 'cpymem report: recorded runs';
  return kind === 'dumps' ? 'cpymem report: pymalloc memory' : 'cpymem report: printed tracemalloc statistics';
}

function lede(data: RunReportData, kinds: ReadonlySet<Kind>): string {
  if (kinds.size === 1 && kinds.has('dumps')) return mallocLede(data);
  const files = data.sources.map((s) => s.file);
  return `${formatInt(files.length)} input${files.length === 1 ? '' : 's'}, ${inputsInWords(data.sources)}${files.length <= 3 ? `: ${files.join(', ')}` : ''}.`;
}

/** The summary: the inputs, then each part's headline numbers, then the warnings. */
function summary(data: RunReportData): SummaryRow[] {
  const rows: SummaryRow[] = [['Inputs', inputsInWords(data.sources)]];
  if (data.dumps.length) rows.push(...summaryRows(data, true));
  for (const r of data.replays ?? []) {
    const x = r.recorded;
    // the marker rows are thinned on long runs: the totals cover every marker
    const t = x.markerTotals;
    rows.push([
      `Replay of ${r.file}`,
      `CPython ${x.python}, ${formatInt(x.events)} events, at most ${formatInt(x.arenas.highwater)} arenas (${formatBytes(x.peakReservedBytes)}), at most ${formatInt(t.mostPinned)} pinned; model identical to CPython at ${formatInt(t.identical)} of ${formatInt(t.compared)} dumps`,
    ]);
  }
  for (const l of data.gc?.logs ?? []) {
    const g = l.summary.generations;
    const max = l.summary.all.elapsed?.max;
    rows.push([
      `GC: ${l.file}`,
      `${g.map((x) => formatInt(x.collections)).join(' / ')} collections of generation ${g.map((x) => x.generation).join(' / ')}; ${formatInt(l.summary.all.collected)} collected${max !== undefined ? `; longest pause ${(max * 1000).toFixed(max < 0.01 ? 2 : 1)} ms` : ''}`,
    ]);
  }
  const tm = data.tracemalloc?.growth;
  if (tm) {
    const last = tm.snapshots.at(-1)!;
    rows.push(['tracemalloc snapshots', `${formatInt(tm.snapshots.length)}; ${formatBytes(last.size)} traced in ${formatInt(last.traces)} traces at the last`]);
    if (tm.suspects[0]) rows.push(['… top leak suspect', `${tm.suspects[0].site}: +${formatBytes(tm.suspects[0].growth)}`]);
  }
  for (const p of data.printedStatistics ?? []) if (p.top[0]) rows.push([`Top site printed in ${p.file}`, `${p.top[0].site ?? p.top[0].kind}: ${p.top[0].size}`]);
  rows.push(['Warnings while reading', formatInt(data.summary.warnings)]);
  return rows;
}

function sourceTable(sources: readonly SourceSummary[]): string {
  const rows = sources.map((s, i) => `<tr>${numCell(`#${i + 1}`)}${textCell(s.file, undefined, true)}${textCell(s.format)}${textCell(s.read)}${numCell(formatInt(s.warnings))}</tr>`);
  return table(['', 'file', 'format', 'read', 'warnings'], rows, [true, false, false, false, true]);
}
