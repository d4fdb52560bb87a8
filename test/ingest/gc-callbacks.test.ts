// gc.callbacks JSON lines: the loggers of fixtures/gc (CPython 3.6–3.14, the documented user format)
// and the gc.jsonl of capture bundles. Per-generation numbers must be what the process recorded
// (its own counting callback, gc.get_stats(), the recorder's manifest), whole or chunked; hand-made
// variants (fixtures/bad/handmade-gc-*.jsonl, from gc_mangle.py) give those numbers or counted warnings.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { GcCallbacksReader, parseGcCallbacks, sniffGcCallbacks } from '../../src/ingest/gc-callbacks.js';
import { sniffGcDebugStats } from '../../src/ingest/gc-debug-stats.js';
import { sniffFormat } from '../../src/ingest/index.js';
import { InputError } from '../../src/util/errors.js';
import { memoryIo } from '../../src/util/io.js';
import { FIXTURES, ROOT } from '../helpers/fixtures.js';
import { expectedTotals, gcFixtures, isIncremental, perGeneration, type GcTruth, type PerGeneration } from '../helpers/gc-fixtures.js';

const fixtures = gcFixtures().filter((f) => f.truth.files['callbacks.jsonl']);

function checkTotals(got: PerGeneration, truth: GcTruth, minus?: PerGeneration): void {
  const t = truth.files['callbacks.jsonl']!;
  const { exact, statsCollections } = expectedTotals(t, truth, minus);
  expect(got.collections).toEqual(exact.collections);
  expect(got.collected).toEqual(exact.collected);
  expect(got.uncollectable).toEqual(exact.uncollectable);
  if (statsCollections && !isIncremental(truth)) expect(got.collections).toEqual(statsCollections);
  if (statsCollections && isIncremental(truth)) expect(got.collections[1]).toBeGreaterThanOrEqual(statsCollections[1]!);
}

function chunked(text: string, size = 7) {
  const reader = new GcCallbacksReader({ file: 'x' });
  for (let i = 0; i < text.length; i += size) reader.push(text.slice(i, i + size));
  return reader.end();
}

async function cli(...argv: string[]) {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('gc.callbacks JSON lines of real interpreters (the documented user format)', () => {
  it('has a callbacks log for every interpreter with gc.callbacks (3.3+)', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
    expect(fixtures.map((f) => f.name)).not.toContain('2.7.18-linux-x86_64');
  });

  for (const f of fixtures) {
    const t = f.truth.files['callbacks.jsonl']!;
    const text = readFileSync(join(f.dir, 'callbacks.jsonl'), 'utf8');
    it(`${f.name}: per-generation collections, collected and uncollectable are CPython's`, () => {
      expect(sniffGcCallbacks(text)).toBe(true);
      expect(sniffGcDebugStats(text)).toBe(false);
      expect(sniffFormat(text)).toBe('gc-callbacks');
      const r = parseGcCallbacks(text, { file: 'callbacks.jsonl' });
      expect(r.log.warnings).toEqual([]);
      expect(r.records).toBe(t.records);
      checkTotals(perGeneration(r.log.collections), f.truth);
      for (const [g, n] of t.explicit) expect(r.log.collections.some((c) => c.generation === g && c.unreachable === n)).toBe(true);
      expect(r.log.durationSeconds).toBeGreaterThan(0);
      let last = -1;
      for (const c of r.log.collections) {
        expect(c.truncated).toBeUndefined();
        expect(c.elapsedSeconds).toBeGreaterThanOrEqual(0);
        expect(c.countsAtStart).toHaveLength(3);
        expect(c.timeSeconds!).toBeGreaterThanOrEqual(last);
        last = c.timeSeconds!;
      }
    });

    it(`${f.name}: reading in 7-character chunks gives the same log`, () => {
      expect(chunked(text)).toEqual(parseGcCallbacks(text, { file: 'x' }));
    });
  }
});

describe('gc.jsonl of capture bundles', () => {
  const bundles: string[] = [];
  const root = join(FIXTURES, 'bundles');
  for (const v of readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory()).sort()) {
    for (const w of readdirSync(join(root, v)).sort()) bundles.push(join(root, v, w));
  }

  it('has bundles', () => {
    expect(bundles.length).toBeGreaterThanOrEqual(6);
  });

  for (const dir of bundles) {
    const name = dir.slice(root.length + 1);
    it(`${name}: completed collections per generation equal the recorder's manifest`, () => {
      const text = readFileSync(join(dir, 'gc.jsonl'), 'utf8');
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { counts: { gcCollections: number[] } };
      expect(sniffGcCallbacks(text)).toBe(true);
      const r = parseGcCallbacks(text, { file: 'gc.jsonl' });
      expect(r.log.warnings).toEqual([]);
      expect(perGeneration(r.log.collections).collections).toEqual(manifest.counts.gcCollections);
      for (const c of r.log.collections) {
        expect(c.record).toEqual(expect.any(Number));
        expect(c.calls).toEqual(expect.any(Number));
        expect(c.thread).toEqual(expect.any(Number));
        expect(c.elapsedSeconds).toBeGreaterThan(0);
      }
      expect(chunked(text)).toEqual(parseGcCallbacks(text, { file: 'x' }));
    });
  }
});

// ---- hand-made variants -------------------------------------------------------------------------

interface Entry {
  source: string;
  format: string | null;
  mangling: string;
  expect: 'same-numbers' | 'warnings';
  warnings: { code: string; line: number }[];
  removed: PerGeneration;
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, 'bad', 'handmade-gc-manifest.json'), 'utf8')) as { files: Record<string, Entry> };

