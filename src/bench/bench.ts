// `npm run bench`: speed targets as ratios against a reference measured in the same run on the same
// machine, never as absolute times. Each case prints "name: X MB/s vs reference Y MB/s = Z% (target …)".
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MallocStatsReader } from '../ingest/malloc-stats.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function realDumpFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...realDumpFiles(p));
    else if (p.endsWith('.txt')) out.push(p);
  }
  return out;
}

/** Best of n runs, in seconds. */
function time(n: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

function benchMallocStats(): boolean {
  // A large multi-dump text made of real dumps (every fixture, repeated) — like a long
  // PYTHONMALLOCSTATS stream of a big service.
  const files = realDumpFiles(join(ROOT, 'fixtures', 'malloc-stats'));
  const one = files.map((f) => readFileSync(f, 'utf8')).join('');
  const dumpsInOne = one.split('Small block threshold').length - 1;
  const copies = Math.max(1, Math.ceil(10_000 / Math.max(1, dumpsInOne)));
  const text = one.repeat(copies);
  const mb = Buffer.byteLength(text) / 1e6;

  let lines = 0;
  const ref = time(5, () => {
    lines = text.split('\n').length;
  });
  let dumps = 0;
  const parse = time(5, () => {
    const r = new MallocStatsReader({ keepDumps: false, onDump: () => dumps++ });
    r.push(text);
    r.end();
  });
  const ratio = ref / parse;
  const ok = ratio >= 0.5;
  console.log(
    `malloc-stats parse: ${(mb / parse).toFixed(0)} MB/s vs plain line split ${(mb / ref).toFixed(0)} MB/s = ${(100 * ratio).toFixed(0)}% ` +
      `(target ≥ 50%) [${mb.toFixed(1)} MB, ${lines.toLocaleString('en-US')} lines, ${(dumps / 5).toLocaleString('en-US')} dumps] ${ok ? 'OK' : 'BELOW TARGET'}`,
  );
  return ok;
}

const results = [benchMallocStats()];
process.exitCode = results.every(Boolean) ? 0 : 1;
