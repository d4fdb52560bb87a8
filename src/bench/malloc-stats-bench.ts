// A long PYTHONMALLOCSTATS stream: ≥ 10,000 real dumps (every malloc-stats fixture, repeated), as a
// big service prints over its life. Speed: the reader against a plain line split of the same text,
// in the same process (target ≥ 50 %). Memory: peak RSS, each in a fresh process, of the file
// streamed through the reader (dumps handed on, not kept), of the same stream ten times as long (the
// same peak: memory follows the reader's state, not the file), of readInputFile (every dump kept, as
// inspect and report hold them) and of the reference (the whole file read and split).
import { appendFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readInputFile } from '../ingest/index.js';
import { MallocStatsReader } from '../ingest/malloc-stats.js';
import { forEachTextPiece } from '../ingest/text-file.js';
import { benchChildMain, mb, runChild, scratchDir } from './child.js';

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

/** Write a stream of at least `wanted` real dumps (every fixture, repeated) into dir; its path. */
export function writeDumpStream(dir: string, wanted: number): string {
  const files = realDumpFiles(join(ROOT, 'fixtures', 'malloc-stats'));
  const one = files.map((f) => readFileSync(f, 'utf8')).join('');
  const dumpsInOne = one.split('Small block threshold').length - 1;
  const file = join(dir, 'pythonmallocstats-stream.txt');
  writeFileSync(file, one.repeat(Math.max(1, Math.ceil(wanted / Math.max(1, dumpsInOne)))));
  return file;
}

export function benchMallocStats(opts: { quick?: boolean } = {}): boolean {
  const wanted = opts.quick ? 1_000 : 10_000;
  const dir = scratchDir('malloc-stats');
  try {
    // Written to a file and read back as the CLI reads its input (a flat string; a string built by
    // repeat() is a rope whose every character access costs more).
    const file = writeDumpStream(dir, wanted);
    const text = readFileSync(file, 'utf8');
    const mbytes = Buffer.byteLength(text) / 1e6;

    // Reference and subject alternate, and the median of the per-pair ratios is kept, so that a
    // burst of load on the machine hits both sides of a pair alike.
    let lines = 0;
    let dumps = 0;
    const pairs: { ref: number; parse: number }[] = [];
    const rounds = opts.quick ? 3 : 7;
    for (let i = 0; i < rounds; i++) {
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
    const { ref, parse } = pairs[Math.floor(rounds / 2)]!;
    const ratio = ref / parse;
    const ok = ratio >= 0.5 && dumps >= wanted;
    console.log(
      `malloc-stats parse: ${(mbytes / parse).toFixed(0)} MB/s vs plain line split ${(mbytes / ref).toFixed(0)} MB/s = ${(100 * ratio).toFixed(0)}% ` +
        `(target ≥ 50%) [${mbytes.toFixed(1)} MB, ${lines.toLocaleString('en-US')} lines, ${dumps.toLocaleString('en-US')} dumps, median of ${rounds} alternating pairs] ${ok ? 'OK' : 'BELOW TARGET'}`,
    );

    const stream = runChild<number>(import.meta.url, 'stream', [file]);
    const whole = runChild<number>(import.meta.url, 'read-input', [file]);
    const split = runChild<number>(import.meta.url, 'split', [file]);
    let longer = '';
    if (!opts.quick) {
      const file10 = join(dir, 'pythonmallocstats-stream-10x.txt');
      for (let i = 0; i < 10; i++) appendFileSync(file10, text);
      const s10 = runChild<number>(import.meta.url, 'stream', [file10]);
      rmSync(file10);
      longer = `, the stream 10× as long (${((10 * mbytes) / 1e3).toFixed(2)} GB, ${s10.value.toLocaleString('en-US')} dumps) ${mb(s10.maxRssMb)} in ${s10.seconds.toFixed(1)} s`;
    }
    console.log(
      `malloc-stats memory: peak RSS streaming the file ${mb(stream.maxRssMb)}${longer} (dumps handed on); readInputFile ${mb(whole.maxRssMb)} (all ${whole.value.toLocaleString('en-US')} dumps kept) ` +
        `vs whole file read + line split ${mb(split.maxRssMb)}: streaming = ${(stream.maxRssMb / split.maxRssMb).toFixed(2)}× [${mbytes.toFixed(1)} MB file, each in a fresh process]`,
    );
    return ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await benchChildMain(import.meta.url, {
  stream: ([file]) => {
    let dumps = 0;
    const r = new MallocStatsReader({ file, keepDumps: false, onDump: () => dumps++ });
    forEachTextPiece(file!, (t) => r.push(t));
    r.end();
    return dumps;
  },
  'read-input': ([file]) => {
    const input = readInputFile(file!);
    return input.format === 'malloc-stats' ? input.dumps.length : 0;
  },
  split: ([file]) => readFileSync(file!, 'utf8').split('\n').length,
});
