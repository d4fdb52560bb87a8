// The size of the HTML report of the big inputs: `cpymem replay LOG -o r.html` of a 100 M-event run
// with a real dump every 100,000 calls (about 1,000 markers, as `cpymem capture --stats-every 100000`
// records them), and `cpymem report` of the 10,000-dump PYTHONMALLOCSTATS stream. A page must stay
// ≤ 5 MB however long the run, because every long series in it is bounded (charts downsampled with
// extremes kept, tables and data bounded; docs/scale.md). Each page is written in a fresh process,
// whose peak RSS is printed too. The reference of the replay report is the same command's page of
// the replay case's log (a third as long, 6 markers), measured in the same run: the ratio is what
// a thousand markers add to a page.
//
// The log (about 150 MB gzipped) is recorded once and cached like the replay case's;
// CPYMEM_BENCH_REPORT_ROUNDS scales it (default 15 rounds: about 98 M events). --quick: the replay
// case's small log and a 1,000-dump stream.
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from '../cli.js';
import { readBundleManifest } from '../ingest/events-bundle.js';
import { memoryIo } from '../util/io.js';
import { benchChildMain, mb, runChild, scratchDir } from './child.js';
import { writeDumpStream } from './malloc-stats-bench.js';
import { benchLog, benchPython } from './replay-bench.js';

/** The HTML budget of a report (issue 8). */
export const MAX_REPORT_BYTES = 5e6;

/** A report opens in a browser within this (issue 8). */
const MAX_LOAD_MS = 2000;

/**
 * Milliseconds from navigation to the load event of each page in headless Chromium, best of three
 * (the first load of a browser also pays its start-up). The browser comes from the dev
 * dependencies (@sparticuz/chromium, as the browser tests use it); without them: why not.
 */
async function browserLoads(pages: string[]): Promise<number[] | string> {
  let launch: () => Promise<import('puppeteer-core').Browser>;
  try {
    const chromium = (await import('@sparticuz/chromium')).default;
    const puppeteer = (await import('puppeteer-core')).default;
    launch = async () => puppeteer.launch({ executablePath: await chromium.executablePath(), args: [...chromium.args, '--no-sandbox'], headless: true });
  } catch (err) {
    return `no headless Chromium: ${(err as Error).message}`;
  }
  const browser = await launch();
  try {
    const out: number[] = [];
    for (const path of pages) {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage();
        const t0 = performance.now();
        await page.goto(pathToFileURL(path).href, { waitUntil: 'load', timeout: 60_000 });
        best = Math.min(best, performance.now() - t0);
        await page.close();
      }
      out.push(best);
    }
    return out;
  } finally {
    await browser.close();
  }
}

const verdict = (bytes: number) => (bytes <= MAX_REPORT_BYTES ? 'OK' : 'ABOVE TARGET');

/** `cpymem <argv> -o out` in a fresh process: the page's bytes. */
function pageOf(argv: string[], out: string) {
  return runChild<number>(import.meta.url, 'page', [out, ...argv]);
}

export async function benchReport(opts: { quick?: boolean } = {}): Promise<boolean> {
  const python = benchPython();
  const rounds = Number(process.env.CPYMEM_BENCH_REPORT_ROUNDS ?? 15);
  let big: string;
  let small: string;
  try {
    small = await benchLog(python, Number(process.env.CPYMEM_BENCH_REPLAY_ROUNDS ?? (opts.quick ? 1 : 5)));
    big = opts.quick ? small : await benchLog(python, rounds, 100_000);
  } catch (err) {
    console.log(`replay report: cannot record the bench log with ${python}: ${(err as Error).message} (set CPYMEM_BENCH_PYTHON to a CPython 3.8–3.13) NOT MEASURED`);
    return false;
  }
  const dir = scratchDir('report');
  try {
    const runOf = (log: string) => readBundleManifest(log).counts;
    const ref = pageOf(['replay', small], join(dir, 'reference.html'));
    const r = big === small ? ref : pageOf(['replay', big], join(dir, 'replay.html'));
    const [c, cRef] = [runOf(big), runOf(small)];
    console.log(
      `replay report: ${(r.value / 1e6).toFixed(2)} MB (${r.value.toLocaleString('en-US')} bytes) for ${(c.records / 1e6).toFixed(1)} M events and ${c.markers.toLocaleString('en-US')} markers ` +
        `vs ${(ref.value / 1e6).toFixed(2)} MB for ${(cRef.records / 1e6).toFixed(1)} M events and ${cRef.markers.toLocaleString('en-US')} markers = ${(r.value / ref.value).toFixed(2)}× ` +
        `(target ≤ 5 MB) [cpymem replay -o in a fresh process: ${r.seconds.toFixed(1)} s, peak RSS ${mb(r.maxRssMb)}] ${verdict(r.value)}`,
    );
    const dumps = opts.quick ? 1_000 : 10_000;
    const stream = writeDumpStream(dir, dumps);
    const m = pageOf(['report', stream], join(dir, 'malloc-stats.html'));
    console.log(
      `malloc-stats report: ${(m.value / 1e6).toFixed(2)} MB (${m.value.toLocaleString('en-US')} bytes) for a ${(statSync(stream).size / 1e6).toFixed(0)} MB stream of ≥ ${dumps.toLocaleString('en-US')} dumps ` +
        `(target ≤ 5 MB) [cpymem report -o in a fresh process: ${m.seconds.toFixed(1)} s, peak RSS ${mb(m.maxRssMb)}] ${verdict(m.value)}`,
    );
    const pages = [['the reference page', 'reference.html'], ['the replay page', 'replay.html'], ['the malloc-stats page', 'malloc-stats.html']].filter(([, f]) => statSync(join(dir, f!), { throwIfNoEntry: false }));
    const load = await browserLoads(pages.map(([, f]) => join(dir, f!)));
    if (typeof load === 'string') console.log(`report in a browser: NOT MEASURED (${load})`);
    else {
      const said = pages.slice(1).map(([name], i) => `${name} ${(load[i + 1]! / 1000).toFixed(2)} s`);
      console.log(
        `report in a browser: ${said.join(', ')} vs ${pages[0]![0]} ${(load[0]! / 1000).toFixed(2)} s to the load event ` +
          `(target < 2 s) [headless Chromium, best of 3] ${load.slice(1).every((x) => x < MAX_LOAD_MS) ? 'OK' : 'ABOVE TARGET'}`,
      );
    }
    return r.value <= MAX_REPORT_BYTES && m.value <= MAX_REPORT_BYTES && (typeof load === 'string' || load.slice(1).every((x) => x < MAX_LOAD_MS));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await benchChildMain(import.meta.url, {
  page: async ([out, ...argv]) => {
    const io = memoryIo();
    const code = await main([...argv, '-o', out!, '--quiet'], io);
    if (code !== 0) throw new Error(`cpymem ${argv.join(' ')} exited ${code}: ${io.err}`);
    return statSync(out!).size;
  },
});
