// summariseGc: per-generation counts and pause statistics, on collections small enough to check by hand.
import { describe, expect, it } from 'vitest';
import { summariseGc } from '../../src/analysis/gc-stats.js';
import type { GcCollection } from '../../src/model/types.js';

const c = (generation: number, collected: number, uncollectable: number, elapsedSeconds?: number): GcCollection => ({
  generation,
  unreachable: collected + uncollectable,
  collected,
  uncollectable,
  ...(elapsedSeconds === undefined ? {} : { elapsedSeconds }),
});

describe('summariseGc', () => {
  it('counts, sums and nearest-rank percentiles per generation', () => {
    const times = [0.0001, 0.0002, 0.0003, 0.0004, 0.0005, 0.0006, 0.0007, 0.0008, 0.0009, 0.001];
    const cs = [...times.map((t, i) => c(0, i, 0, t)), c(1, 5, 1, 0.002), c(2, 7, 2, 0.01), { generation: 2, truncated: true }];
    const s = summariseGc(cs, { durationSeconds: 30 });
    expect(s.generations.map((g) => g.generation)).toEqual([0, 1, 2]);
    const g0 = s.generations[0]!;
    expect(g0).toMatchObject({ collections: 10, completed: 10, collected: 45, uncollectable: 0, unreachable: 45, collectionsPerMinute: 20 });
    expect(g0.elapsed).toEqual({ total: 0.0055, p50: 0.0005, p95: 0.001, max: 0.001, measured: 10 });
    expect(s.generations[2]).toMatchObject({ collections: 2, completed: 1, collected: 7, uncollectable: 2, collectionsPerMinute: 4 });
    expect(s.generations[2]!.elapsed).toEqual({ total: 0.01, p50: 0.01, p95: 0.01, max: 0.01, measured: 1 });
    expect(s.all).toMatchObject({ generation: -1, collections: 13, completed: 12, collected: 57, uncollectable: 3 });
    expect(s.durationSeconds).toBe(30);
  });

  it('has all three generations even when empty, no times → null, no duration → no rate', () => {
    const s = summariseGc([{ generation: 1, collected: 0, uncollectable: 0, unreachable: 0 }]);
    expect(s.generations).toHaveLength(3);
    expect(s.generations[0]).toEqual({ generation: 0, collections: 0, completed: 0, collected: 0, uncollectable: 0, unreachable: 0, elapsed: null });
    expect(s.generations[1]!.collectionsPerMinute).toBeUndefined();
    expect(s.durationSeconds).toBeUndefined();
  });
});
