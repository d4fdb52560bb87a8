// A PYTHONMALLOCSTATS stream as log collectors store it, each line stamped on arrival
// (fixtures/malloc-stats-timestamped, fixtures/gen/malloc_stats_timestamped.py): behind any of the
// three prefixes the dumps are the ones CPython printed, and each carries its first line's stamp.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInputFile } from '../../src/ingest/index.js';
import { buildTimeline } from '../../src/analysis/timeline.js';
import { formatMallocStats } from '../../src/model/malloc-stats-text.js';
import type { MallocStats } from '../../src/model/types.js';
import { FIXTURES } from '../helpers/fixtures.js';

const dir = join(FIXTURES, 'malloc-stats-timestamped', '3.11.7-linux-x86_64');
const truth = JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8')) as { dumps: number; dumpStampsNs: number[] };
// The stamps as written (JSON numbers past 2^53 lose their last digits; the file's text keeps them).
const stampsNs = [...readFileSync(join(dir, 'ground-truth.json'), 'utf8').matchAll(/^\s+(\d{19}),?$/gm)].map((m) => BigInt(m[1]!));
const stderr = readFileSync(join(dir, 'stderr.txt'), 'utf8');

function dumps(name: string): MallocStats[] {
  const input = readInputFile(join(dir, name));
  if (input.format !== 'malloc-stats') throw new Error(`read as ${input.format}`);
  expect(input.warnings).toEqual([]);
  return input.dumps;
}

/** Seconds from the first dump's stamp to each dump's, from the driver's clock cut to `unitNs`. */
function offsets(unitNs: bigint): number[] {
  const first = stampsNs[0]! / unitNs;
  return stampsNs.map((ns) => Number((ns / unitNs - first) * unitNs) / 1e9);
}

describe('PYTHONMALLOCSTATS behind log-collector stamps', () => {
  it('the ground truth lists every dump the stream holds', () => {
    expect(stampsNs.length).toBe(truth.dumps);
    expect(stderr.split('Small block threshold = ').length - 1).toBe(truth.dumps);
    expect(dumps('stderr.txt').length).toBe(truth.dumps);
    expect(dumps('stderr.txt').every((d) => d.stampedAt === undefined)).toBe(true);
  });

  for (const name of ['docker.log', 'journal.log', 'logging.log']) {
    it(`${name}: each dump re-prints byte for byte as CPython wrote it, without the stamps`, () => {
      const plain = dumps('stderr.txt');
      const stamped = dumps(name);
      expect(stamped.length).toBe(truth.dumps);
      stamped.forEach((d, i) => expect(formatMallocStats(d)).toBe(formatMallocStats(plain[i]!)));
      expect(stamped.map(formatMallocStats).join('')).toBe(stderr);
    });
  }

  it('docker.log (RFC 3339, ns): every dump carries its header line’s stamp', () => {
    const got = dumps('docker.log').map((d) => d.stampedAt! - dumps('docker.log')[0]!.stampedAt!);
    offsets(1n).forEach((want, i) => expect(Math.abs(got[i]! - want)).toBeLessThan(1e-6)); // epoch seconds in a double
  });

  it('logging.log to the millisecond, journal.log to the second', () => {
    const ms = dumps('logging.log');
    offsets(1_000_000n).forEach((want, i) => expect(ms[i]!.stampedAt! - ms[0]!.stampedAt!).toBeCloseTo(want, 6));
    const s = dumps('journal.log');
    offsets(1_000_000_000n).forEach((want, i) => expect(s[i]!.stampedAt! - s[0]!.stampedAt!).toBe(want));
  });

  it('the timeline runs over time: seconds since the first dump, ending at the last stamp', () => {
    const t = buildTimeline([{ file: 'docker.log', dumps: dumps('docker.log') }]);
    const span = offsets(1n).at(-1)!;
    expect(t.clock?.span).toBeCloseTo(span, 5);
    expect(t.points.at(-1)!.atSeconds).toBeCloseTo(span, 5);
    // Without stamps the timeline has no clock and charts fall back to dump numbers.
    expect(buildTimeline([{ file: 'stderr.txt', dumps: dumps('stderr.txt') }]).clock).toBeUndefined();
  });
});
