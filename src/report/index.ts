// The report for malloc-stats dumps: inputs → plain data (buildReportData) → one HTML page
// (renderReport). Charts are chosen here, drawn by render.ts and laid out by html.ts.

import { breakdownChart } from './charts/breakdown.js';
import { arenasChart, bytesChart, classFragmentationChart, classPoolsChart } from './charts/evolution.js';
import { sizeClassBlocksChart, sizeClassBytesChart } from './charts/size-classes.js';
import type { ChartSpec } from './charts/spec.js';
import type { ReportData } from './data.js';
import { renderPage, type PageOptions, type RenderedChart } from './html.js';
import { renderChart } from './render.js';

export { buildReportData, REPORT_SCHEMA, type ReportData, type ReportInput } from './data.js';
export { stableStringify } from './json.js';
export type { PageOptions } from './html.js';

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

/** The whole self-contained HTML page. Same data → same bytes. */
export function renderReport(data: ReportData, opts: PageOptions = {}): string {
  const charts: RenderedChart[] = reportCharts(data).map((spec) => ({ spec, markup: renderChart(spec) }));
  return renderPage(data, charts, opts);
}
