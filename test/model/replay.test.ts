// The pymalloc model against real recorded runs (fixtures/bundles, made by `cpymem capture` with the
// pyenv CPythons): every block address, every real dump and every sys.getallocatedblocks() value
// must be reproduced; deliberately wrong variants of the algorithm must be caught.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayRun } from '../../src/analysis/model-vs-real.js';
import { verdict } from '../../src/cli/compare.js';
import { openEventsBundle } from '../../src/ingest/events-bundle.js';
import type { ModelFault } from '../../src/model/pymalloc.js';
import { FIXTURES } from '../helpers/fixtures.js';

const root = join(FIXTURES, 'bundles');
const bundles = existsSync(root)
  ? readdirSync(root)
      .filter((v) => /^\d+\.\d+\.\d+-/.test(v))
      .flatMap((v) => readdirSync(join(root, v)).map((w) => ({ version: v.split('-')[0]!, dir: join(root, v, w), name: `${v}/${w}` })))
  : [];

describe('replay of real recorded runs', () => {
  it('has bundles of every pymalloc CPython 3.8–3.13', () => {
    const versions = new Set(bundles.map((b) => b.version.split('.').slice(0, 2).join('.')));
    for (const v of ['3.8', '3.9', '3.10', '3.11', '3.12', '3.13']) expect(versions).toContain(v);
  });

  for (const b of bundles) {
    it(`${b.name}: every address, dump and allocated-blocks count as CPython's`, async () => {
      const run = await replayRun(openEventsBundle(b.dir), b.version);
      const s = run.summary;
      expect(s.divergences).toEqual([]);
      expect(s.arenaMismatches).toBe(0);
      expect(s.addressesChecked).toBeGreaterThan(10_000);
      expect(s.addressesPredicted).toBe(s.addressesChecked);
      const compared = run.markers.filter((m) => m.identical !== undefined);
      expect(compared.length).toBeGreaterThanOrEqual(3);
      for (const m of compared) expect(m.firstDifference, m.label).toBeUndefined();
      // Per-arena occupancy (the pinned-arena map) adds up to what CPython printed over all arenas.
      for (const m of compared) {
        expect(m.occupancy.blockBytes, m.label).toBe(m.real!.totals!.bytesInAllocatedBlocks);
        expect(m.occupancy.usedPools, m.label).toBe(m.real!.classes!.reduce((n, c) => n + c.pools, 0));
        expect(m.occupancy.arenas, m.label).toBe(m.real!.arenas!.current);
        // The arena timeline's live count at the marker is the dump's "# arenas allocated current".
        const before = run.arenaTimeline.points.filter((p) => p.event < m.event).at(-1);
        expect(before?.current ?? 0, m.label).toBe(m.real!.arenas!.current);
        expect(before?.allocatedTotal ?? 0, m.label).toBe(m.real!.arenas!.allocatedTotal);
      }
      const blocks = run.markers.filter((m) => m.recordedAllocatedBlocks !== undefined);
      expect(blocks.length).toBeGreaterThanOrEqual(3);
      for (const m of blocks) expect(m.modelAllocatedBlocks, m.label).toBe(m.recordedAllocatedBlocks);
      // The arena counts the real last dump printed.
      const last = compared.at(-1)!;
      expect(last.model.arenas).toEqual(last.real!.arenas);
    }, 120_000);
  }
});

describe('negative controls: wrong models are caught', () => {
  const faults: ModelFault[] = ['fifo-free-list', 'realloc-free-first', 'reinit-reused-pools', 'shrink-off-by-one'];
  for (const fault of faults) {
    it(`${fault} does not reproduce the recorded runs`, async () => {
      let caught = 0;
      for (const b of bundles.filter((x) => /^3\.(8|11|13)\./.test(x.version))) {
        const run = await replayRun(openEventsBundle(b.dir), b.version, { fault });
        if (!verdict(run).identical) caught++;
      }
      expect(caught).toBeGreaterThan(0);
    }, 300_000);
  }
});
