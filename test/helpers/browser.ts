// A real headless Chromium for report tests: the one shipped inside @sparticuz/chromium, so no
// download and no system browser is needed. A browser that cannot start fails the test.
import chromium from '@sparticuz/chromium';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: await chromium.executablePath(),
    args: [...chromium.args, '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    headless: true,
  });
}

export interface PageRun {
  /** Console errors and warnings, page errors, failed requests. */
  problems: string[];
  /** Every URL the page asked for. */
  requests: string[];
  /** From navigation to the load event. */
  loadMs: number;
  svgBoxes: { width: number; height: number; visible: boolean }[];
}

/** Open a report file, measure its load, the boxes of its charts, and take a full-page screenshot. */
export async function openReport(browser: Browser, path: string, screenshot: string): Promise<PageRun> {
  const page = await browser.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.setViewport({ width: 1200, height: 900 });
  const start = performance.now();
  await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
  const loadMs = performance.now() - start;
  const svgBoxes = await page.$$eval('figure.chart svg:not([class$="-ramp"])', (svgs) =>
    svgs
      .filter((s) => !s.closest('[class*="-swatch"]')) // legend swatches are tiny on purpose
      .map((s) => {
        const r = s.getBoundingClientRect();
        const style = getComputedStyle(s);
        return { width: r.width, height: r.height, visible: style.visibility !== 'hidden' && style.display !== 'none' };
      }),
  );
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.close();
  return { problems, requests, loadMs, svgBoxes };
}
