// The cost of `cpymem capture` to the program it records, against the usual alternative measured in
// the same run: the same workload under tracemalloc.start(1). Each side's slowdown is its workload
// time over the plain run's (timed inside the script, so interpreter start-up and bundle packing do
// not count); runs alternate plain / tracemalloc / capture and the median of each is kept.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCapture } from '../capture/run.js';
import { memoryIo } from '../util/io.js';
import { scratchDir } from './child.js';

// An allocation-heavy mix: small objects, containers growing, strings, json, sorting, a few cycles.
const WORKLOAD = `
import json, os, sys, time
def work():
    out = []
    for r in range(6):
        rows = [{"id": i, "name": "n%d" % i, "tags": [i & 7, i & 15], "pos": (i, i * 2)} for i in range(20000)]
        text = json.dumps(rows)
        back = json.loads(text)
        back.sort(key=lambda d: (d["tags"][0], -d["id"]))
        words = " ".join(d["name"] for d in back).split()
        counts = {}
        for w in words:
            counts[w[:3]] = counts.get(w[:3], 0) + 1
        class N: pass
        for i in range(2000):
            n = N(); n.me = n
        out.append(len(counts))
    return out
if os.environ.get("BENCH_MODE") == "tracemalloc":
    import tracemalloc
    tracemalloc.start(1)
t0 = time.perf_counter()
work()
t1 = time.perf_counter()
print("WORK_SECONDS %.6f" % (t1 - t0))
`;

function seconds(output: string): number {
  const m = /WORK_SECONDS ([0-9.]+)/.exec(output);
  if (!m) throw new Error(`the workload printed no time: ${output.slice(-500)}`);
  return Number(m[1]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchCapture(opts: { quick?: boolean } = {}): Promise<boolean> {
  const python = process.env.CPYMEM_BENCH_PYTHON ?? 'python3';
  const rounds = opts.quick ? 1 : 5;
  const dir = scratchDir('capture');
  try {
    const script = join(dir, 'workload.py');
    writeFileSync(script, WORKLOAD);
    const env = { ...process.env };
    for (const k of ['PYTHONMALLOC', 'PYTHONDEVMODE', 'PYTHONTRACEMALLOC', 'BENCH_MODE']) delete env[k];
    const plainRun = (mode: string) => {
      const r = spawnSync(python, [script], { env: { ...env, BENCH_MODE: mode }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${python} ${script} failed: ${r.stderr}`);
      return seconds(r.stdout);
    };
    const plain: number[] = [];
    const traced: number[] = [];
    const captured: number[] = [];
    const wall: number[] = [];
    let records = 0;
    let bytes = 0;
    let version = '';
    for (let i = 0; i < rounds; i++) {
      plain.push(plainRun('plain'));
      traced.push(plainRun('tracemalloc'));
      const io = memoryIo(dir);
      const out = join(dir, `run-${i}.cpymem`);
      const t0 = performance.now();
      const r = await runCapture({ python, out, command: [script], quiet: true, childStdio: 'io', env: { ...env, BENCH_MODE: 'capture' } }, io);
      wall.push((performance.now() - t0) / 1000);
      captured.push(seconds(io.out));
      records = r.manifest.counts.records;
      version = r.python.version;
      bytes = r.manifest.files['events.bin.gz']!.bytes;
      rmSync(out, { recursive: true, force: true });
    }
    const base = median(plain);
    const tm = median(traced) / base;
    const cap = median(captured) / base;
    const ok = cap <= tm;
    console.log(
      `capture overhead: workload ${(median(captured) * 1000).toFixed(0)} ms under capture vs ${(median(traced) * 1000).toFixed(0)} ms under tracemalloc.start(1) vs ${(base * 1000).toFixed(0)} ms plain ` +
        `= slowdown ×${cap.toFixed(2)} vs ×${tm.toFixed(2)}, ratio ${(cap / tm).toFixed(2)} (target ≤ 1) ` +
        `[${python}${version ? ` ${version}` : ''}, ${records.toLocaleString('en-US')} records, ${(bytes / 1e6).toFixed(1)} MB gzipped, capture command ${median(wall).toFixed(1)} s end to end, median of ${rounds}] ${ok ? 'OK' : 'ABOVE TARGET'}`,
    );
    return ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
