// The bounded arena timeline: however many arena changes, the kept points stay few and the peak and
// trough of the live count are never lost.
import { describe, expect, it } from 'vitest';
import { ArenaTimelineRecorder } from '../../src/analysis/arena-timeline.js';

describe('ArenaTimelineRecorder', () => {
  it('keeps every change of a short run', () => {
    const r = new ArenaTimelineRecorder();
    const currents = [1, 2, 3, 2, 1, 2];
    let total = 0;
    currents.forEach((current, i) => {
      if (i === 0 || current > currents[i - 1]!) total++;
      r.add({ event: i * 10, kind: 'alloc', address: 0, current, allocatedTotal: total });
    });
    const t = r.finish();
    expect(t.downsampled).toBe(false);
    expect(t.points.map((p) => p.current)).toEqual(currents);
    expect(t.highwater).toBe(3);
  });

  it('stays bounded on a million changes and keeps the extremes', () => {
    const r = new ArenaTimelineRecorder(200);
    let current = 0;
    let seed = 7;
    let max = 0;
    let min = Infinity;
    for (let i = 0; i < 1_000_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      current = 1 + ((seed >> 16) % 100);
      // One single-change spike and one dip to 0: both must survive the merging.
      const v = i === 654_321 ? 5_000 : i === 123_456 ? 0 : current;
      max = Math.max(max, v);
      min = Math.min(min, v);
      r.add({ event: i, kind: 'alloc', address: 0, current: v, allocatedTotal: i });
    }
    const t = r.finish();
    expect(t.changes).toBe(1_000_000);
    expect(t.downsampled).toBe(true);
    expect(t.points.length).toBeLessThanOrEqual(4 * 200);
    expect(Math.max(...t.points.map((p) => p.current))).toBe(max);
    expect(t.points.some((p) => p.event === 654_321 && p.current === 5_000)).toBe(true);
    expect(t.points.some((p) => p.event === 123_456 && p.current === 0)).toBe(true);
    expect(min).toBe(0);
    expect(max).toBe(5_000);
    expect(t.points.at(-1)!.event).toBe(999_999);
    for (let i = 1; i < t.points.length; i++) expect(t.points[i]!.event).toBeGreaterThan(t.points[i - 1]!.event);
  });
});
