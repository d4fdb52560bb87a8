// `npm run bench`: speed targets as ratios against a reference measured in the same run on the same
// machine, never as absolute times, and the peak RSS of the big cases, each measured in a fresh
// process. Each case prints "name: X vs reference Y = Z% (target …) […] OK | BELOW TARGET".
//
//   npm run bench                        every case (a few minutes; the first run also records and
//                                        caches the event logs of the replay and report cases)
//   npm run bench -- --case replay       one case (repeat --case, or a comma-separated list)
//   npm run bench -- --quick             every case at a tenth of the size or less: a smoke test
//   npm run bench -- --list              the cases
//
// Big temporary files go under $CPYMEM_BENCH_TMP (default /tmp/cpymem-scale); docs/scale.md has the
// figures of a run.
import { benchCapture } from './capture-bench.js';
import { benchMallocStats } from './malloc-stats-bench.js';
import { benchReplay } from './replay-bench.js';
import { benchReport } from './report-bench.js';
import { benchTracemalloc } from './tracemalloc-bench.js';

interface Case {
  describe: string;
  run(opts: { quick: boolean }): boolean | Promise<boolean>;
}

const CASES: Record<string, Case> = {
  'malloc-stats': { describe: 'a 10,000-dump PYTHONMALLOCSTATS stream: parse vs plain line split, peak RSS', run: benchMallocStats },
  capture: { describe: 'capture overhead vs tracemalloc.start(1)', run: benchCapture },
  replay: { describe: 'a 1 GB event log: replay vs plain decode, peak RSS of each', run: benchReplay },
  tracemalloc: { describe: 'a 2.5 M-trace snapshot: cpymem top vs CPython Snapshot.load + statistics, peak RSS', run: benchTracemalloc },
  report: { describe: 'HTML report of a 100 M-event replay and of the 10,000-dump stream: bytes (≤ 5 MB), peak RSS', run: benchReport },
};

function usage(message: string): never {
  console.error(`bench: ${message}\nusage: bench [--case NAME]… [--quick] [--list]; cases: ${Object.keys(CASES).join(', ')}`);
  process.exit(2);
}

const chosen: string[] = [];
let quick = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--quick') quick = true;
  else if (a === '--list') {
    for (const [name, c] of Object.entries(CASES)) console.log(`${name.padEnd(14)}${c.describe}`);
    process.exit(0);
  } else if (a === '--case' || a.startsWith('--case=')) {
    const v = a === '--case' ? argv[++i] : a.slice('--case='.length);
    if (!v) usage('--case needs a name');
    chosen.push(...v.split(',').filter(Boolean));
  } else usage(`unknown argument ${JSON.stringify(a)}`);
}
for (const name of chosen) if (!(name in CASES)) usage(`no case ${JSON.stringify(name)}`);

const results: boolean[] = [];
for (const name of chosen.length ? chosen : Object.keys(CASES)) {
  const t0 = performance.now();
  results.push(await CASES[name]!.run({ quick }));
  if (quick || chosen.length) console.log(`  (${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
if (quick) console.log('quick: the sizes are too small for the targets (start-up and warm-up dominate); run without --quick for the verdicts');
process.exitCode = quick || results.every(Boolean) ? 0 : 1;
