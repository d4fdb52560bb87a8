import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMallocStats } from '../../src/ingest/malloc-stats.js';
import { WarningSink } from '../../src/ingest/warnings.js';
import { escapeHtml } from '../../src/report/html.js';
import { buildReportData, renderReport, stableStringify, type ReportInput } from '../../src/report/index.js';
import { mergeParts, orderParts, partFromSection } from '../../src/report/page.js';
import { renumberIds } from '../../src/report/render.js';
import { mallocStatsFixtures } from '../helpers/fixtures.js';
import { printedTotals } from '../helpers/printed-values.js';

const fixtures = mallocStatsFixtures();
const pick = (version: string, name: string) => fixtures.find((f) => f.name.includes(`/${version}`) && f.name.endsWith(`/${name}.txt`))!;
const input = (f: ReturnType<typeof pick>, file = f.name): ReportInput => {
  const r = parseMallocStats(readFileSync(f.txt, 'utf8'), { file });
  return { file, dumps: r.dumps, warnings: r.warnings };
};
const fmt = (n: number) => n.toLocaleString('en-US');

/** The text of the embedded data block. */
function dataBlock(html: string): string {
  const m = /<script type="application\/json" id="cpymem-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no data block');
  return m[1]!;
}

describe('the report page', () => {
  const f = pick('3.11', 'dict-churn');
  const data = buildReportData([input(f)]);
  const html = renderReport(data);

  it('shows the printed breakdown of the dump in detail, summing to the printed Total', () => {
    const printed = printedTotals(f.truth.dumps[data.focus!.dump]!.printed);
    for (const v of [printed.allocated, printed.available, printed.unusedPools, printed.poolHeaders, printed.quantization, printed.arenaAlignment, printed.total]) {
      expect(html).toContain(`>${fmt(v!)}</td>`);
    }
    const parts = [printed.allocated, printed.available, printed.unusedPools, printed.poolHeaders, printed.quantization, printed.arenaAlignment];
    expect(parts.reduce((s: number, v) => s + v!, 0)).toBe(printed.total);
  });

  it('is one self-contained file: inline SVG charts, no script but the data, nothing from the network', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect((html.match(/<svg\b/g) ?? []).length).toBeGreaterThanOrEqual(6);
    expect(html).not.toMatch(/<script(?![^>]*type="application\/json")/i);
    expect(html).not.toMatch(/\bsrc\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/\bhref\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import/i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<(img|iframe|object|embed)\b/i);
  });

  it('has a title and a "how to read this" for every chart', () => {
    const figures = html.match(/<figure class="chart"[\s\S]*?<\/figure>/g) ?? [];
    expect(figures.length).toBe(7);
    for (const fig of figures) {
      expect(fig).toMatch(/<h3>[^<]+<\/h3>/);
      expect(fig).toContain('How to read this:');
    }
  });

  it('embeds the report data as JSON with sorted keys', () => {
    const text = dataBlock(html);
    expect(JSON.parse(text)).toEqual(JSON.parse(stableStringify(data)));
    const keys = Object.keys(JSON.parse(text));
    expect(keys).toEqual([...keys].sort());
  });

  it('is deterministic: the same input gives the same bytes', () => {
    const again = renderReport(buildReportData([input(f)]));
    expect(again).toBe(html);
    // Also after other charts were drawn in between (Plot's id counters are process-wide).
    renderReport(buildReportData([input(pick('3.8', 'pythonmallocstats-small-objects'))]));
    expect(renderReport(buildReportData([input(f)]))).toBe(html);
  });
});

