// `npm run bench`: speed targets as ratios against a reference measured in the same run on the same
// machine, never as absolute times. Each case prints "name: X MB/s vs reference Y MB/s = Z% (target …)".
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MallocStatsReader } from '../ingest/malloc-stats.js';
import { benchCapture } from './capture-bench.js';
import { benchReplay } from './replay-bench.js';
import { benchTracemalloc } from './tracemalloc-bench.js';

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
    // Start each run from a collected heap (npm run bench passes --expose-gc), so neither side pays
    // for the other's garbage.
    (globalThis as { gc?: () => void }).gc?.();
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
  // Written to a file and read back as the CLI reads its input (a flat string; a string built by
  // repeat() is a rope whose every character access costs more).
  const dir = mkdtempSync(join(tmpdir(), 'cpymem-bench-'));
  const file = join(dir, 'pythonmallocstats-stream.txt');
  writeFileSync(file, one.repeat(copies));
  const text = readFileSync(file, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const mb = Buffer.byteLength(text) / 1e6;

  // Reference and subject alternate, and the median of the per-pair ratios is kept, so that a
  // burst of load on the machine hits both sides of a pair alike.
  let lines = 0;
  let dumps = 0;
  const pairs: { ref: number; parse: number }[] = [];
  for (let i = 0; i < 7; i++) {
    const ref = time(1, () => {
      lines = text.split('\n').length;
    });
    dumps = 0;
    const parse = time(1, () => {
      const r = new MallocStatsReader({ keepDumps: false, onDump: () => dumps++ });
      r.push(text);
      r.end();
    });
    pairs.push({ ref, parse });
  }
  pairs.sort((a, b) => a.ref / a.parse - b.ref / b.parse);
  const { ref, parse } = pairs[3]!;
  const ratio = ref / parse;
  const ok = ratio >= 0.5;
  console.log(
    `malloc-stats parse: ${(mb / parse).toFixed(0)} MB/s vs plain line split ${(mb / ref).toFixed(0)} MB/s = ${(100 * ratio).toFixed(0)}% ` +
      `(target ≥ 50%) [${mb.toFixed(1)} MB, ${lines.toLocaleString('en-US')} lines, ${dumps.toLocaleString('en-US')} dumps, median of 7 alternating pairs] ${ok ? 'OK' : 'BELOW TARGET'}`,
  );
  return ok;
}

const results = [benchMallocStats(), await benchCapture(), await benchReplay(), benchTracemalloc()];
process.exitCode = results.every(Boolean) ? 0 : 1;
