// A long run's markers in a replay report are bounded (src/report/replay-data.ts, MAX_MARKER_ROWS):
// the table and the embedded data keep the extremes and the first marker that differs, the totals
// still count every marker, and the page says how many are listed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayRun, type MarkerResult } from '../../src/analysis/model-vs-real.js';
import { openEventsBundle } from '../../src/ingest/events-bundle.js';
import { buildReplayReportData, MAX_MARKER_ROWS, replayRunData } from '../../src/report/replay-data.js';
import { renderReplaySections } from '../../src/report/replay-section.js';

const bundle = join(new URL('../../', import.meta.url).pathname, 'fixtures', 'bundles', '3.11.7-linux-x86_64', 'gc-calls');

describe('replay report markers', () => {
  it('a run of 5,000 markers: at most MAX_MARKER_ROWS listed, extremes and the first difference kept, totals over all', async () => {
    const run = await replayRun(openEventsBundle(bundle), '3.11.7');
    expect(replayRunData(run, 'as recorded').markers.length).toBe(run.markers.length);
    const base = run.markers[0]!;
    const blocks = (i: number) => 1000 + ((i * 7919) % 5003) + (i === 4321 ? 1_000_000 : 0);
    const pinned = (i: number) => (i === 1234 ? 99 : i % 5);
    const markers: MarkerResult[] = Array.from({ length: 5000 }, (_, i) => ({
      ...base,
      index: i,
      event: i * 100,
      modelAllocatedBlocks: blocks(i),
      occupancy: { ...base.occupancy, pinned: pinned(i) },
      model: { ...base.model, arenas: { ...base.model.arenas!, current: i === 2500 ? 0 : 10 + (i % 3) } },
      identical: i !== 3210 && i !== 3900,
      differingLines: i === 3210 ? 2 : i === 3900 ? 40 : 0,
    }));
    const data = replayRunData({ ...run, markers }, 'as recorded');
    expect(data.markers.length).toBeLessThanOrEqual(MAX_MARKER_ROWS);
    expect(data.markerTotals).toEqual({ markers: 5000, compared: 5000, identical: 4998, mostPinned: 99 });
    const kept = new Set(data.markers.map((m) => m.index));
    for (const i of [0, 4999, 4321, 1234, 2500, 3210, 3900]) expect(kept.has(i), `marker ${i}`).toBe(true);
    expect(data.markers.map((m) => m.index)).toEqual([...kept].sort((a, b) => a - b));

    const html = renderReplaySections({ ...buildReplayReportData('run.cpymem', run, undefined, 'what if'), recorded: data }, () => '<svg></svg>').join('');
    expect(html).toContain('4,998 of 5,000 dumps the model printed are identical');
    expect(html).toContain(`${data.markers.length} of 5,000 markers listed`);
    expect(html.match(/<tr/g)!.length).toBeLessThanOrEqual(MAX_MARKER_ROWS + 1);
  });
});
