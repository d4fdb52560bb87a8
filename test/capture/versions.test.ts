// A real capture on every CPython 3.8–3.13 installed: threads, a fork, count markers, script markers
// and collections, checked against what CPython itself printed and returned.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, Recording } from '../../src/model/types.js';
import { MINORS, capture, checkConsistency, printedValue, pyenvInterpreter, readEvents, scratch, writeScript } from './helpers.js';

// Runs under every version (3.8 syntax). Prints one JSON line of what CPython returned.
const WORKLOAD = `
import gc, json, os, sys, threading
import cpymem_capture

out = {"threshold": gc.get_threshold()[0]}
keep = [(i, str(i)) for i in range(20000)]
out["m_built"] = cpymem_capture.stats("built")

# Forks come before the threads: 3.12+ warns on stderr about fork() in a process whose (joined)
# threads the OS may not have reaped yet.
pid = os.fork()
if pid == 0:
    junk = [str(i) * 2 for i in range(30000)]
    print("child stats", cpymem_capture.stats("child"), "capturing", cpymem_capture.capturing(), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
pid = os.fork()
if pid == 0:
    junk = [str(i) for i in range(30000)]
    sys.exit(0)  # a normal exit in the child: atexit handlers and destructors run there
os.waitpid(pid, 0)

def work(k, sink):
    for r in range(5):
        items = [(k, i & 255, str(i)) for i in range(800)]
        sink.append(items[::40])
        del items

sinks = [[] for _ in range(3)]
threads = [threading.Thread(target=work, args=(k, sinks[k])) for k in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
out["m_threads"] = cpymem_capture.stats("threads")
del sinks


class Node:
    pass
for i in range(200):
    n = Node()
    n.me = n
del n
out["collected"] = gc.collect()
del keep[::2]
out["m_end"] = cpymem_capture.stats("end")
print(json.dumps(out), flush=True)
`;

for (const minor of MINORS) {
  const py = pyenvInterpreter(minor);
  describe.skipIf(!py)(`cpymem capture on CPython ${py?.version ?? `${minor} (not installed)`}`, () => {
    let base: string;
    let manifest: Recording;
    let events: Event[];
    let printed: { threshold: number; collected: number; m_built: number; m_threads: number; m_end: number };
    let stdout: string;

    beforeAll(async () => {
      if (!py) return;
      base = scratch();
      const script = writeScript(base, 'workload.py', WORKLOAD);
      const r = await capture(py.exe, [script], { out: join(base, 'bundle'), statsAt: '30000', statsEvery: 150000, cwd: base });
      stdout = r.out;
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      manifest = r.manifest!;
      events = await readEvents(r.dir);
      printed = JSON.parse(r.out.trim().split('\n').at(-1)!);
    }, 120_000);

    afterAll(() => {
      if (base) rmSync(base, { recursive: true, force: true });
    });

    it('records every MEM/OBJ call without loss: no unknown frees, the live count is sys.getallocatedblocks() at every dump', () => {
      expect(manifest.python.version).toBe(py!.version);
      expect(manifest.warnings).toEqual([]);
      expect(manifest.hooks).toMatchObject({ helperAttached: true, atAttach: true, atEnd: true, lost: false });
      const c = checkConsistency(events);
      expect(c.errors).toEqual([]);
      expect(c.liveAtStats).toHaveLength(manifest.markers.length);
      manifest.markers.forEach((m, i) => {
        // What CPython returned in C just before and just after the dump.
        expect(m.allocatedBlocksBefore, `marker ${i} (${m.reason})`).not.toBeNull();
        expect(m.allocatedBlocksAfter).toBe(m.allocatedBlocksBefore);
        expect(c.liveAtStats[i], `marker ${i} (${m.reason})`).toBe(m.allocatedBlocksBefore);
        expect(events[m.record]!.op).toBe('stats');
      });
    });

    it('takes real dumps at count, script, atexit (and on 3.8–3.11 after-finalisation) markers', () => {
      const reasons = manifest.markers.map((m) => `${m.reason}:${m.label ?? ''}`);
      expect(reasons).toContain('at:');
      expect(reasons).toContain('every:');
      expect(reasons.filter((r) => r.startsWith('script:'))).toEqual(['script:built', 'script:threads', 'script:end']);
      expect(reasons).toContain('atexit:atexit');
      expect(reasons.includes('exit:exit')).toBe(manifest.recorder.exitDump === 'after-finalize');
      expect(manifest.markers.find((m) => m.reason === 'at')!.calls).toBe(30000);
      for (const m of manifest.markers.filter((x) => x.reason === 'every')) expect(m.calls % 150000).toBe(0);
      // The indexes the script got back from cpymem_capture.stats().
      const byLabel = Object.fromEntries(manifest.markers.map((m) => [m.label, m.index]));
      expect([printed.m_built, printed.m_threads, printed.m_end]).toEqual([byLabel.built, byLabel.threads, byLabel.end]);
      let liveArenas = 0;
      let next = 0;
      events.forEach((e) => {
        if (e.op === 'arena_alloc' && e.nested) liveArenas++;
        if (e.op === 'arena_free' && e.nested) liveArenas--;
        if (e.op !== 'stats') return;
        const m = manifest.markers[next++]!;
        const dump = readFileSync(join(base, 'bundle', m.file!), 'utf8');
        expect(dump).toContain('Small block threshold');
        expect(m.hooksInstalled).toBe(true);
        // CPython's own count of arenas equals the pymalloc arenas the log allocated and freed.
        expect(printedValue(dump, '# arenas allocated current'), `marker ${m.index} (${m.reason})`).toBe(liveArenas);
      });
    });

    it('keeps the parent log whole across fork: the children record nothing and stats() is None there', () => {
      expect(stdout).toContain('child stats None capturing False');
      expect(manifest.markers.some((m) => m.label === 'child')).toBe(false);
      expect(manifest.exit).toMatchObject({ status: 0, path: 'exit', finalized: true });
    });

    it('records the threads with one global order', () => {
      const c = checkConsistency(events);
      expect(c.perThread.size).toBeGreaterThanOrEqual(4);
      expect([...c.perThread.values()].reduce((a, b) => a + b, 0)).toBe(events.length);
      expect(manifest.counts.threads).toBe(Math.max(...c.perThread.keys()) + 1);
      expect(manifest.counts.records).toBe(events.length);
    });

    it('logs collections as CPython reported them to gc.callbacks, with the young counter', () => {
      const stops = events.filter((e) => e.op === 'gc_stop');
      const starts = events.filter((e) => e.op === 'gc_start');
      expect(starts.length).toBe(stops.length);
      // gc.collect() returned collected + uncollectable of its (generation 2) collection.
      const full = stops.filter((e) => e.generation === 2);
      expect(full.map((e) => e.collected! + e.uncollectable!)).toContain(printed.collected);
      const gcLines = readFileSync(join(base, 'bundle', 'gc.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(gcLines.length).toBe(starts.length + stops.length);
      expect(gcLines.map((g) => g.record).every((r: number) => events[r]!.op.startsWith('gc_'))).toBe(true);
      if (manifest.recorder.youngCount) {
        // A young collection starts once the count passed CPython's threshold (gc.get_threshold()[0]).
        const young = starts.filter((e) => e.generation === 0);
        expect(young.length).toBeGreaterThan(0);
        for (const e of young) expect(e.young!).toBeGreaterThan(printed.threshold);
        expect(events.filter((e) => e.young !== undefined).length).toBeGreaterThan(events.length * 0.9);
      }
    });
  });
}
