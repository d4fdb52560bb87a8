// The report opened in a real headless Chromium (test/helpers/browser.ts): no console or page
// errors, no network request, every chart visible. It must run everywhere the tests run; a browser
// that cannot start fails the test.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMallocStats } from '../../src/ingest/malloc-stats.js';
import { buildReportData, renderReport, type ReportInput } from '../../src/report/index.js';
import { runReplay } from '../../src/cli/replay.js';
import { runReport } from '../../src/cli/report.js';
import { memoryIo } from '../../src/util/io.js';
import { launchBrowser, openReport } from '../helpers/browser.js';
import { FIXTURES, mallocStatsFixtures } from '../helpers/fixtures.js';

const dir = process.env.CPYMEM_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'cpymem-browser-'));

function reportFile(name: string, picks: [string, string][]): string {
  const fixtures = mallocStatsFixtures();
  const inputs: ReportInput[] = picks.map(([version, file]) => {
    const f = fixtures.find((x) => x.name.includes(`/${version}`) && x.name.endsWith(`/${file}.txt`));
    if (!f) throw new Error(`no fixture ${version}/${file}`);
    const r = parseMallocStats(readFileSync(f.txt, 'utf8'), { file: f.name });
    return { file: f.name, dumps: r.dumps, warnings: r.warnings };
  });
  const path = join(dir, name);
  writeFileSync(path, renderReport(buildReportData(inputs)));
  return path;
}

let browser: Browser;
const open = (path: string, screenshot: string) => openReport(browser, path, screenshot);

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

describe('the report in headless Chromium', () => {
  it('a multi-file report with every chart: no errors, no network, charts visible', async () => {
    const path = reportFile('report.html', [
      ['3.11', 'dict-churn'],
      ['3.11', 'pythonmallocstats-small-objects'],
      ['3.13', 'mimalloc-dump'],
      ['3.12', 'tracemalloc-dump'],
    ]);
    const shot = join(dir, 'report.png');
    const run = await open(path, shot);
    console.log(`report ${path}: loaded in ${run.loadMs.toFixed(0)} ms; screenshot ${shot}`);
    expect(run.problems).toEqual([]);
    expect(run.requests.every((u) => u.startsWith('file://') || u.startsWith('data:'))).toBe(true);
    expect(run.svgBoxes.length).toBe(7);
    for (const box of run.svgBoxes) {
      expect(box.visible).toBe(true);
      expect(box.width).toBeGreaterThan(300);
      expect(box.height).toBeGreaterThan(50);
    }
    expect(run.loadMs).toBeLessThan(10_000);
  });

  it('a mimalloc-only report opens cleanly with no charts', async () => {
    const path = reportFile('mimalloc.html', [['3.13', 'mimalloc-dump']]);
    const run = await open(path, join(dir, 'mimalloc.png'));
    expect(run.problems).toEqual([]);
    expect(run.svgBoxes).toEqual([]);
  });

  it('a replay report (what-if beside the recording): no errors, every chart visible', async () => {
    const path = join(dir, 'replay.html');
    const io = memoryIo(dir);
    const bundle = join(FIXTURES, 'bundles', '3.11.7-linux-x86_64', 'tuple-churn');
    expect(await runReplay({ events: bundle, output: path, arenaSize: '256KiB', quiet: true }, io)).toBe(0);
    const run = await open(path, join(dir, 'replay.png'));
    expect(run.problems).toEqual([]);
    expect(run.requests.every((u) => u.startsWith('file://') || u.startsWith('data:'))).toBe(true);
    // Arena timeline, two pinned-arena maps, then the malloc-stats charts of the model's dumps.
    expect(run.svgBoxes.length).toBeGreaterThanOrEqual(9);
    for (const box of run.svgBoxes) {
      expect(box.visible).toBe(true);
      expect(box.width).toBeGreaterThan(300);
      expect(box.height).toBeGreaterThan(40);
    }
  });

  it('the report of the largest fixtures (the biggest recorded run, the longest dump file): ≤ 5 MB, clean, open in < 2 s', async () => {
    const root = join(FIXTURES, 'bundles');
    const bundles = readdirSync(root, { withFileTypes: true }).filter((v) => v.isDirectory()).flatMap((v) => readdirSync(join(root, v.name)).map((w) => join(root, v.name, w)));
    const sizeOf = (b: string) => statSync(join(b, 'events.bin.gz'), { throwIfNoEntry: false })?.size ?? 0;
    const bundle = bundles.reduce((a, b) => (sizeOf(b) > sizeOf(a) ? b : a));
    const stream = mallocStatsFixtures().reduce((a, b) => (statSync(b.txt).size > statSync(a.txt).size ? b : a)).txt;
    const path = join(dir, 'largest.html');
    expect(await runReport({ inputs: [bundle, stream], output: path, quiet: true }, memoryIo(dir))).toBe(0);
    const bytes = statSync(path).size;
    expect(bytes).toBeLessThanOrEqual(5e6);
    // best of two: the first load of a fresh browser also pays for its start-up
    const first = await open(path, join(dir, 'largest.png'));
    const second = await open(path, join(dir, 'largest.png'));
    console.log(`largest fixtures (${bundle}, ${stream}): ${bytes} bytes, loaded in ${first.loadMs.toFixed(0)} / ${second.loadMs.toFixed(0)} ms`);
    expect(first.problems).toEqual([]);
    expect(first.requests.every((u) => u.startsWith('file://') || u.startsWith('data:'))).toBe(true);
    expect(Math.min(first.loadMs, second.loadMs)).toBeLessThan(2000);
  }, 120_000);
});
