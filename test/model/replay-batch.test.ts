// The fast replay path (EventBatch columns, pymalloc lookups by address table) against the plain
// one (an Event object per record): same addresses, same dumps, same counts, on real recordings,
// from a bundle and from the interchange CSV; and the address tables against a JS Map.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replayRun } from '../../src/analysis/model-vs-real.js';
import { writeEventsCsv } from '../../src/cli/export.js';
import { eventsOf, openEventsBundle } from '../../src/ingest/events-bundle.js';
import { openEventsCsv } from '../../src/ingest/events-csv.js';
import { AddressTable, PointerMap, PointerSet } from '../../src/model/address-table.js';
import { ArenaMap } from '../../src/model/arena-map.js';
import { pymallocParams } from '../../src/model/params.js';
import { Replay, type Marker } from '../../src/model/replay.js';
import { FIXTURES } from '../helpers/fixtures.js';

const bundle = (v: string, w: string) => join(FIXTURES, 'bundles', `${v}-linux-x86_64`, w);

describe('replay from column batches', () => {
  for (const [version, workload] of [
    ['3.8.18', 'tuple-churn'],
    ['3.12.1', 'threads'],
    ['3.13.0', 'realloc-growth'],
  ] as const) {
    it(`${version}/${workload}: the same run event by event and batch by batch`, async () => {
      const dir = bundle(version, workload);
      const params = pymallocParams(version);
      const oneByOne: Marker[] = [];
      const r = new Replay({ params, onMarker: (m) => oneByOne.push(m) });
      for await (const e of eventsOf(openEventsBundle(dir))) r.push(e);
      const summary = r.end();
      const run = await replayRun(openEventsBundle(dir), version, { skipReal: true });
      expect(run.summary).toEqual(summary);
      expect(summary.addressesPredicted).toBe(summary.addressesChecked);
      expect(run.markers.map((m) => [m.event, m.label, m.modelAllocatedBlocks, m.model])).toEqual(oneByOne.map((m) => [m.event, m.label, m.modelAllocatedBlocks, m.stats]));
    }, 60_000);
  }

  it('replays the interchange CSV of a bundle exactly as the bundle', async () => {
    const dir = bundle('3.11.7', 'threads');
    const tmp = mkdtempSync(join(tmpdir(), 'cpymem-replay-csv-'));
    try {
      const csv = join(tmp, 'events.csv');
      let text = '';
      await writeEventsCsv(openEventsBundle(dir), tmp, async (chunk) => void (text += chunk));
      writeFileSync(csv, text);
      const fromBundle = await replayRun(openEventsBundle(dir), '3.11.7');
      const fromCsv = await replayRun(openEventsCsv(csv), '3.11.7');
      expect(fromCsv.summary).toEqual(fromBundle.summary);
      expect(fromCsv.markers.map((m) => [m.identical, m.modelText])).toEqual(fromBundle.markers.map((m) => [m.identical, m.modelText]));
      expect(fromCsv.markers.filter((m) => m.identical).length).toBeGreaterThanOrEqual(3);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('address tables', () => {
  it('AddressTable agrees with a Map under any sequence of sets and deletes', () => {
    // Keys from a small range of big block numbers, so that probe runs collide and wrap.
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
        const t = new AddressTable<number>();
        const m = new Map<number, number>();
        ops.forEach(([set, x], i) => {
          const k = 2 ** 33 + x * 4096;
          if (set) {
            t.set(k, i);
            m.set(k, i);
          } else {
            t.delete(k);
            m.delete(k);
          }
        });
        expect(t.size).toBe(m.size);
        for (let x = 0; x <= 300; x++) expect(t.get(2 ** 33 + x * 4096)).toBe(m.get(2 ** 33 + x * 4096));
      }),
    );
  });

  it('PointerMap agrees with a Map under the churn of pointers handed out again and again', () => {
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 500 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 1000 }), (ops) => {
        const t = new PointerMap();
        const m = new Map<number, number>();
        ops.forEach(([set, x], i) => {
          const p = 0x7f3a12340000 + 16 * x; // 16-byte aligned, as pymalloc's blocks
          if (set) {
            t.set(p, i);
            m.set(p, i);
          } else {
            t.delete(p);
            m.delete(p);
          }
        });
        expect(t.size).toBe(m.size);
        for (let x = 0; x <= 500; x++) {
          const p = 0x7f3a12340000 + 16 * x;
          expect(t.get(p, -1)).toBe(m.get(p) ?? -1);
          expect(t.has(p)).toBe(m.has(p));
        }
      }),
    );
  });

  it('PointerSet agrees with a Set, and says whether a delete removed something', () => {
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 500 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 1000 }), (ops) => {
        const t = new PointerSet();
        const m = new Set<number>();
        for (const [add, x] of ops) {
          const p = 0x7f3a12340000 + 16 * x;
          if (add) {
            t.add(p);
            m.add(p);
          } else expect(t.delete(p)).toBe(m.delete(p));
        }
        expect(t.size).toBe(m.size);
        for (let x = 0; x <= 500; x++) expect(t.has(0x7f3a12340000 + 16 * x)).toBe(m.has(0x7f3a12340000 + 16 * x));
      }),
    );
  });

  it('ArenaMap finds the arena of every byte, with arenas straddling ARENA_SIZE blocks back to back', () => {
    const size = 1 << 20;
    const base = 0x7f0000000000;
    // Three arenas end to end at a 4 KiB (page) offset, so each straddles two 1 MiB blocks and
    // shares a block with its neighbour; then the middle one is released.
    const arenas = [0, 1, 2].map((i) => ({ address: base + 4096 + i * size }));
    const map = new ArenaMap(size);
    for (const a of arenas) map.add(a);
    for (const a of arenas) for (const off of [0, 1, size / 2, size - 4096, size - 1]) expect(map.find(a.address + off)).toBe(a);
    expect(map.find(base + 4095)).toBeUndefined();
    expect(map.find(base + 4096 + 3 * size)).toBeUndefined();
    map.remove(arenas[1]!);
    expect(map.find(arenas[1]!.address)).toBeUndefined();
    expect(map.find(arenas[1]!.address + size - 1)).toBeUndefined();
    expect(map.find(arenas[0]!.address + size - 1)).toBe(arenas[0]);
    expect(map.find(arenas[2]!.address)).toBe(arenas[2]);
  });
});