describe('gc.callbacks logs with variants and damage', () => {
  const entries = Object.entries(manifest.files).filter(([, e]) => e.format === 'gc-callbacks');
  it('has the hand-made variants', () => {
    expect(entries.length).toBeGreaterThanOrEqual(5);
  });

  for (const [name, e] of entries) {
    const path = join(FIXTURES, 'bad', name);
    const text = readFileSync(path, 'utf8');
    it(`${name}: ${e.expect} (${e.mangling.slice(0, 80)})`, () => {
      const truth = JSON.parse(readFileSync(join(ROOT, e.source, '..', 'ground-truth.json'), 'utf8')) as GcTruth;
      expect(sniffGcCallbacks(text)).toBe(true);
      const r = parseGcCallbacks(text, { file: name });
      expect(r.log.warnings.map((w) => ({ code: w.code, line: w.line })).sort((a, b) => a.line! - b.line!)).toEqual(e.warnings);
      checkTotals(perGeneration(r.log.collections), truth, e.removed);
      expect(chunked(text)).toEqual(parseGcCallbacks(text, { file: 'x' }));
      if (e.expect === 'same-numbers') {
        // the times survive the renaming: same elapsed times as the source, to the nanosecond
        const src = parseGcCallbacks(readFileSync(join(ROOT, e.source), 'utf8')).log.collections;
        r.log.collections.forEach((c, i) => expect(c.elapsedSeconds).toBeCloseTo(src[i]!.elapsedSeconds!, 8));
      }
    });
    if (e.warnings.length) {
      // the first warning met while reading (a truncation is only known at the end)
      const first = parseGcCallbacks(text).log.warnings[0]!;
      it(`${name}: --strict makes the first warning fatal (${first.code}, line ${first.line}); exit 2 naming file:line`, async () => {
        expect(() => parseGcCallbacks(text, { file: name, strict: true })).toThrow(InputError);
        expect(() => parseGcCallbacks(text, { file: name, strict: true })).toThrow(new RegExp(`^${name}:${first.line}: `));
        const { code, err } = await cli('inspect', path, '--strict');
        expect(code).toBe(2);
        expect(err).toContain(`${path}:${first.line}: `);
      });
    }
  }

  it('a non-JSON line says where and what was expected', () => {
    const r = parseGcCallbacks('{"phase": "start", "generation": 0, "time": 1.0}\nnot json\n{"phase": "stop", "generation": 0, "collected": 3, "uncollectable": 1, "time": 1.5}\n', { file: 'f.jsonl' });
    expect(r.log.warnings).toEqual([{ code: 'W_GC_BAD_JSON', severity: 'warning', line: 2, message: 'expected a JSON object with "phase" ("start" or "stop") and "generation" (an integer), found "not json" (not JSON)' }]);
    expect(r.log.collections).toEqual([{ generation: 0, line: 1, unreachable: 4, collected: 3, uncollectable: 1, elapsedSeconds: 0.5, timeSeconds: 0 }]);
  });

  it('variants: t_ns, timestamp, missing counts, extra keys, bad optional fields', () => {
    const text = [
      '{"phase":"start","generation":2,"t_ns":1000000000,"counts":[5,1,0],"extra":{"a":1}}',
      '{"phase":"stop","generation":2,"collected":10,"uncollectable":0,"t_ns":1250000000,"counts":null}',
      '{"phase":"start","generation":1,"timestamp":2.0,"counts":"x"}',
      '{"phase":"stop","generation":1,"collected":-1,"uncollectable":0,"timestamp":2.5}',
      '',
    ].join('\r\n');
    const r = parseGcCallbacks(text, { file: 'v.jsonl' });
    expect(r.log.collections).toEqual([
      { generation: 2, line: 1, unreachable: 10, collected: 10, uncollectable: 0, elapsedSeconds: 0.25, timeSeconds: 0, countsAtStart: [5, 1, 0] },
      { generation: 1, line: 3, uncollectable: 0, elapsedSeconds: 0.5, timeSeconds: 1 },
    ]);
    expect(r.log.warnings.map((w) => [w.code, w.line])).toEqual([
      ['W_GC_BAD_FIELD', 3],
      ['W_GC_BAD_FIELD', 4],
    ]);
    expect(r.log.durationSeconds).toBe(1.5);
  });

  it('no record at all is an InputError naming the file', () => {
    expect(() => parseGcCallbacks('\n\n', { file: 'e.jsonl' })).toThrow(/^e\.jsonl:1: expected gc\.callbacks JSON lines/);
    expect(sniffGcCallbacks('{"phase": "begin"}\n')).toBe(false);
    expect(sniffGcCallbacks('[1, 2]\n')).toBe(false);
  });

  it('cpymem inspect --json of a callbacks log', async () => {
    const f = fixtures.find((x) => x.name.startsWith('3.13.0'))!;
    const cb = f.truth.files['callbacks.jsonl']!.callbacks!;
    const { code, out } = await cli('inspect', join(f.dir, 'callbacks.jsonl'), '--json');
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json.format).toBe('gc-callbacks');
    expect(json.totals.map((g: { collections: number }) => g.collections)).toEqual(cb.collections);
    expect(json.totals.map((g: { collected: number }) => g.collected)).toEqual(cb.collected);
    expect(json.durationSeconds).toBeGreaterThan(0);
    const summary = await cli('inspect', join(f.dir, 'callbacks.jsonl'));
    expect(summary.out).toContain('gc.callbacks JSON lines (CPython >=3.3)');
    expect(summary.out).toMatch(/generation 0: [\d,]+ collections, .*\/min/);
  });
});
