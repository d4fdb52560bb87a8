// The reports: malloc-stats dumps → plain data (buildReportData) → one HTML page (renderReport);
// any mix of inputs → one page (buildRunReport, run-report.ts). Charts are chosen in html.ts and the
// other parts' sections, drawn by render.ts, and laid out by the page shell (page.ts).

import type { ReportData } from './data.js';
import { renderPage, reportCharts, type PageOptions, type RenderedChart } from './html.js';
import { renderChart } from './render.js';

export { buildReportData, REPORT_SCHEMA, type ReportData, type ReportInput } from './data.js';
export { stableStringify } from './json.js';
export { reportCharts, type PageOptions } from './html.js';
export { buildRunReport, renderRunReport, RUN_REPORT_SCHEMA, type RunReport, type RunReportData, type RunReportOptions } from './run-report.js';

/** The whole self-contained HTML page. Same data → same bytes. */
export function renderReport(data: ReportData, opts: PageOptions = {}): string {
  const charts: RenderedChart[] = reportCharts(data).map((spec) => ({ spec, markup: renderChart(spec) }));
  return renderPage(data, charts, opts);
}
