// gc.DEBUG_STATS logs of every CPython 2.7–3.14 (fixtures/gc): the numbers read must be the ones each
// process recorded about itself (gc.get_stats(), its own gc.callbacks counter, the 2.7 sentinel),
// whole or read in 7-character chunks; hand-made damage (fixtures/bad/handmade-gc-*, derived from
// real logs by fixtures/gen/gc_mangle.py) must give those numbers or a counted warning on the right line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { GcDebugStatsReader, parseGcDebugStats, sniffGcDebugStats } from '../../src/ingest/gc-debug-stats.js';
import { sniffGcCallbacks } from '../../src/ingest/gc-callbacks.js';
import { sniffFormat } from '../../src/ingest/index.js';
import { InputError } from '../../src/util/errors.js';
import { memoryIo } from '../../src/util/io.js';
import { FIXTURES, ROOT } from '../helpers/fixtures.js';
import { expectedTotals, gcFixtures, isIncremental, perGeneration, type GcTruth, type PerGeneration } from '../helpers/gc-fixtures.js';

const fixtures = gcFixtures();
const LOGS = ['debug-stats.txt', 'debug-collectable.txt'] as const;

function expectedRange(truth: GcTruth): string {
  const [major, minor] = truth.python.version_info;
  if (major === 2) return '2.7';
  if (minor <= 6) return '<=3.6';
  if (minor === 7) return '3.7';
  return '>=3.8';
}

function checkTotals(got: PerGeneration, truth: GcTruth, file: string, minus?: PerGeneration): void {
  const t = truth.files[file]!;
  const { exact, statsCollections } = expectedTotals(t, truth, minus);
  if (exact.collections) expect(got.collections).toEqual(exact.collections);
  if (exact.collected) expect(got.collected).toEqual(exact.collected);
  if (exact.uncollectable) expect(got.uncollectable).toEqual(exact.uncollectable);
  if (statsCollections && isIncremental(truth)) {
    // generations 0 and 2 exactly; generation 1: every increment is logged, get_stats() counts
    // only those past the marking phase
    expect([got.collections[0], got.collections[2]]).toEqual([statsCollections[0], statsCollections[2]]);
    expect(got.collections[1]).toBeGreaterThanOrEqual(statsCollections[1]!);
  }
  expect(exact.collections ?? exact.collected).toBeDefined();
}

