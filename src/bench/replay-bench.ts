// Replay speed: events/s of the pymalloc replay that `cpymem compare` and `cpymem replay` make
// (decode + pymalloc model + every real dump compared; not the GC model they run alongside) over a
// large log recorded by `cpymem capture`, against a plain decode of the same log measured in the
// same run: gunzip + read every record's fields, the least any consumer does.
// Targets: ≥ 10 M events/s, and ≥ 30 % of the plain decode's rate. Then one more replay and one more
// plain decode, each in a fresh process, whose peak RSS shows that memory follows live arenas, not
// the length of the log.
//
// The log is recorded once and cached (next to the recorder, in cpymem's cache directory), with a
// pyenv CPython 3.8–3.13 when there is one, else python3 (CPYMEM_BENCH_PYTHON overrides);
// CPYMEM_BENCH_REPLAY_ROUNDS scales it (default 5: about 33 M events, 1 GB of records; --quick 1).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { replayRun } from '../analysis/model-vs-real.js';
import { cacheDir, RECORDER_SOURCE } from '../capture/recorder-build.js';
import { runCapture } from '../capture/run.js';
import { verdict } from '../cli/compare.js';
import { bundleEventsFile, openEventsBundle, readBundleManifest } from '../ingest/events-bundle.js';
import { memoryIo } from '../util/io.js';
import { benchChildMain, mb, runChild } from './child.js';

// Arenas filled and fragmented (random 90 % freed) then released, lists and str grown by realloc,
// json round trips: every path of the model, and a real dump per round.
const WORKLOAD = `
import json, random, sys
try:
    import cpymem_capture
except ImportError:
    cpymem_capture = None
rng = random.Random(1)
for r in range(int(sys.argv[1])):
    keep = []
    for i in range(200000):
        x = i & 255
        keep.append((x, x, x) if i % 4 else {"k": x, "s": str(i)})
    rng.shuffle(keep)
    del keep[: len(keep) * 9 // 10]
    lists = []
    for n in range(200):
        lst = []
        for i in range(n * 20):
            lst.append((i, i))
        lists.append(lst)
    s = ""
    for i in range(20000):
        s += "ab"
    rows = [{"id": i, "name": "n%d" % i, "tags": [i & 7, i & 15]} for i in range(30000)]
    back = json.loads(json.dumps(rows))
    words = " ".join(d["name"] for d in back).split()
    del rows, back, words, lists, s
    keep.clear()
    if cpymem_capture:
        cpymem_capture.stats("round-%d" % r)
`;

/** CPYMEM_BENCH_PYTHON, else the newest pyenv CPython that capture supports, else python3. */
export function benchPython(): string {
  if (process.env.CPYMEM_BENCH_PYTHON) return process.env.CPYMEM_BENCH_PYTHON;
  const dir = join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'versions');
  const found = existsSync(dir)
    ? readdirSync(dir)
        .map((v) => /^3\.(\d+)\.(\d+)$/.exec(v))
        .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= 8 && Number(m[1]) <= 13)
        .sort((a, b) => Number(b[1]) - Number(a[1]) || Number(b[2]) - Number(a[2]))
        .map((m) => join(dir, m[0], 'bin', `python3.${m[1]}`))
        .find((exe) => existsSync(exe))
    : undefined;
  return found ?? 'python3';
}

/**
 * A bench log: `rounds` rounds of the workload, a real dump every `statsEvery` calls when given.
 * Recorded on first use, then reused while workload, size, interpreter and recorder stay the same.
 */
export async function benchLog(python: string, rounds: number, statsEvery?: number): Promise<string> {
  const hash = createHash('sha256').update(WORKLOAD).update(String(rounds)).update(python).update(readFileSync(RECORDER_SOURCE));
  if (statsEvery) hash.update(`every ${statsEvery}`);
  const key = hash.digest('hex').slice(0, 16);
  const dir = join(cacheDir(), 'bench');
  const out = join(dir, `replay-${key}.cpymem`);
  if (existsSync(join(out, 'manifest.json'))) return out;
  mkdirSync(dir, { recursive: true });
  const script = join(dir, 'workload-replay.py');
  writeFileSync(script, WORKLOAD);
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONHASHSEED: '0' };
  for (const k of ['PYTHONMALLOC', 'PYTHONDEVMODE', 'PYTHONTRACEMALLOC', 'PYTHONMALLOCSTATS']) delete env[k];
  console.log(`replay: recording a bench log of ${rounds} rounds${statsEvery ? `, a dump every ${statsEvery.toLocaleString('en-US')} calls,` : ''} once with ${python} (cached in ${dir}) …`);
  await runCapture({ python, out, command: [script, String(rounds)], statsEvery, quiet: true, force: true, childStdio: 'io', env }, memoryIo(dir));
  // The same log of an older workload, recorder or interpreter is not needed any more.
  for (const old of readdirSync(dir)) {
    const path = join(dir, old);
    if (!/^replay-[0-9a-f]+\.cpymem$/.test(old) || path === out) continue;
    let m: ReturnType<typeof readBundleManifest> | undefined;
    try {
      m = readBundleManifest(path);
    } catch {
      // unreadable: a recording cut short
    }
    if (!m || (m.command.at(-1) === String(rounds) && (m.recorder.statsEvery ?? undefined) === statsEvery)) rmSync(path, { recursive: true, force: true });
  }
  return out;
}

