// The snapshot reader against real Snapshot.dump() files of CPython 3.6–3.13 and pyodide 3.11–3.14
// (numbers from the interpreter that wrote them, fixtures/tracemalloc/*/truth.json), pickles of
// every protocol CPython writes, chunk boundaries anywhere, truncation at every byte, and the
// hand-made hostile pickles of fixtures/bad (fixtures/gen/tracemalloc_bad.py).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { parseTracemallocPickle, TracemallocPickleReader } from '../../src/ingest/tracemalloc-pickle.js';
import type { TracemallocSnapshot } from '../../src/model/types.js';
import { InputError } from '../../src/util/errors.js';
import { memoryIo } from '../../src/util/io.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { PickleWriter, writeSnapshot } from '../helpers/pickle-writer.js';
import { GEN, tracemallocFixtures } from '../helpers/tracemalloc-fixtures.js';

const fixtures = tracemallocFixtures();

/** What the snapshot holds, independent of interning order. */
function digest(s: TracemallocSnapshot) {
  return {
    traces: s.traces,
    size: s.size,
    limit: s.tracebackLimit,
    fields: s.traceFields,
    groups: s.groups
      .map((g) => `${g.domain}|${g.size}|${g.count}|${g.traceback.frames.map((f) => `${f.filename}:${f.lineno}`).join(',')}`)
      .sort(),
  };
}

function pushInChunks(bytes: Uint8Array, size: number) {
  const r = new TracemallocPickleReader();
  for (let i = 0; i < bytes.length; i += size) r.push(bytes.slice(i, i + size));
  return r.end();
}

describe('Snapshot.dump() files of real CPythons', () => {
  for (const f of fixtures) {
    for (const [key, truth] of Object.entries(f.truth.snapshots)) {
      it(`${f.name} snapshot ${key}: the numbers its interpreter counted`, () => {
        const { snapshot: s, warnings } = parseTracemallocPickle(readFileSync(join(f.dir, truth.file)));
        expect(warnings).toEqual([]);
        expect(s.traces).toBe(truth.traces);
        expect(s.size).toBe(truth.size);
        expect(s.tracebackLimit).toBe(truth.traceback_limit);
        expect(s.traceFields).toBe(truth.trace_fields);
        expect(s.domains.map((d) => [d.domain, d.traces])).toEqual(truth.domains);
        expect(s.tracebacks).toBe(truth.distinct_tracebacks);
        expect(s.maxFrames).toBe(truth.max_frames);
        expect(s.totalNframe?.max ?? null).toBe(truth.max_total_nframe);
        expect(s.source.protocol).toBe(f.truth.python.version_info[1] >= 8 ? 5 : 4);
      });
    }
    if (f.truth.protocols.length) {
      it(`${f.name}: the same snapshot pickled with protocols ${f.truth.protocols.map((p) => p.protocol).join(', ')} reads the same`, () => {
        const all = f.truth.protocols.map((p) => parseTracemallocPickle(readFileSync(join(f.dir, p.file))).snapshot);
        all.forEach((s, i) => expect(s.source.protocol).toBe(f.truth.protocols[i]!.protocol));
        for (const s of all) expect(digest(s)).toEqual(digest(all[0]!));
      });
    }
  }

  it('reads the same at any chunk boundary', () => {
    for (const f of fixtures.filter((x) => x.truth.set === 'full')) {
      const bytes = readFileSync(join(f.dir, f.truth.snapshots.B!.file));
      const whole = digest(parseTracemallocPickle(bytes).snapshot);
      for (const size of [1, 2, 3, 7, 64, 1000, 4096]) expect(digest(pushInChunks(bytes, size).snapshot)).toEqual(whole);
    }
  });
});

