// The report's GC sections: per log, the collections over time by generation, what each found and
// the per-generation totals (#gc); the pause histograms (#gc-pauses); the GC model against the
// recorded collections with the what-if beside them (#gc-model). Every string from an input is escaped.

import { gcCollectedChart, gcModelChart, gcModelTimelineChart, gcPauseChart, gcTimelineChart } from './charts/gc.js';
import type { ChartSpec } from './charts/spec.js';
import { formatInt, formatPercent } from './format.js';
import type { GcLogData, GcModelData, GcReportData } from './gc-data.js';
import { escapeHtml as e, figure, numCell, section, table, textCell } from './markup.js';

/** Logs beyond this get their tables but no charts (a page of hundreds of charts helps nobody). */
export const MAX_GC_LOG_CHARTS = 8;

const para = (text: string) => `<p>${e(text)}</p>`;
const how = (text: string) => `<p class="how"><strong>How to read this:</strong> ${e(text)}</p>`;
const note = (text: string) => `<p class="note">${e(text)}</p>`;

function ms(seconds: number | undefined): string {
  return seconds === undefined ? '–' : `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
}

/** Every GC chart of the page, in page order; ids are stable (n = the log's or model's 1-based position). */
export function gcCharts(d: GcReportData): ChartSpec[] {
  const logs = d.logs.slice(0, MAX_GC_LOG_CHARTS);
  return [
    ...logs.flatMap((l, i) => [gcTimelineChart(l, `gc-timeline-${i + 1}`), gcCollectedChart(l, `gc-collected-${i + 1}`)]),
    ...logs.map((l, i) => gcPauseChart(l, `gc-pauses-${i + 1}`)),
    ...d.models.flatMap((m, i) => [gcModelChart(m, `gc-model-${i + 1}`), gcModelTimelineChart(m, `gc-model-timeline-${i + 1}`)]),
  ].filter((c): c is ChartSpec => c !== null);
}

function generationTable(l: GcLogData): string {
  const rows = [...l.summary.generations, l.summary.all].map((g) => {
    const t = g.elapsed;
    return (
      `<tr${g.generation < 0 ? ' class="total"' : ''}>${textCell(g.generation < 0 ? 'all' : String(g.generation))}${numCell(formatInt(g.collections))}` +
      `${numCell(g.collectionsPerMinute === undefined ? '–' : g.collectionsPerMinute.toFixed(1))}${numCell(formatInt(g.collected))}${numCell(formatInt(g.uncollectable))}` +
      `${numCell(ms(t?.p50))}${numCell(ms(t?.p95))}${numCell(ms(t?.max))}${numCell(ms(t?.total))}</tr>`
    );
  });
  const head = ['generation', 'collections', 'per minute', 'collected', 'uncollectable', 'pause p50', 'p95', 'max', 'total'];
  return table(head, rows, head.map((_, i) => i > 0));
}

function logLines(l: GcLogData): string[] {
  const s = l.summary;
  const lines = [
    `${l.format}${l.versionRange ? ` (CPython ${l.versionRange})` : ''}: ${formatInt(s.all.collections)} collections${l.durationSeconds ? ` over ${l.durationSeconds.toFixed(2)} s` : ''}.`,
    l.timeInGcShare !== null ? `Time in GC: ${formatPercent(l.timeInGcShare, 2)} of the run.` : 'Time in GC: unknown (the log has no run time; a capture bundle, a timed callbacks log or log-collector timestamps on the lines give it).',
  ];
  const bad = Object.entries(l.uncollectableObjects).sort(([a], [b]) => a.localeCompare(b));
  if (bad.length) lines.push(`Uncollectable objects by type: ${bad.map(([t, n]) => `${t} ${formatInt(n)}`).join(', ')}.`);
  return lines;
}

function logBlock(l: GcLogData, charts: Map<string, string>, n: number): string {
  return [
    `<h3>${e(l.file)}</h3>`,
    ...logLines(l).map(para),
    generationTable(l),
    charts.get(`gc-timeline-${n}`) ?? '',
    charts.get(`gc-collected-${n}`) ?? '',
    l.warnings.length ? note(`Warnings while reading: ${l.warnings.map((w) => `${w.code} × ${formatInt(w.count)}`).join(', ')}.`) : '',
  ]
    .filter(Boolean)
    .join('\n');
}

function pauseBlock(l: GcLogData, charts: Map<string, string>, n: number): string {
  const chart = charts.get(`gc-pauses-${n}`);
  if (chart) return chart;
  if (l.pauses.measured === 0) return `<h3>${e(l.file)}</h3>\n<p class="empty">No pause times in this log.</p>`;
  return '';
}

function modelRows(m: GcModelData): string[] {
  return m.rows.map((r) => {
    const off = r.matched !== r.recorded || r.model !== r.recorded;
    return (
      `<tr${off ? ' class="bad"' : ''}>${textCell(String(r.generation))}${numCell(formatInt(r.recorded))}${numCell(formatInt(r.model))}` +
      `${numCell(`${formatInt(r.matched)} / ${formatInt(r.recorded)}`, 'recorded collections the model has at the same record with the same generation')}` +
      `${numCell(formatInt(r.withoutCallbacks))}${numCell(formatInt(r.wholeRun))}${r.whatIf !== null ? numCell(formatInt(r.whatIf)) : ''}</tr>`
    );
  });
}

function modelLines(m: GcModelData): string[] {
  const a = m.agreement;
  const lines = [`CPython ${m.python}: ${m.trigger === 'in-allocation' ? 'collects inside the allocation that makes it due' : 'schedules the collection for the eval breaker'}, thresholds ${m.thresholds.join('/')}.`];
  if (m.claimsExactness) {
    lines.push(
      `${formatInt(a.matched)} of ${formatInt(a.automatic)} automatic collections predicted to the record, generation included (missed ${a.missed}, unpredicted ${a.unpredicted}, other generation ${a.generationMismatch}): ${m.exact ? 'every collection matched.' : 'the model differs.'}`,
    );
  } else {
    lines.push(`${formatInt(a.matched)} of ${formatInt(a.automatic)} automatic collections with the predicted generation (other generation ${a.generationMismatch}, unpredicted ${a.unpredicted}); positions at the eval breaker are measured, not claimed.`);
    const d = a.delays;
    if (d && d.count) lines.push(`Eval breaker: ${formatInt(d.zero)} of ${formatInt(d.count)} ran at the record right after becoming due (${formatPercent(d.zero / d.count)}); delay in records p50 ${formatInt(d.p50)}, p95 ${formatInt(d.p95)}, max ${formatInt(d.max)}.`);
  }
  lines.push(`Counts of generations 1–2 at each logged start and stop: ${formatInt(a.countsEqual)} of ${formatInt(a.countsCompared)} equal.`);
  return lines;
}

function modelBlock(m: GcModelData, charts: Map<string, string>, n: number): string {
  const f = m.firstDivergence;
  const w = m.whatIf;
  const head = ['generation', 'recorded (callbacks)', 'model, same collections', 'same record and generation', 'without callbacks', 'whole run (model)', ...(w ? [`${w.title} (${w.thresholds.join('/')})`] : [])];
  return [
    `<h3>${e(m.file)}</h3>`,
    ...modelLines(m).map(para),
    f ? note(`First divergence: ${f.kind} at record ${f.record === null ? '–' : formatInt(f.record)} (recorded generation ${f.recordedGeneration ?? '–'}, model ${f.modelGeneration ?? '–'}).`) : '',
    table(head, modelRows(m), head.map((_, i) => i > 0)),
    w
      ? para(
          `${w.title}: CPython ${w.python}'s collector with thresholds ${w.thresholds.join('/')}${w.forkedAtRecord !== null ? `, forking from the recording at record ${formatInt(w.forkedAtRecord)}` : ', never deciding otherwise than the recording'}; ${formatInt(w.estimated)} collections with estimated survivors${w.ignoredSetThreshold ? `; the program's own gc.set_threshold() ignored ${w.ignoredSetThreshold} time(s)` : ''}.`,
        )
      : '',
    charts.get(`gc-model-${n}`) ?? '',
    charts.get(`gc-model-timeline-${n}`) ?? '',
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * The HTML sections (#gc, #gc-pauses, #gc-model; empty ones left out), given each chart's rendered
 * markup: `renderGcSections(buildGcReportData(logs, models), renderChart)`.
 */
export function renderGcSections(d: GcReportData, render: (spec: ChartSpec) => string): string[] {
  const charts = new Map(gcCharts(d).map((c) => [c.id, figure(c, render(c))]));
  const skipped = d.logs.length - MAX_GC_LOG_CHARTS;
  const overview = section('gc', `Cyclic GC: ${formatInt(d.logs.length)} log${d.logs.length === 1 ? '' : 's'}`, [
    d.logs.length
      ? how('Per generation: how many collections, how often, what they found and how long they paused (nearest-rank percentiles). A generation-0 collection runs every time the young count passes threshold 0; older ones are rarer and costlier.')
      : '',
    ...d.logs.map((l, i) => logBlock(l, charts, i + 1)),
    skipped > 0 ? note(`Charts are drawn for the first ${MAX_GC_LOG_CHARTS} logs; the other ${formatInt(skipped)} have their tables only (all are in the embedded JSON).`) : '',
  ]);
  const pauses = section('gc-pauses', 'GC pauses', d.logs.slice(0, MAX_GC_LOG_CHARTS).map((l, i) => pauseBlock(l, charts, i + 1)));
  const model = section('gc-model', 'GC model versus the recorded collections', [
    d.models.length
      ? how(
          'The cyclic GC model (docs/gc-model.md) replays the run’s allocations and frees and names each collection before the recording shows it. "Recorded" counts the collections logged through gc.callbacks; "model, same collections" is the generation the model gave those same collections, and "same record and generation" how many it placed exactly. Collections without callbacks (start-up, shutdown) come from the model alone. A what-if column is the same program under other thresholds or another version, over the whole run: compare it with "whole run".',
        )
      : '',
    ...d.models.map((m, i) => modelBlock(m, charts, i + 1)),
  ]);
  return [overview, pauses, model].filter(Boolean);
}
