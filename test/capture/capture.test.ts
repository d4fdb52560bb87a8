// `cpymem capture` with the local python3 (a pyenv shim here): what the command does around the
// recording — interpreter resolution, the bundle, --force, exit status, -c/-m, the environment the
// script sees, hook replacement, interpreters it cannot hook.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import type { Recording } from '../../src/model/types.js';
import { memoryIo } from '../../src/util/io.js';
import { CACHE_DIR, capture, checkConsistency, pyenvInterpreter, readEvents, scratch, writeScript } from './helpers.js';

const PY = 'python3';

// Prints, as one JSON line, what the script sees of its environment and what CPython returned.
const SCRIPT = `
import builtins, gc, json, os, subprocess, sys
import cpymem_capture
out = {
    "ld_preload": os.environ.get("LD_PRELOAD"),
    "pythonpath": os.environ.get("PYTHONPATH"),
    "cpymem_env": sorted(k for k in os.environ if k.startswith("CPYMEM_")),
    "helper_on_path": any("helper-" in p for p in sys.path),
    "user_site": getattr(builtins, "user_sitecustomize_ran", False),
    "argv": sys.argv[1:],
    "executable": sys.executable,
}
keep = [(i, str(i)) for i in range(20000)]
out["m1"] = cpymem_capture.stats("built")
cpymem_capture.note('halved, "quoted"')
del keep[::2]
out["blocks"] = sys.getallocatedblocks()
out["m2"] = cpymem_capture.stats("halved")
r = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('LD_PRELOAD'))"], stdout=subprocess.PIPE, universal_newlines=True)
out["child_ld_preload"] = r.stdout.strip()
print(json.dumps(out))
sys.exit(int(sys.argv[1]))
`;