describe('gc.DEBUG_STATS logs of real interpreters', () => {
  it('has a fixture for every interpreter', () => {
    expect(fixtures.map((f) => f.name)).toEqual(
      expect.arrayContaining(['2.7.18-linux-x86_64', '3.6.15-linux-x86_64', '3.7.16-linux-x86_64', '3.12.1-linux-x86_64', '3.13.0-linux-x86_64', '3.14.2-wasm32-emscripten']),
    );
    expect(fixtures.length).toBeGreaterThanOrEqual(13);
  });

  for (const f of fixtures) {
    for (const file of LOGS) {
      const path = join(f.dir, file);
      const text = readFileSync(path, 'utf8');
      const t = f.truth.files[file]!;

      it(`${f.name}/${file}: per-generation collections, collected and uncollectable are CPython's`, () => {
        expect(sniffGcDebugStats(text)).toBe(true);
        expect(sniffGcCallbacks(text)).toBe(false);
        expect(sniffFormat(text)).toBe('gc-debug-stats');
        const { log, lines } = parseGcDebugStats(text, { file });
        expect(log.warnings).toEqual([]);
        expect(lines).toBe(t.lines);
        checkTotals(perGeneration(log.collections), f.truth, file);
        expect(log.versionRange).toBe(expectedRange(f.truth));
        // every gc.collect(g) call's return value (collected + uncollectable) is one collection's unreachable count
        for (const [g, n] of t.explicit) expect(log.collections.some((c) => c.generation === g && c.unreachable === n)).toBe(true);
        const permanent = f.truth.python.version_info[0] === 3 && f.truth.python.version_info[1] >= 7;
        for (const c of log.collections) {
          expect(c.truncated).toBeUndefined();
          expect(c.objects).toHaveLength(3);
          expect(c.permanent !== undefined).toBe(permanent);
          expect(c.elapsedSeconds).toBeGreaterThanOrEqual(0);
          expect(c.collected).toBe(c.unreachable! - c.uncollectable!);
        }
      });

      if (t.freeze_count !== null) {
        it(`${f.name}/${file}: the first collection after gc.freeze() prints the freeze count as its permanent generation`, () => {
          const { log } = parseGcDebugStats(text);
          const at = text.split('\n').findIndex((l) => l.includes('gc.freeze() moved')) + 1;
          expect(at).toBeGreaterThan(0);
          const next = log.collections.find((c) => c.line! > at)!;
          expect(next.permanent).toBe(t.freeze_count);
        });
      }

      it(`${f.name}/${file}: reading in 7-character chunks gives the same log`, () => {
        const whole = parseGcDebugStats(text, { file });
        const reader = new GcDebugStatsReader({ file });
        for (let i = 0; i < text.length; i += 7) reader.push(text.slice(i, i + 7));
        expect(reader.end()).toEqual(whole);
      });
    }

    const collectable = f.truth.files['debug-collectable.txt']!;
    it(`${f.name}/debug-collectable.txt: object lines per type match what gc.garbage held (DEBUG_SAVEALL)`, () => {
      const { log } = parseGcDebugStats(readFileSync(join(f.dir, 'debug-collectable.txt'), 'utf8'));
      const types = collectable.garbage_types!;
      expect(log.collectable.Node ?? 0).toBe(types.Node);
      expect(log.uncollectableObjects.Legacy ?? 0).toBe(types.Legacy);
      expect(log.collectable.OldStyle ?? 0).toBe(types.OldStyle);
      const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
      const totals = perGeneration(log.collections);
      const total = (a: number[]) => a.reduce((x, y) => x + y, 0);
      // CPython prints one line per object it counts as uncollectable (and, with no weakref
      // callbacks in the way, per object it counts as collected: the 2.7 sentinel is one)
      expect(sum(log.uncollectableObjects)).toBe(total(totals.uncollectable));
      if (f.truth.python.version_info[0] === 3) expect(sum(log.collectable)).toBe(total(totals.collected));
      // The shutdown ResourceWarning: not in Python 2, not in pyodide (never finalized), and lost by
      // 3.7/3.8, which write it into stderr's block buffer after its last flush (the fixtures ran
      // without PYTHONUNBUFFERED, stderr a file; 3.9+ line-buffer stderr).
      const [major, minor] = f.truth.python.version_info;
      const printed = major === 3 && f.truth.python.platform !== 'emscripten' && minor !== 7 && minor !== 8;
      expect(log.uncollectableAtShutdown).toBe(printed ? collectable.garbage_len : undefined);
    });
  }

  it('program output cut by a collection: the gc line is read from the middle of the line', () => {
    const f = fixtures.find((x) => x.name.startsWith('3.11.7'))!;
    const text = readFileSync(join(f.dir, 'debug-stats.txt'), 'utf8');
    const lines = text.split('\n');
    const i = lines.findIndex((l) => /^gc-demo: saving checkpoint \d+\.\.\. gc: collecting generation \d\.\.\.$/.test(l));
    expect(i).toBeGreaterThanOrEqual(0);
    const { log } = parseGcDebugStats(text);
    expect(log.collections.some((c) => c.line === i + 1)).toBe(true);
  });
});

// ---- hand-made damage -------------------------------------------------------------------------

