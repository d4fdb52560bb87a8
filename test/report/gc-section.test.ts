// The GC report panels on real logs and recorded runs: what the page shows per generation is what
// the processes recorded about themselves (ground-truth.json, the bundles' manifests), the pause
// histogram holds every timed collection, the model-vs-real table of a 3.11 run matches every
// collection, and a what-if lands within 2 % of the run recorded under those thresholds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleGcLog } from '../../src/analysis/evidence.js';
import { gcReplayRun, type GcRunOptions } from '../../src/analysis/gc-vs-real.js';
import { openEventsBundle } from '../../src/ingest/events-bundle.js';
import { parseGcCallbacks } from '../../src/ingest/gc-callbacks.js';
import { isGcLogInput, readInputFile } from '../../src/ingest/index.js';
import { gcCharts, renderGcSections } from '../../src/report/gc-section.js';
import { buildGcReportData, MAX_GC_POINTS, type GcReportData } from '../../src/report/gc-data.js';
import { escapeHtml } from '../../src/report/markup.js';
import { renderChart } from '../../src/report/render.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { expectedTotals, gcFixtures } from '../helpers/gc-fixtures.js';

const stub = () => '<svg></svg>';

/** The rows of the first table after `<h3>heading</h3>` in section `id`, as cell texts. */
function tableAfter(html: string, id: string, heading: string): string[][] {
  const sec = html.slice(html.indexOf(`<section id="${id}">`));
  const at = sec.indexOf(`<h3>${escapeHtml(heading)}</h3>`);
  expect(at, `${heading} in #${id}`).toBeGreaterThanOrEqual(0);
  const body = sec.slice(sec.indexOf('<tbody>', at), sec.indexOf('</tbody>', at));
  return [...body.matchAll(/<tr[^>]*>(.*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1]!));
}

const int = (text: string) => Number(text.replace(/,/g, ''));

function readLog(path: string, file: string) {
  const input = readInputFile(path);
  if (!isGcLogInput(input)) throw new Error(`${path} is no GC log`);
  return { file, log: input.log };
}