describe('cpymem capture (local python3)', () => {
  let base: string;
  let run: Awaited<ReturnType<typeof capture>>;
  let seen: Record<string, unknown>;

  beforeAll(async () => {
    base = scratch();
    const script = writeScript(base, 'script.py', SCRIPT);
    const userSite = join(base, 'usersite');
    mkdirSync(userSite);
    writeScript(userSite, 'sitecustomize.py', 'import builtins\nbuiltins.user_sitecustomize_ran = True\n');
    run = await capture(PY, [script, '0', 'x y'], { out: join(base, 'b'), statsAt: '25000', env: { PYTHONPATH: userSite }, cwd: base });
    seen = JSON.parse(run.out.trim().split('\n').at(-1)!);
    seen.userSite = userSite;
  }, 120_000);

  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('runs the real binary behind the pyenv shim and writes a complete bundle', () => {
    expect(run.code).toBe(0);
    const m = run.manifest!;
    expect(m.format).toBe('cpymem-capture');
    expect(m.python.requested).toBe(PY);
    expect(m.python.executable).toBe(seen.executable);
    expect(readFileSync(m.python.binary).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(m.command).toEqual([join(base, 'script.py'), '0', 'x y']);
    expect(seen.argv).toEqual(['0', 'x y']);
    expect(readdirSync(run.dir).sort()).toEqual(['events.bin.gz', 'gc.jsonl', 'manifest.json', 'stats']);
    // every file is listed with its real hash
    for (const [rel, f] of Object.entries(m.files)) {
      const data = readFileSync(join(run.dir, rel));
      expect(data.length, rel).toBe(f.bytes);
      expect(createHash('sha256').update(data).digest('hex'), rel).toBe(f.sha256);
    }
    expect(readdirSync(join(run.dir, 'stats')).length).toBe(m.markers.length);
    expect(readdirSync(base).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('leaves the script the environment it would have had: PYTHONPATH, sys.path, the user sitecustomize; children are not preloaded', () => {
    expect(seen.ld_preload).toBeNull();
    expect(seen.pythonpath).toBe(seen.userSite);
    expect(seen.cpymem_env).toEqual(['CPYMEM_CACHE_DIR']); // the test's own; the recorder's are gone
    expect(seen.helper_on_path).toBe(false);
    expect(seen.user_site).toBe(true);
    expect(seen.child_ld_preload).toBe('None');
  });

  it('records well-formed events that agree with CPython at every marker', async () => {
    const m = run.manifest!;
    const events = await readEvents(run.dir);
    expect(events.length).toBe(m.counts.records);
    const malformed = events.filter(
      (e) =>
        (['malloc', 'calloc', 'realloc', 'free'].includes(e.op) && e.domain !== 'mem' && e.domain !== 'obj') ||
        (e.op === 'arena_alloc' && !(e.result > 0 && e.size > 0)) ||
        (e.op.startsWith('arena') && typeof e.nested !== 'boolean') ||
        (e.op === 'free' && e.size !== 0),
    );
    expect(malformed).toEqual([]);
    const c = checkConsistency(events);
    expect(c.errors).toEqual([]);
    m.markers.forEach((mk, i) => expect(c.liveAtStats[i]).toBe(mk.allocatedBlocksBefore));
    const byLabel = Object.fromEntries(m.markers.map((x) => [x.label ?? x.reason, x]));
    expect([seen.m1, seen.m2]).toEqual([byLabel.built!.index, byLabel.halved!.index]);
    expect(m.markers[0]).toMatchObject({ reason: 'at', calls: 25000 });
    // sys.getallocatedblocks() as the script saw it, then the C value when the marker was taken:
    // only the int holding it and the ctypes call's temporaries lie between.
    expect(byLabel.halved!.allocatedBlocksBefore! - (seen.blocks as number)).toBeGreaterThanOrEqual(0);
    expect(byLabel.halved!.allocatedBlocksBefore! - (seen.blocks as number)).toBeLessThan(20);
    const note = events.find((e) => e.op === 'note')!;
    expect(note.label).toBe('halved, "quoted"');
    expect(m.notes).toEqual([{ index: 0, record: events.indexOf(note), text: 'halved, "quoted"' }]);
  });

  it('refuses to overwrite a bundle without --force, replaces it with --force', async () => {
    const before = statSync(join(run.dir, 'manifest.json')).mtimeMs;
    const again = await capture(PY, ['-c', 'pass'], { out: run.dir });
    expect(again.code).toBe(2);
    expect(again.err).toBe(`cpymem: ${run.dir}: already exists, will not overwrite without --force\n`);
    expect(statSync(join(run.dir, 'manifest.json')).mtimeMs).toBe(before);
    const forced = await capture(PY, ['-c', 'pass'], { out: join(base, 'forced') });
    expect(forced.code).toBe(0);
    const replaced = await capture(PY, ['-c', 'import sys; sys.exit(3)'], { out: join(base, 'forced'), force: true });
    expect(replaced.code).toBe(1);
    expect(replaced.err).toContain('exited with status 3 (the bundle was written)');
    expect(replaced.manifest!.exit.status).toBe(3);
    expect(replaced.manifest!.command).toEqual(['-c', 'import sys; sys.exit(3)']);
    expect(readdirSync(base).filter((f) => f.includes('.tmp-') || f.endsWith('.old'))).toEqual([]);
  }, 60_000);

  it('runs -m modules through the CLI', async () => {
    const io = memoryIo(base);
    const out = join(base, 'this.cpymem');
    const saved = process.env.CPYMEM_CACHE_DIR;
    process.env.CPYMEM_CACHE_DIR = CACHE_DIR;
    try {
      // The CLI gives the script the terminal: the Zen of Python is printed to the test's stdout.
      const code = await main(['capture', '--python', PY, '-m', 'this', '--quiet'], io);
      expect(code, io.err).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.CPYMEM_CACHE_DIR;
      else process.env.CPYMEM_CACHE_DIR = saved;
    }
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Recording;
    expect(m.command).toEqual(['-m', 'this']);
    expect(m.markers.at(-1)!.bytes).toBeGreaterThan(0);
  }, 60_000);

  it('detects PYTHONMALLOC=malloc and -X dev replacing the hooks, and says so', async () => {
    const a = await capture(PY, ['-c', 'import cpymem_capture; cpymem_capture.stats("x")'], { out: join(base, 'malloc'), env: { PYTHONMALLOC: 'malloc' } });
    expect(a.code).toBe(0);
    expect(a.err).toContain('PYTHONMALLOC=malloc re-installs the allocators');
    expect(a.err).toContain('allocator hooks were replaced by "malloc"');
    expect(a.manifest!.hooks).toMatchObject({ lost: true, atAttach: false });
    expect(a.manifest!.markers.find((m) => m.label === 'x')).toMatchObject({ hooksInstalled: false, allocator: 'malloc' });
    const b = await capture(PY, ['-X', 'dev', '-c', 'import cpymem_capture; cpymem_capture.stats("x")'], { out: join(base, 'dev') });
    expect(b.code).toBe(0);
    expect(b.err).toContain('-X dev re-installs the allocators');
    expect(b.err).toContain('replaced by "pymalloc_debug"');
    expect(b.manifest!.markers.find((m) => m.label === 'x')).toMatchObject({ hooksInstalled: false, allocator: 'pymalloc_debug' });
    expect(b.manifest!.warnings.join('\n')).toContain('does not describe the run');
  }, 60_000);

  it('says clearly which interpreters it cannot hook, with exit 2', async () => {
    const bad = await capture('/bin/false', ['-c', 'pass'], { out: join(base, 'false') });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^cpymem: cannot capture with \/bin\/false: it failed to describe itself/);
    const missing = await capture(join(base, 'no-such-python'), ['-c', 'pass'], { out: join(base, 'missing') });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no such interpreter');
    // A debug build (Debian's python3.11-dbg here): Py_DEBUG pads every request.
    const dbg = ['/usr/bin/python3-dbg', '/usr/bin/python3.11-dbg'].find((p) => existsSync(p));
    if (dbg) {
      const r = await capture(dbg, ['-c', 'pass'], { out: join(base, 'dbg') });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/cannot capture with .*-dbg: CPython 3\.\d+\.\d+ is a debug build: debug hooks pad every request/);
      expect(existsSync(join(base, 'dbg'))).toBe(false);
    } else {
      console.log('skipped: no debug-build CPython (python3-dbg) installed to check the debug-build refusal');
    }
    for (const minor of ['2.7', '3.7']) {
      const old = pyenvInterpreter(minor);
      if (!old) {
        console.log(`skipped: no CPython ${minor} installed to check the version refusal`);
        continue;
      }
      const r = await capture(old.exe, ['-c', 'pass'], { out: join(base, `old-${minor}`) });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(minor === '2.7' ? /cannot capture with .*python2\.7: / : /CPython 3\.7\.\d+ is not supported \(capture supports 3\.8–3\.13\)/);
      expect(existsSync(join(base, `old-${minor}`))).toBe(false);
    }
  }, 60_000);
});
