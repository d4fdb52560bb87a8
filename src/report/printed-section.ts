// Printed tracemalloc statistics (a log's `print(stat)` lines, src/ingest/tracemalloc-text.ts) in the
// report: the top sites of each input as CPython printed them. Sizes stay the printed text: it is
// rounded, so the exact bytes are not known (docs/tracemalloc.md).

import type { PrintedTracemalloc } from '../model/types.js';
import { formatInt } from './format.js';
import { escapeHtml as e, numCell, table, textCell } from './markup.js';
import type { PagePart } from './page.js';

/** Statistic lines shown per input (all are counted in the JSON). */
export const MAX_PRINTED_ROWS = 15;

export interface PrintedStatisticsData {
  file: string;
  groupBy: string | null;
  statistics: number;
  top: { line: number; kind: string; site: string | null; size: string; sizeDiff: string | null; count: number | null; countDiff: number | null }[];
  totals: { label: string; size: string }[];
}

export function printedStatisticsData(file: string, p: PrintedTracemalloc): PrintedStatisticsData {
  return {
    file,
    groupBy: p.groupBy ?? null,
    statistics: p.statistics.length,
    top: p.statistics.slice(0, MAX_PRINTED_ROWS).map((s) => ({
      line: s.line,
      kind: s.kind,
      site: s.frame ? `${s.frame.filename}:${s.frame.lineno}` : null,
      size: s.size.text,
      sizeDiff: s.sizeDiff?.text ?? null,
      count: s.count ?? null,
      countDiff: s.countDiff ?? null,
    })),
    totals: p.totals.map((t) => ({ label: t.label, size: t.size.text })),
  };
}

function block(d: PrintedStatisticsData): string {
  const diff = d.top.some((s) => s.sizeDiff !== null);
  const rows = d.top.map(
    (s) =>
      `<tr>${numCell(String(s.line))}${textCell(s.site ?? `(${s.kind})`, undefined, true)}${numCell(s.size)}` +
      (diff ? numCell(s.sizeDiff ?? '–') : '') +
      `${numCell(s.count === null ? '–' : formatInt(s.count))}${diff ? numCell(s.countDiff === null ? '–' : formatInt(s.countDiff)) : ''}</tr>`,
  );
  const head = ['line', 'site', 'size', ...(diff ? ['size diff'] : []), 'count', ...(diff ? ['count diff'] : [])];
  return [
    `<h3>${e(`${d.file}: ${formatInt(d.statistics)} statistic line${d.statistics === 1 ? '' : 's'}${d.groupBy ? `, grouped by ${d.groupBy}` : ''}`)}</h3>`,
    table(head, rows, head.map((_, i) => i !== 1)),
    d.statistics > d.top.length ? `<p class="note">${e(`The first ${d.top.length} of ${formatInt(d.statistics)} lines, in printed order.`)}</p>` : '',
    ...d.totals.map((t) => `<p>${e(`${t.label}: ${t.size}`)}</p>`),
  ]
    .filter(Boolean)
    .join('\n');
}

export function printedStatisticsPart(data: readonly PrintedStatisticsData[]): PagePart {
  return {
    id: 'printed-statistics',
    heading: 'Top allocation sites as printed',
    html: data.length
      ? [
          '<p class="how"><strong>How to read this:</strong> the tracemalloc statistics a program printed (<code>print(stat)</code> of <code>Snapshot.statistics()</code> or <code>compare_to()</code>), read back line by line: the sites in the order CPython sorted them, sizes as printed (rounded to the unit shown).</p>',
          ...data.map(block),
        ].join('\n')
      : '',
  };
}
