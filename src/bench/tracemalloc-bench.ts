// Bench case for `cpymem top`: a real snapshot of ≥ 2.5 M traces (--quick: 250 k) written by the local CPython,
// then, end to end in fresh processes, CPython's own `Snapshot.load(f).statistics('lineno')` (and
// printing the top 10) against `node dist/cli.js top --group-by lineno`. Both are timed and
// measured (peak RSS, ru_maxrss of the child) by the same small Python wrapper; the outputs must
// be the same bytes. Target: cpymem at least 2× faster, with a lower peak RSS.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { scratchDir } from './child.js';

const ROOT = new URL('../../', import.meta.url).pathname;

const GENERATE = `
import sys, tracemalloc
N = int(sys.argv[2])
tracemalloc.start(5)
keep = []
def leaf_a(i): return "a-%d" % i
def leaf_b(i): return ("b", i, i + 1)
def leaf_c(i): return [i]
def leaf_d(i): return {"k": i}
def leaf_e(i): return b"x" * (i % 200)
LEAVES = [leaf_a, leaf_b, leaf_c, leaf_d, leaf_e]
def middle(j, n):
    f = LEAVES[j % len(LEAVES)]
    for i in range(n):
        keep.append(f(i))
def top(n):
    for j in range(25):
        middle(j, n // 25)
top(N)
snap = tracemalloc.take_snapshot()
tracemalloc.stop()
snap.dump(sys.argv[1])
print(len(snap.traces))
`;

const LOAD = `
import sys, tracemalloc
stats = tracemalloc.Snapshot.load(sys.argv[1]).statistics("lineno")
for stat in stats[:10]:
    print(stat)
`;

// Runs argv[1:], returns "seconds maxrss_kib" of that child, passes its stdout through to a file.
const MEASURE = `
import resource, subprocess, sys, time
t = time.perf_counter()
with open(sys.argv[1], "wb") as out:
    p = subprocess.run(sys.argv[2:], stdout=out)
dt = time.perf_counter() - t
print("%f %d %d" % (dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode))
`;

function python(): string | null {
  const p = process.env.CPYMEM_BENCH_PYTHON ?? join(homedir(), '.pyenv', 'versions', '3.11.7', 'bin', 'python3.11');
  return existsSync(p) ? p : null;
}

function measure(py: string, out: string, argv: string[]): { seconds: number; rssKiB: number } {
  const r = spawnSync(py, ['-c', MEASURE, out, ...argv], { encoding: 'utf8' });
  const [s, rss, rc] = r.stdout.trim().split(' ').map(Number);
  if (r.status !== 0 || rc !== 0) throw new Error(`bench: ${argv.join(' ')} failed: ${r.stderr}`);
  return { seconds: s!, rssKiB: rss! };
}

/** Calls of the generator per wanted trace: it leaves about 2.2 traces per call. */
const CALLS_PER_TRACE = 0.46;

export function benchTracemalloc(opts: { quick?: boolean } = {}): boolean {
  const wanted = opts.quick ? 250_000 : 2_500_000;
  const rounds = opts.quick ? 1 : 3;
  const py = python();
  if (!py) {
    console.log('tracemalloc top: skipped (no ~/.pyenv/versions/3.11.7/bin/python3.11; set CPYMEM_BENCH_PYTHON)');
    return true;
  }
  const dir = scratchDir('tracemalloc');
  try {
    const snap = join(dir, 'big.pickle');
    const gen = spawnSync(py, ['-c', GENERATE, snap, String(Math.ceil(wanted * CALLS_PER_TRACE))], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (gen.status !== 0) throw new Error(`bench: generating the snapshot failed: ${gen.stderr}`);
    const traces = Number(gen.stdout.trim());
    const mb = statSync(snap).size / 1e6;
    const loader = join(dir, 'load.py');
    writeFileSync(loader, LOAD);
    const cpyOut = join(dir, 'cpython.txt');
    const ourOut = join(dir, 'cpymem.txt');
    const runs: { cpy: ReturnType<typeof measure>; ours: ReturnType<typeof measure> }[] = [];
    for (let i = 0; i < rounds; i++) {
      runs.push({
        cpy: measure(py, cpyOut, [py, loader, snap]),
        ours: measure(py, ourOut, [process.execPath, join(ROOT, 'dist', 'cli.js'), 'top', snap, '--group-by', 'lineno', '--limit', '10']),
      });
    }
    const same = spawnSync('cmp', ['-s', cpyOut, ourOut]).status === 0;
    runs.sort((a, b) => a.cpy.seconds / a.ours.seconds - b.cpy.seconds / b.ours.seconds);
    const { cpy, ours } = runs[Math.floor(rounds / 2)]!;
    const ratio = cpy.seconds / ours.seconds;
    const ok = same && ratio >= 2 && ours.rssKiB < cpy.rssKiB && traces >= wanted;
    console.log(
      `tracemalloc top: cpymem ${ours.seconds.toFixed(2)} s, ${(ours.rssKiB / 1024).toFixed(0)} MiB peak RSS vs CPython ${py.split('/').pop()} Snapshot.load + statistics('lineno') ` +
        `${cpy.seconds.toFixed(2)} s, ${(cpy.rssKiB / 1024).toFixed(0)} MiB = ${ratio.toFixed(1)}× faster (target ≥ 2×, lower RSS) ` +
        `[${traces.toLocaleString('en-US')} traces, ${mb.toFixed(0)} MB pickle, end to end in fresh processes, median of ${rounds} alternating pair${rounds === 1 ? '' : 's'}; output ${same ? 'identical' : 'DIFFERENT'}] ${ok ? 'OK' : 'BELOW TARGET'}`,
    );
    return ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