describe('GC panels on real logs of every interpreter', () => {
  for (const f of gcFixtures()) {
    for (const [name, t] of Object.entries(f.truth.files)) {
      const file = `${f.name}/${name}`;
      it(`${file}: collections per generation shown as CPython counted them; the pause histogram holds every timed collection`, () => {
        const d = buildGcReportData([readLog(join(f.dir, name), file)]);
        const html = renderGcSections(d, stub).join('\n');
        const { exact } = expectedTotals(t, f.truth);
        const rows = tableAfter(html, 'gc', file);
        exact.collections!.forEach((n, g) => expect(int(rows[g]![1]!), `generation ${g}`).toBe(n));
        expect(int(rows.at(-1)![1]!)).toBe(exact.collections!.reduce((a, b) => a + b, 0));
        if (exact.collected) exact.collected.forEach((n, g) => expect(int(rows[g]![3]!), `collected, generation ${g}`).toBe(n));
        if (exact.uncollectable) exact.uncollectable.forEach((n, g) => expect(int(rows[g]![4]!), `uncollectable, generation ${g}`).toBe(n));

        const l = d.logs[0]!;
        const timed = l.summary.all.elapsed?.measured ?? 0;
        expect(l.pauses.bins.reduce((s, b) => s + b.total, 0)).toBe(timed);
        expect(l.pauses.measured).toBe(timed);
        l.summary.generations.forEach((g) => expect(l.pauses.bins.reduce((s, b) => s + (b.counts[g.generation] ?? 0), 0)).toBe(g.elapsed?.measured ?? 0));
        // every real log here is timed: DEBUG_STATS prints the elapsed time, the callbacks logger perf_counter()
        expect(timed).toBe(l.summary.all.collections);
        expect(html).toContain(`id="chart-gc-pauses-1"`);
      });
    }
  }

  it('a log without times: "no pause times in this log", and collections by position', () => {
    const f = gcFixtures().find((x) => x.name === '3.11.7-linux-x86_64')!;
    const text = readFileSync(join(f.dir, 'callbacks.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const { time: _time, ...rest } = JSON.parse(l) as Record<string, unknown>;
        return JSON.stringify(rest);
      })
      .join('\n');
    const d = buildGcReportData([{ file: 'untimed.jsonl', log: parseGcCallbacks(text, { file: 'untimed.jsonl' }).log }]);
    expect(d.logs[0]!.pauses).toEqual({ bins: [], measured: 0, unmeasured: 74 });
    expect(d.logs[0]!.series.x).toBe('collection');
    const html = renderGcSections(d, stub).join('\n');
    expect(html).toContain('No pause times in this log.');
    expect(gcCharts(d).map((c) => c.id)).toEqual(['gc-timeline-1', 'gc-collected-1']);
  });

  it('a long log is drawn downsampled, keeping every generation and the extremes, and says so', () => {
    const f = gcFixtures().find((x) => x.name === '3.11.7-linux-x86_64')!;
    // the real log's 278 collections twenty times over
    const { log } = readLog(join(f.dir, 'debug-stats.txt'), 'x');
    const long = { ...log, collections: Array.from({ length: 20 }, () => log.collections).flat() };
    const d = buildGcReportData([{ file: 'long.txt', log: long }]);
    const s = d.logs[0]!.series;
    expect(s.total).toBe(278 * 20);
    expect(s.downsampled).toBe(true);
    expect(s.points.length).toBeLessThanOrEqual(MAX_GC_POINTS);
    expect(new Set(s.points.map((p) => p.generation))).toEqual(new Set([0, 1, 2]));
    const maxCollected = Math.max(...long.collections.map((c) => c.collected!));
    const maxMs = Math.max(...long.collections.map((c) => c.elapsedSeconds!)) * 1000;
    expect(Math.max(...s.points.map((p) => p.collected!))).toBe(maxCollected);
    expect(Math.max(...s.points.map((p) => p.elapsedMs!))).toBeCloseTo(maxMs, 9);
    expect(Math.min(...s.points.map((p) => p.collected!))).toBe(0);
    // the histogram and the table still count every collection
    expect(d.logs[0]!.pauses.measured).toBe(278 * 20);
    const timeline = gcCharts(d).find((c) => c.id === 'gc-timeline-1')!;
    expect(timeline.note).toMatch(/^Downsampled: [\d,]+ of 5,560 collections drawn/);
    expect(renderChart(timeline)).toContain('downsampled:');
  });

  it('file names and type names from the input are escaped', () => {
    const f = gcFixtures().find((x) => x.name === '3.11.7-linux-x86_64')!;
    const evil = '<img src=x onerror=alert(1)>.txt';
    const { log } = readLog(join(f.dir, 'debug-collectable.txt'), evil);
    log.uncollectableObjects = { '<script>alert(1)</script>': 1 };
    const d = buildGcReportData([{ file: evil, log }]);
    const html = renderGcSections(d, renderChart).join('\n');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;.txt');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; 1');
  });
});

// ---- the GC model against recorded runs ----

const bundle = (version: string, workload: string) => join(FIXTURES, 'bundles', `${version}-linux-x86_64`, workload);

async function bundleReport(dir: string, version: string, opts: GcRunOptions = {}): Promise<GcReportData> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { durationMs: number };
  const run = await gcReplayRun(openEventsBundle(dir), version, opts);
  return buildGcReportData([bundleGcLog(dir, dir, manifest.durationMs)!], [{ file: dir, run: run!, whatIfTitle: 'what if' }]);
}

