// gc.DEBUG_STATS output as log collectors store it, each line stamped on arrival
// (fixtures/gc-timestamped, fixtures/gen/gc_timestamped.py): the stamps give the log a span, the
// collections times and a rate, while the numbers stay CPython's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInputFile } from '../../src/ingest/index.js';
import { lineTime } from '../../src/ingest/line-time.js';
import { summariseGc } from '../../src/analysis/gc-stats.js';
import { FIXTURES } from '../helpers/fixtures.js';

const dir = join(FIXTURES, 'gc-timestamped', '3.11.7-linux-x86_64');
const truth = JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8')) as {
  callbacks: { collections: number[]; collected: number[]; uncollectable: number[] };
  stamps: { firstLineNs: number; lastLineNs: number };
};
const spanNs = Number(BigInt(truth.stamps.lastLineNs) - BigInt(truth.stamps.firstLineNs));

function read(name: string) {
  const input = readInputFile(join(dir, name));
  if (input.format !== 'gc-debug-stats') throw new Error(`read as ${input.format}`);
  return input.log;
}

describe('DEBUG_STATS lines behind log-collector stamps', () => {
  for (const name of ['docker.log', 'journal.log', 'logging.log']) {
    it(`${name}: the collections are CPython's own count`, () => {
      const log = read(name);
      const s = summariseGc(log.collections);
      expect(s.generations.map((g) => g.collections)).toEqual(truth.callbacks.collections);
      expect(s.generations.map((g) => g.collected)).toEqual(truth.callbacks.collected);
      expect(s.generations.map((g) => g.uncollectable)).toEqual(truth.callbacks.uncollectable);
      expect(log.warnings).toEqual([]);
    });
  }

  it('docker.log (RFC 3339, ns): the span is the first to the last stamp the collector wrote', () => {
    const log = read('docker.log');
    expect(log.durationSeconds).toBeCloseTo(spanNs / 1e9, 6);
    const times = log.collections.map((c) => c.timeSeconds!);
    expect(times[0]).toBe(0); // the first line is a collection
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    expect(times.at(-1)!).toBeLessThanOrEqual(log.durationSeconds!);
    const s = summariseGc(log.collections, { durationSeconds: log.durationSeconds });
    const rate = (truth.callbacks.collections.reduce((a, b) => a + b, 0) * 60e9) / spanNs;
    expect(Math.abs(s.all.collectionsPerMinute! / rate - 1)).toBeLessThan(1e-5); // stamps are ns, epoch seconds in a double
  });

  it('logging.log (milliseconds) within a millisecond; journal.log (whole seconds) in whole seconds, none within one second', () => {
    expect(Math.abs(read('logging.log').durationSeconds! - spanNs / 1e9)).toBeLessThanOrEqual(0.001);
    const seconds = Number(BigInt(truth.stamps.lastLineNs) / 1_000_000_000n - BigInt(truth.stamps.firstLineNs) / 1_000_000_000n);
    expect(read('journal.log').durationSeconds).toBe(seconds === 0 ? undefined : seconds);
  });
});

describe('lineTime', () => {
  it('reads the collectors’ layouts, zones applied; nothing from lines without a stamp', () => {
    const z = lineTime('2026-11-25T12:00:01Z gc: done')!;
    expect(lineTime('2026-11-25T12:00:01.5Z x')! - z).toBeCloseTo(0.5, 9);
    expect(lineTime('2026-11-25T13:00:01+01:00 x')).toBe(z);
    expect(lineTime('2026-11-25T07:00:01-0500 x')).toBe(z);
    expect(lineTime('2026-11-25 12:00:01,250 INFO x')! - z).toBeCloseTo(0.25, 9);
    expect(lineTime('[2026-11-25 12:00:01] x')).toBe(z);
    expect(lineTime('Nov 25 12:00:02 host python3[1]: gc: x')! - lineTime('Nov 25 12:00:01 host python3[1]: x')!).toBe(1);
    expect(lineTime('Nov  5 12:00:01.250000 host x')! - lineTime('Nov  5 12:00:01 host x')!).toBeCloseTo(0.25, 9);
    expect(lineTime('gc: collecting generation 0...')).toBeUndefined();
    expect(lineTime('12:00:01 gc: x')).toBeUndefined();
  });
});