/**
 * The reference: gunzip the log as the reader does (same stream sizes) and read every record's op,
 * size, ptr and result as numbers, from 32-bit words of an aligned copy.
 */
export async function plainDecode(file: string): Promise<{ records: number; check: number }> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(createGunzip({ chunkSize: 1 << 20 }));
  let work = new Uint8Array(1 << 21);
  let words = new Uint32Array(work.buffer);
  let have = 0;
  let skip = 64; // the header
  let records = 0;
  let check = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (have + chunk.length > work.length) {
      const bigger = new Uint8Array((have + chunk.length + 3) & ~3);
      bigger.set(work.subarray(0, have));
      work = bigger;
      words = new Uint32Array(work.buffer);
    }
    work.set(chunk, have);
    have += chunk.length;
    const start = Math.min(skip, have);
    skip -= start;
    const n = Math.floor((have - start) / 32);
    for (let i = 0, w = start >> 2; i < n; i++, w += 8) {
      const op = words[w]! & 0xff;
      const size = words[w + 3]! * 4294967296 + words[w + 2]!;
      const ptr = words[w + 5]! * 4294967296 + words[w + 4]!;
      const result = words[w + 7]! * 4294967296 + words[w + 6]!;
      check += op + (size === ptr ? 1 : 0) + (ptr === result ? 1 : 0);
    }
    records += n;
    const used = start + n * 32;
    work.copyWithin(0, used, have);
    have -= used;
  }
  return { records, check };
}

async function fullReplay(dir: string, version: string) {
  const run = await replayRun(openEventsBundle(dir), version);
  return { events: run.summary.events, identical: verdict(run).identical };
}

async function seconds<T>(fn: () => Promise<T>): Promise<{ s: number; value: T }> {
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

export async function benchReplay(opts: { quick?: boolean } = {}): Promise<boolean> {
  const rounds = Number(process.env.CPYMEM_BENCH_REPLAY_ROUNDS ?? (opts.quick ? 1 : 5));
  const pairs = opts.quick ? 1 : 3;
  const python = benchPython();
  let dir: string;
  try {
    dir = await benchLog(python, rounds);
  } catch (err) {
    console.log(`replay: cannot record the bench log with ${python}: ${(err as Error).message} (set CPYMEM_BENCH_PYTHON to a CPython 3.8–3.13) NOT MEASURED`);
    return false;
  }
  const manifest = readBundleManifest(dir);
  const version = manifest.python.version;
  const file = bundleEventsFile(dir);
  const records = manifest.counts.records;
  const gb = (64 + 32 * records) / 1e9;

  // Reference and subject alternate; the median pair (by ratio) is kept.
  const runs: { decode: number; replay: number }[] = [];
  for (let i = 0; i < pairs; i++) {
    const d = await seconds(() => plainDecode(file));
    if (d.value.records !== records) throw new Error(`plain decode read ${d.value.records} records, the manifest says ${records}`);
    const r = await seconds(() => fullReplay(dir, version));
    if (!r.value.identical) throw new Error(`the bench log does not replay identically (${dir}): run cpymem compare on it`);
    runs.push({ decode: d.s, replay: r.s });
  }
  runs.sort((a, b) => a.decode / a.replay - b.decode / b.replay);
  const { decode, replay } = runs[Math.floor(runs.length / 2)]!;
  const child = runChild<{ events: number; identical: boolean }>(import.meta.url, 'replay', [dir, version]);
  const decodeChild = runChild<{ records: number }>(import.meta.url, 'decode', [file]);
  const replayRate = records / replay / 1e6;
  const decodeRate = records / decode / 1e6;
  const ratio = decode / replay;
  const ok = replayRate >= 10 && ratio >= 0.3 && child.value.identical;
  console.log(
    `replay: ${replayRate.toFixed(1)} M events/s vs plain decode ${decodeRate.toFixed(1)} M events/s = ${(100 * ratio).toFixed(0)}% ` +
      `(targets ≥ 10 M events/s, ≥ 30%) [CPython ${version}, ${(records / 1e6).toFixed(1)} M events, ${gb.toFixed(2)} GB of records, ` +
      `${(manifest.files['events.bin.gz']!.bytes / 1e6).toFixed(0)} MB gzipped; every dump identical; median of ${pairs} alternating pairs] ${ok ? 'OK' : 'BELOW TARGET'}`,
  );
  console.log(
    `replay memory: peak RSS of a replay ${mb(child.maxRssMb)} vs plain decode ${mb(decodeChild.maxRssMb)} = ${(child.maxRssMb / decodeChild.maxRssMb).toFixed(2)}× ` +
      `[${(records / 1e6).toFixed(1)} M events, ${gb.toFixed(2)} GB of records, ${child.value.identical ? 'every dump identical' : 'DUMPS DIFFER'}, each in a fresh process; replay ${child.seconds.toFixed(1)} s, decode ${decodeChild.seconds.toFixed(1)} s there]`,
  );
  return ok;
}

await benchChildMain(import.meta.url, {
  replay: ([dir, version]) => fullReplay(dir!, version!),
  decode: ([file]) => plainDecode(file!),
});