describe('damaged and hostile pickles: exit 2 with the byte offset, never a hang or a crash', () => {
  const small = fixtures.filter((f) => f.truth.protocols.length);
  for (const f of small) {
    for (const p of f.truth.protocols.filter((x) => x.protocol === 2 || x.protocol === 5)) {
      it(`${f.name} ${p.file} cut at every byte`, () => {
        const bytes = readFileSync(join(f.dir, p.file));
        for (let n = 0; n < bytes.length; n++) {
          let err: unknown;
          try {
            pushInChunks(bytes.subarray(0, n), n % 5 === 0 ? 1 : 4096);
          } catch (e) {
            err = e;
          }
          expect(err, `cut at ${n}`).toBeInstanceOf(InputError);
          const e = err as InputError;
          expect(e.exitCode).toBe(2);
          expect(e.where.offset).toBeGreaterThanOrEqual(0);
          expect(e.where.offset).toBeLessThanOrEqual(n);
        }
      });
    }
  }

  const manifest = JSON.parse(readFileSync(join(FIXTURES, 'bad', 'handmade-pickles.json'), 'utf8')) as {
    files: Record<string, { what: string; expect: string; offset: number | null }>;
  };
  for (const [name, m] of Object.entries(manifest.files)) {
    it(`${name}: ${m.what}`, async () => {
      const io = memoryIo();
      const t0 = Date.now();
      const code = await main(['inspect', join(FIXTURES, 'bad', name), '--json'], io);
      expect(Date.now() - t0).toBeLessThan(10_000);
      if (m.expect === 'ok-with-warning') {
        expect(code).toBe(0);
        expect(JSON.parse(io.out).warnings.map((w: { code: string }) => w.code)).toContain('trailing-bytes');
        return;
      }
      expect(code).toBe(2);
      expect(io.err).toMatch(/^cpymem: .*handmade-.*\.pickle: byte \d+: expected /);
      if (m.offset !== null) expect(io.err).toContain(`: byte ${m.offset}: `);
      let err: unknown;
      try {
        parseTracemallocPickle(readFileSync(join(FIXTURES, 'bad', name)));
      } catch (e) {
        err = e;
      }
      expect((err as InputError).code).toBe(m.expect);
    });
  }

  it('a BINGET of a trace tuple (which cpymem does not keep) is named as such', () => {
    const w = new PickleWriter().byte(0x80, 4);
    w.global('_Traces').byte(0x29, 0x81).byte(0x7d).str('_traces').byte(0x5d, 0x28);
    w.byte(0x28).int(0).int(32).str('a.py').int(1).byte(0x86, 0x85).int(1).byte(0x74);
    const m = w.memoize();
    w.get(m).byte(0x65, 0x73, 0x62, 0x2e);
    expect(() => parseTracemallocPickle(w.bytes())).toThrow(/found one to a trace tuple/);
  });
});

describe('snapshot shapes CPython cannot be asked to write here (written from real trace groups)', () => {
  const f36 = fixtures.find((f) => f.minor === '3.6')!;
  const f311 = fixtures.find((f) => f.name.startsWith('3.11.7'))!;
  const groups = (f: typeof f36) => parseTracemallocPickle(readFileSync(join(f.dir, f.truth.snapshots.B!.file))).snapshot.groups;
  const top = async (bytes: Uint8Array, ...args: string[]) => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'cpymem-pickle-')), 's.pickle');
    writeFileSync(path, bytes);
    const io = memoryIo(GEN);
    const code = await main(['top', path, '--quiet', ...args], io);
    expect(io.err).toBe('');
    expect(code).toBe(0);
    return io.out;
  };
  const expected = (f: typeof f36, file: string) => readFileSync(join(f.dir, file), 'utf8');

  it('3.4–3.5 traces (size, traceback) print as 3.6 printed the same traces', async () => {
    const bytes = writeSnapshot(groups(f36), 10, { fields: 2 });
    const s = parseTracemallocPickle(bytes).snapshot;
    expect(s.traceFields).toBe(2);
    expect(await top(bytes, '--python', '3.5', '--limit', '0')).toBe(expected(f36, 'stats-B-lineno.txt'));
    expect(await top(bytes, '--python', '3.4', '--group-by', 'traceback', '--limit', '6', '--no-source')).toBe(expected(f36, 'stats-B-traceback-6-nosource.txt'));
  });

  it('Trace, Traceback and Frame objects and a REDUCE-built Snapshot print as the raw tuples do', async () => {
    const g = groups(f311);
    for (const style of [
      { fields: 4 as const, traceObjects: true },
      { fields: 4 as const, tracebackObjects: true, frameObjects: true },
      { fields: 4 as const, reduce: true, traceObjects: true, tracebackObjects: true },
    ]) {
      const bytes = writeSnapshot(g, 10, style);
      expect(await top(bytes, '--limit', '0')).toBe(expected(f311, 'stats-B-lineno.txt'));
      expect(await top(bytes, '--group-by', 'traceback', '--limit', '6', '--no-source')).toBe(expected(f311, 'stats-B-traceback-6-nosource.txt'));
    }
  });

  it('a pickled list of traces is a snapshot without traceback_limit', () => {
    const s = parseTracemallocPickle(writeSnapshot(groups(f311), 10, { fields: 4, traceObjects: true, top: 'list' })).snapshot;
    expect(s.source.container).toBe('list');
    expect(s.tracebackLimit).toBeNull();
    expect(s.traces).toBe(f311.truth.snapshots.B!.traces);
    expect(s.size).toBe(f311.truth.snapshots.B!.size);
  });
});