describe('hostile strings', () => {
  const f = pick('3.12', 'tuple-fragmentation');
  const hostile = '<img src=x onerror=alert(1)>.txt';

  it('a file name is HTML-escaped everywhere, never raw', () => {
    const html = renderReport(buildReportData([input(f, hostile)]));
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;.txt');
  });

  it('a file name cannot close the data block, and round-trips through it', () => {
    const name = '</script><script>alert(1)</script><!--.txt';
    const html = renderReport(buildReportData([input(f, name)]));
    expect((html.match(/<\/script>/gi) ?? []).length).toBe(1);
    expect(html.match(/<script\b/gi)).toHaveLength(1);
    expect(html).not.toContain('<!--');
    expect(JSON.parse(dataBlock(html)).inputs[0].file).toBe(name);
  });

  it('warning messages and codes are escaped', () => {
    const i = input(f, 'w.txt');
    i.warnings = [{ code: 'W_<b>', severity: 'warning', line: 3, message: 'found "<svg onload=alert(1)>" & more' }];
    const html = renderReport(buildReportData([i]));
    expect(html).not.toContain('<svg onload');
    expect(html).not.toContain('<b>');
    expect(html).toContain('found &quot;&lt;svg onload=alert(1)&gt;&quot; &amp; more');
  });

  it('escapeHtml covers the five special characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});

describe('inputs without pymalloc charts', () => {
  it('a mimalloc dump gives a page that says why there are no pymalloc charts', () => {
    const html = renderReport(buildReportData([input(pick('3.13', 'mimalloc-dump'))]));
    expect(html).toMatch(/came from mimalloc/);
    expect(html).not.toContain('<svg');
  });

  it('free-list-only dumps say the allocator section was not printed', () => {
    const html = renderReport(buildReportData([input(pick('3.11', 'tracemalloc-dump'))]));
    expect(html).toMatch(/have only free lists/);
  });

  it('warnings are counted per code', () => {
    const i = input(pick('3.12', 'dict-churn'), 'a.txt');
    i.warnings = [
      { code: 'W_B', severity: 'warning', line: 2, message: 'second' },
      { code: 'W_A', severity: 'info', line: 1, message: 'first' },
      { code: 'W_B', severity: 'warning', line: 9, message: 'third' },
    ];
    const data = buildReportData([i]);
    expect(data.warnings.map((w) => [w.code, w.count, w.example.line])).toEqual([
      ['W_B', 2, 2],
      ['W_A', 1, 1],
    ]);
    expect(renderReport(data)).toMatch(/<td>W_B<\/td><td class="sev-warning">warning<\/td><td class="num">2<\/td>/);
  });
});

describe('warning counts', () => {
  it('count the warnings the reader summed up instead of listing', () => {
    // The reader keeps the first warnings of a code and sums up the rest in one entry.
    const sink = new WarningSink('w.txt', false, 2);
    for (let i = 1; i <= 7; i++) sink.add('W_X', 'warning', `odd line ${i}`, { line: i });
    const i = input(pick('3.12', 'dict-churn'), 'w.txt');
    i.warnings = sink.finish();
    const data = buildReportData([i]);
    expect(data.warnings.map((w) => [w.code, w.count])).toEqual([['W_X', 7]]);
    expect(data.summary.warnings).toBe(7);
    expect(data.inputs[0]!.warnings).toBe(7);
  });
});

describe('renumberIds', () => {
  it('renumbers Plot ids per chart in order of first appearance', () => {
    const svg = '<clipPath id="plot-clip-17"></clipPath><g clip-path="url(#plot-clip-17)"></g><marker id="plot-marker-3"></marker><g clip-path="url(#plot-clip-9)">';
    expect(renumberIds(svg, 'bytes')).toBe(
      '<clipPath id="bytes-clip-1"></clipPath><g clip-path="url(#bytes-clip-1)"></g><marker id="bytes-marker-1"></marker><g clip-path="url(#bytes-clip-2)">',
    );
  });
});

describe('the page shell', () => {
  it('a page of dumps has a table of contents linking to every section, in the fixed order', () => {
    const html = renderReport(buildReportData([input(pick('3.11', 'dict-churn'))]));
    const nav = /<nav class="toc"[\s\S]*?<\/nav>/.exec(html)![0];
    const links = [...nav.matchAll(/href="#([^"]+)"/g)].map((m) => m[1]);
    const sections = [...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]);
    expect(links).toEqual(sections);
    expect(sections).toEqual(['summary', 'where', 'classes', 'time', 'dumps', 'inputs', 'warnings']);
  });

  it('orders parts by id whatever order they come in, and refuses a duplicate id', () => {
    const p = (id: string) => ({ id, heading: id, html: `<p>${id}</p>` });
    expect(orderParts([p('warnings'), p('gc-pauses'), p('summary'), p('replay'), p('gc')]).map((x) => x.id)).toEqual(['summary', 'replay', 'gc', 'gc-pauses', 'warnings']);
    expect(() => orderParts([p('gc'), p('gc')])).toThrow(/duplicate section id: gc/);
  });

  it('merges the sections of several sources of one kind under headings naming each, escaped', () => {
    const parts = mergeParts(
      [
        { label: 'a/<run>', parts: [{ id: 'replay', heading: 'Replay of a', html: '<p>a</p>' }] },
        { label: 'b', parts: [{ id: 'replay', heading: 'Replay of b', html: '<p>b</p>' }] },
      ],
      { replay: 'Replayed runs' },
    );
    expect(parts).toEqual([{ id: 'replay', heading: 'Replayed runs', html: '<h3 class="source">a/&lt;run&gt;</h3>\n<p>a</p>\n<h3 class="source">b</h3>\n<p>b</p>' }]);
  });

  it('reads a rendered section back as a part', () => {
    expect(partFromSection('<section id="x"><h2>A &amp; B</h2>\n<p>body</p>\n</section>')).toEqual({ id: 'x', heading: 'A & B', html: '<p>body</p>' });
    expect(() => partFromSection('<div>no</div>')).toThrow(/not a report section/);
  });
});