interface Entry {
  source: string | null;
  format: 'gc-debug-stats' | 'gc-callbacks' | null;
  mangling: string;
  expect: 'same-numbers' | 'warnings' | 'not-a-log';
  warnings: { code: string; line: number }[];
  removed: PerGeneration;
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, 'bad', 'handmade-gc-manifest.json'), 'utf8')) as { files: Record<string, Entry> };
const truthOf = (source: string) => {
  const dir = join(ROOT, source, '..');
  return { truth: JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8')) as GcTruth, file: source.split('/').pop()! };
};

async function cli(...argv: string[]) {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('gc.DEBUG_STATS logs as humans paste them, and damaged', () => {
  const entries = Object.entries(manifest.files).filter(([, e]) => e.format !== 'gc-callbacks');
  it('has the hand-made variants', () => {
    expect(entries.length).toBeGreaterThanOrEqual(10);
  });

  for (const [name, e] of entries) {
    const path = join(FIXTURES, 'bad', name);
    const text = readFileSync(path, 'utf8');
    if (e.expect === 'not-a-log') {
      it(`${name}: not a log (${e.mangling})`, async () => {
        expect(sniffGcDebugStats(text)).toBe(false);
        expect(() => parseGcDebugStats(text, { file: name })).toThrow(InputError);
        const { code, err } = await cli('inspect', path);
        expect(code).toBe(2);
        expect(err).toContain(`${path}:1:`);
      });
      continue;
    }
    it(`${name}: ${e.expect} (${e.mangling.slice(0, 80)})`, () => {
      const { truth, file } = truthOf(e.source!);
      expect(sniffGcDebugStats(text)).toBe(true);
      const { log } = parseGcDebugStats(text, { file: name });
      expect(log.warnings.map((w) => ({ code: w.code, line: w.line })).sort((a, b) => a.line! - b.line!)).toEqual(e.warnings);
      checkTotals(perGeneration(log.collections), truth, file, e.removed);
      // the same collections as the source, line numbers aside (and the times a prefix's stamp
      // gives: one constant stamp on every line, so all 0), when nothing was removed
      if (e.expect === 'same-numbers') {
        const src = parseGcDebugStats(readFileSync(join(ROOT, e.source!), 'utf8')).log;
        for (const c of log.collections) if (c.timeSeconds !== undefined) expect(c.timeSeconds).toBe(0);
        const strip = (cs: typeof log.collections) => cs.map(({ line: _line, timeSeconds: _t, ...c }) => c);
        expect(strip(log.collections)).toEqual(strip(src.collections));
        expect(log.collectable).toEqual(src.collectable);
        expect(log.uncollectableAtShutdown).toBe(src.uncollectableAtShutdown);
      }
    });
    if (e.warnings.length) {
      // the first warning met while reading (a truncation is only known at the end)
      const first = parseGcDebugStats(text).log.warnings[0]!;
      it(`${name}: --strict makes the first warning fatal, naming file and line ${first.line}`, async () => {
        expect(() => parseGcDebugStats(text, { file: name, strict: true })).toThrow(new RegExp(`^${name}:${first.line}: .*${first.code}`));
        const { code, err } = await cli('inspect', path, '--strict');
        expect(code).toBe(2);
        expect(err).toContain(`${path}:${first.line}: `);
      });
    }
  }

  it('a chunked read of every variant equals the whole read', () => {
    for (const [name] of entries) {
      const text = readFileSync(join(FIXTURES, 'bad', name), 'utf8');
      let whole: unknown;
      try {
        whole = parseGcDebugStats(text);
      } catch (err) {
        whole = err;
      }
      const reader = new GcDebugStatsReader();
      for (let i = 0; i < text.length; i += 7) reader.push(text.slice(i, i + 7));
      let chunked: unknown;
      try {
        chunked = reader.end();
      } catch (err) {
        chunked = err;
      }
      expect(chunked).toEqual(whole);
    }
  });
});

describe('cpymem inspect of a gc.DEBUG_STATS log', () => {
  const f = fixtures.find((x) => x.name.startsWith('3.12.1'))!;
  const path = join(f.dir, 'debug-stats.txt');
  const cb = f.truth.files['debug-stats.txt']!.callbacks!;

  it('--json: schema 1, the collections and per-generation totals CPython recorded', async () => {
    const { code, out } = await cli('inspect', path, '--json');
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json.schema).toBe(1);
    expect(json.format).toBe('gc-debug-stats');
    expect(json.versionRange).toBe('>=3.8');
    expect(json.collections[0]).toMatchObject({ generation: expect.any(Number), objects: expect.any(Array), permanent: expect.any(Number), unreachable: expect.any(Number), collected: expect.any(Number), uncollectable: expect.any(Number), elapsedSeconds: expect.any(Number), line: expect.any(Number) });
    expect(json.totals.map((g: { collections: number }) => g.collections)).toEqual(cb.collections);
    expect(json.totals.map((g: { collected: number }) => g.collected)).toEqual(cb.collected);
    expect(json.totals.map((g: { uncollectable: number }) => g.uncollectable)).toEqual(cb.uncollectable);
    expect(json.totals[0].elapsedSeconds).toBeGreaterThan(0);
    expect(json.uncollectableAtShutdown).toBe(f.truth.files['debug-stats.txt']!.garbage_len);
    expect(json.warnings).toEqual([]);
  });

  it('prints a short summary by default', async () => {
    const { code, out } = await cli('inspect', path);
    expect(code).toBe(0);
    expect(out).toContain('gc.set_debug(gc.DEBUG_STATS) output (CPython >=3.8)');
    expect(out).toContain(`generation 2: ${cb.collections[2]} collections`);
    expect(out).toContain('warnings: none');
  });

  it('--format text is a usage error', async () => {
    const { code } = await cli('inspect', path, '--format', 'text');
    expect(code).toBe(2);
  });
});

// gc.set_debug(gc.DEBUG_LEAK) is COLLECTABLE | UNCOLLECTABLE | SAVEALL, without DEBUG_STATS: such a
// log (PyMOTW's gc examples, many pasted ones) holds the object lines and no collection lines.
describe('a log of the object lines alone (DEBUG_LEAK / DEBUG_COLLECTABLE without DEBUG_STATS)', () => {
  for (const src of ['fixtures/gc/3.6.15-linux-x86_64/debug-collectable.txt', 'fixtures/gc/2.7.18-linux-x86_64/debug-collectable.txt']) {
    const text = readFileSync(join(ROOT, src), 'utf8');
    const stats = /gc: (?:collecting generation|objects in |done, )/;
    const leakOnly = text.split('\n').filter((l) => !stats.test(l)).join('\n');
    it(`${src}, its DEBUG_STATS lines removed: sniffed and read, the objects counted as in the whole log`, () => {
      expect(leakOnly).toMatch(/gc: (?:un)?collectable </);
      expect(sniffGcDebugStats(leakOnly)).toBe(true);
      expect(sniffFormat(leakOnly)).toBe('gc-debug-stats');
      const whole = parseGcDebugStats(text).log;
      const { log } = parseGcDebugStats(leakOnly);
      expect(log.collections).toEqual([]);
      expect(log.warnings).toEqual([]);
      expect(log.collectable).toEqual(whole.collectable);
      expect(log.uncollectableObjects).toEqual(whole.uncollectableObjects);
      expect(Object.keys(log.collectable).length).toBeGreaterThan(0);
    });
  }
});

describe('a log holding only the shutdown ResourceWarning (a test run with gc.garbage left over)', () => {
  const src = 'fixtures/gc/3.12.1-linux-x86_64/debug-stats.txt';
  const text = readFileSync(join(ROOT, src), 'utf8');
  const warning = text.split('\n').filter((l) => l.includes('uncollectable objects at shutdown'));
  const paste = ['===== 24 passed in 3.21s =====', ...warning, ''].join('\n');
  it(`${src}, all but its ResourceWarning line removed: sniffed, and the count read`, () => {
    expect(warning).toHaveLength(1);
    expect(sniffFormat(paste)).toBe('gc-debug-stats');
    const { log } = parseGcDebugStats(paste);
    expect(log.collections).toEqual([]);
    expect(log.warnings).toEqual([]);
    expect(log.uncollectableAtShutdown).toBe(parseGcDebugStats(text).log.uncollectableAtShutdown);
    expect(log.uncollectableAtShutdown).toBeGreaterThan(0);
  });
});

// CPython 3.14.0's incremental collector printed no done line (python/cpython gh-140358; 3.14.1
// printed it again). The real 3.14.2 log without its done lines is what 3.14.0 prints.
describe('a 3.14.0 log: no "gc: done" lines', () => {
  const dir = join(FIXTURES, 'gc', '3.14.2-wasm32-emscripten');
  const truth = JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8')) as GcTruth;
  const text = readFileSync(join(dir, 'debug-stats.txt'), 'utf8');
  const noDone = text.split('\n').filter((l) => !l.startsWith('gc: done, ')).join('\n');
  it('every collection is complete and counted per generation as the callbacks counted them, with no warning', () => {
    expect(noDone).not.toContain('gc: done');
    const { log } = parseGcDebugStats(noDone);
    expect(log.warnings).toEqual([]);
    expect(log.versionRange).toBe('3.14.0');
    const cb = truth.files['debug-stats.txt']!.callbacks!;
    expect([0, 1, 2].map((g) => log.collections.filter((c) => c.generation === g).length)).toEqual(cb.collections);
    expect(log.collections.every((c) => !c.truncated && c.unreachable === undefined && c.permanent !== undefined)).toBe(true);
  });

  it('a log that prints done lines still flags a collection without one', () => {
    const lines = text.split('\n');
    const firstDone = lines.findIndex((l) => l.startsWith('gc: done, '));
    const cut = [...lines.slice(0, firstDone), ...lines.slice(firstDone + 1)].join('\n');
    const { log } = parseGcDebugStats(cut);
    expect(log.warnings.map((w) => w.code)).toEqual(['W_GC_TRUNCATED']);
    expect(log.versionRange).toBe('>=3.8');
  });

  it('the last collection of a 3.14.0 log cut before its permanent line is truncated', () => {
    const lines = noDone.trimEnd().split('\n');
    const lastStart = lines.map((l) => l.startsWith('gc: collecting generation')).lastIndexOf(true);
    const { log } = parseGcDebugStats(lines.slice(0, lastStart + 2).join('\n'));
    expect(log.collections.at(-1)!.truncated).toBe(true);
    expect(log.warnings.map((w) => w.code)).toEqual(['W_GC_TRUNCATED']);
  });
});