describe('GC model panels on recorded runs', () => {
  it('3.11 gc-thresholds-default: the model-vs-real table shows every collection matched; recorded counts are the manifest’s', async () => {
    const dir = bundle('3.11.7', 'gc-thresholds-default');
    const d = await bundleReport(dir, '3.11.7');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { counts: { gcCollections: number[] } };
    const m = d.models[0]!;
    expect(m.claimsExactness).toBe(true);
    expect(m.exact).toBe(true);
    expect(m.firstDivergence).toBeNull();
    // the recorder's own count of the collections it logged: 33 / 3 / 1
    expect(m.rows.map((r) => r.recorded)).toEqual(manifest.counts.gcCollections);
    expect(m.rows.map((r) => r.recorded)).toEqual([33, 3, 1]);
    for (const r of m.rows) expect([r.model, r.matched]).toEqual([r.recorded, r.recorded]);
    // start-up before the recorder attached (10 young) and shutdown (3 full): the model's alone
    expect(m.rows.map((r) => r.withoutCallbacks)).toEqual([10, 0, 3]);
    expect(m.rows.map((r) => r.wholeRun)).toEqual([43, 3, 4]);
    // the logged collections of the report's log panel are the same 37
    expect(d.logs[0]!.summary.generations.map((g) => g.collections)).toEqual([33, 3, 1]);

    const html = renderGcSections(d, renderChart).join('\n');
    const rows = tableAfter(html, 'gc-model', dir);
    expect(rows.map((r) => r[3])).toEqual(['33 / 33', '3 / 3', '1 / 1']);
    expect(html).toContain('36 of 36 automatic collections predicted to the record, generation included (missed 0, unpredicted 0, other generation 0): every collection matched.');
    expect(html).not.toContain('class="bad"');
    for (const id of ['gc', 'gc-pauses', 'gc-model']) expect(html).toContain(`<section id="${id}">`);
    for (const id of ['gc-timeline-1', 'gc-collected-1', 'gc-pauses-1', 'gc-model-1', 'gc-model-timeline-1']) expect(html).toContain(`id="chart-${id}"`);
  }, 60_000);

  it('a deliberately wrong model (no long-lived rule) shows in the table: rows marked, first divergence named', async () => {
    // gc-long-lived: 300+ full collections were due and refused by the long-lived rule; without it
    // the model names 312 full collections where the recording has 9
    const d = await bundleReport(bundle('3.11.7', 'gc-long-lived'), '3.11.7', { fault: 'no-long-lived-rule' });
    const m = d.models[0]!;
    expect(m.exact).toBe(false);
    expect(m.rows.map((r) => r.recorded)).toEqual([306, 102, 9]);
    expect(m.rows[2]!.model).toBeGreaterThan(300);
    expect(m.rows[0]!.matched).toBeLessThan(m.rows[0]!.recorded);
    expect(m.firstDivergence).toMatchObject({ kind: 'generation', recordedGeneration: 0, modelGeneration: 2 });
    const html = renderGcSections(d, stub).join('\n');
    expect(tableAfter(html, 'gc-model', m.file).map((r) => r[3])).toEqual(['78 / 306', '27 / 102', '9 / 9']);
    expect(html).toContain('<tr class="bad">');
    expect(html).toMatch(/First divergence: generation at record [\d,]+ \(recorded generation 0, model 2\)/);
    expect(html).toContain('the model differs.');
    // the right model on the same run: every one of the 417 collections matched
    const right = (await bundleReport(bundle('3.11.7', 'gc-long-lived'), '3.11.7')).models[0]!;
    for (const r of right.rows) expect(r.matched).toBe(r.recorded);
  }, 60_000);

  it('3.11 tuple-churn: every collection matched too', async () => {
    const d = await bundleReport(bundle('3.11.7', 'tuple-churn'), '3.11.7');
    const m = d.models[0]!;
    expect(m.exact).toBe(true);
    for (const r of m.rows) expect(r.matched).toBe(r.recorded);
    expect(m.agreement.matched).toBe(m.agreement.automatic);
  }, 60_000);

  // Recorded under 100,5,5 (whole run: logged + start-up + shutdown): 3.11.7 305/50/12, 3.12.1
  // 301/50/12, 3.13.0 301/50/12; the default runs replayed at 100,5,5: 308/50/12, 305/50/12, 302/50/12.
  for (const version of ['3.11.7', '3.12.1', '3.13.0']) {
    it(`${version}: the what-if of gc-thresholds-default at 100,5,5 is within 2 % of gc-thresholds-100-5-5 as recorded`, async () => {
      const predicted = (await bundleReport(bundle(version, 'gc-thresholds-default'), version, { whatIf: { thresholds: [100, 5, 5] } })).models[0]!;
      const recorded = (await bundleReport(bundle(version, 'gc-thresholds-100-5-5'), version)).models[0]!;
      expect(predicted.whatIf).toMatchObject({ thresholds: [100, 5, 5], title: 'what if' });
      expect(recorded.whatIf).toBeNull();
      // the recorded run: its logged collections are the recorder's, and the model placed every one
      for (const r of recorded.rows) expect(r.matched).toBe(r.recorded);
      for (const g of [0, 1, 2]) {
        const want = recorded.rows[g]!.wholeRun;
        const got = predicted.rows[g]!.whatIf!;
        expect(Math.abs(got - want), `generation ${g}: what if ${got}, recorded ${want}`).toBeLessThanOrEqual(0.02 * want);
      }
      const html = renderGcSections({ ...buildGcReportData([]), models: [predicted] }, stub).join('\n');
      const rows = tableAfter(html, 'gc-model', predicted.file);
      expect(rows.map((r) => int(r[6]!))).toEqual(predicted.rows.map((r) => r.whatIf));
    }, 60_000);
  }
});
