// The cyclic GC model: CPython's rules one by one, then against real recorded runs (fixtures/bundles,
// made by `cpymem capture` with the pyenv CPythons): every collection of 3.8–3.11 predicted to the
// record with its generation, 3.12/3.13 agreement as measured, what-if thresholds against runs
// recorded under those thresholds, and wrong variants of the rules caught.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gcReplayRun, parseThresholds, type GcRun } from '../../src/analysis/gc-vs-real.js';
import { openEventsBundle } from '../../src/ingest/events-bundle.js';
import { GcModel, parseGcCall, type GcFault } from '../../src/model/gc.js';
import { GcEventExtractor, type GcEventSink } from '../../src/model/gc-events.js';
import { GcReplay } from '../../src/model/gc-replay.js';
import { gcParams } from '../../src/model/params.js';
import { FLAG_COLLECTING, FLAG_YOUNG, OP_FREE, OP_GC_START, OP_GC_STOP, OP_MALLOC, OP_NOTE, OP_STATS, type GcCollection } from '../../src/model/types.js';
import { FIXTURES } from '../helpers/fixtures.js';

/** Allocate until `n` automatic collections happened (in-allocation rules); their generations. */
function collections(model: GcModel, n: number): number[] {
  const out: number[] = [];
  while (out.length < n) {
    if (model.allocate() === 'collect') {
      const g = model.selectGeneration();
      out.push(g);
      model.collect(g, {});
    }
  }
  return out;
}

describe('GC parameters per version', () => {
  it('thresholds, trigger and collector as CPython ships them', () => {
    expect(gcParams('3.8.18')).toMatchObject({ thresholds: [700, 10, 10], trigger: 'in-allocation', stateScope: 'runtime', countedIn: '_PyObject_GC_Alloc' });
    expect(gcParams('3.11')).toMatchObject({ thresholds: [700, 10, 10], trigger: 'in-allocation', countedIn: '_PyObject_GC_Link' });
    expect(gcParams('3.12.1')).toMatchObject({ thresholds: [700, 10, 10], trigger: 'eval-breaker', immortals: 'permanent' });
    expect(gcParams('3.13.0')).toMatchObject({ thresholds: [2000, 10, 10], trigger: 'eval-breaker' });
    expect(gcParams('3.14')).toMatchObject({ collector: 'incremental', thresholds: [2000, 10, 0] });
    expect(gcParams('3.14.4').collector).toBe('incremental');
    expect(gcParams('3.14.5')).toMatchObject({ collector: 'generational', thresholds: [2000, 10, 10], untracksDicts: false });
    expect(() => gcParams('3.7')).toThrow(/no GC model/);
  });

  it('3.14.2 (pyodide) reports the incremental defaults its GC log fixture recorded', () => {
    const truth = join(FIXTURES, 'gc', '3.14.2-wasm32-emscripten', 'ground-truth.json');
    if (!existsSync(truth)) return;
    expect(readFileSync(truth, 'utf8')).toContain('"threshold_default": [2000, 10, 0]');
    expect([...gcParams('3.14.2').thresholds]).toEqual([2000, 10, 0]);
  });
});

describe('GC model: the rules of Modules/gcmodule.c', () => {
  it('default thresholds: 11 generation-0 collections, then 1 of generation 1, repeating', () => {
    const m = new GcModel(gcParams('3.11'));
    expect(collections(m, 24)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('collects when count0 exceeds threshold0: the 701st allocation, not the 700th (">=" would)', () => {
    const m = new GcModel(gcParams('3.10'));
    for (let i = 1; i < 701; i++) expect(m.allocate(), `allocation ${i}`).toBe('none');
    expect(m.counts[0]).toBe(700);
    expect(m.allocate()).toBe('collect');
    const wrong = new GcModel(gcParams('3.10'), { fault: 'threshold-ge' });
    for (let i = 1; i < 700; i++) wrong.allocate();
    expect(wrong.allocate()).toBe('collect');
  });

  it('a deallocation lowers count0, never below 0', () => {
    const m = new GcModel(gcParams('3.11'));
    m.deallocate();
    expect(m.counts[0]).toBe(0);
    m.allocate();
    m.allocate();
    m.deallocate();
    expect(m.counts[0]).toBe(1);
  });

  it('the oldest generation only when long_lived_pending >= long_lived_total / 4 (integer division)', () => {
    const m = new GcModel(gcParams('3.11'));
    m.counts[0] = 701;
    m.counts[1] = 3;
    m.counts[2] = 11;
    m.longLivedTotal = 1003; // 1003 / 4 = 250
    m.longLivedPending = 249;
    expect(m.selectGeneration()).toBe(0); // gen 2 refused; gen 1 not due: gen 0
    m.counts[1] = 11;
    expect(m.selectGeneration()).toBe(1);
    m.longLivedPending = 250;
    expect(m.selectGeneration()).toBe(2);
    // a generation-1 collection adds its promoted objects; a full one resets pending, sets total
    m.collect(1, { promoted: 40 });
    expect([m.longLivedPending, m.counts[2]]).toEqual([290, 12]);
    m.collect(2, { total: 5000 });
    expect([m.longLivedPending, m.longLivedTotal, ...m.counts]).toEqual([0, 5000, 0, 0, 0]);
    const noRule = new GcModel(gcParams('3.11'), { fault: 'no-long-lived-rule' });
    Object.assign(noRule, { longLivedTotal: 1003, longLivedPending: 0 });
    noRule.counts[2] = 11;
    expect(noRule.selectGeneration()).toBe(2);
  });

  it('the first full collection is always allowed (long_lived_total starts at 0)', () => {
    const m = new GcModel(gcParams('3.8'));
    // 11 cycles of (11 × gen 0, gen 1) bring count2 to 11: the next collection is the full one
    const gens = collections(m, 11 * 12 + 1);
    expect(gens.filter((g) => g === 2)).toHaveLength(1);
    expect(gens.at(-1)).toBe(2);
  });

  it('explicit collections reset the counts of the generations they collect and count for the next', () => {
    const m = new GcModel(gcParams('3.11'));
    for (let i = 0; i < 300; i++) m.allocate();
    m.collect(0);
    expect([...m.counts]).toEqual([0, 1, 0]);
    m.counts[1] = 4;
    m.collect(1);
    expect([...m.counts]).toEqual([0, 0, 1]);
    for (let i = 0; i < 30; i++) m.allocate();
    m.collect(2);
    expect([...m.counts]).toEqual([0, 0, 0]);
  });

  it('gc.freeze() clears every count; gc.disable() stops automatic collections, gc.enable() resumes them', () => {
    const m = new GcModel(gcParams('3.11'));
    for (let i = 0; i < 500; i++) m.allocate();
    m.counts[1] = 7;
    m.freeze();
    expect([...m.counts]).toEqual([0, 0, 0]);
    m.disable();
    for (let i = 0; i < 2000; i++) expect(m.allocate()).toBe('none');
    m.enable();
    expect(m.allocate()).toBe('collect');
  });

  it('3.12+: the allocation only schedules; the eval breaker re-selects and may find nothing due', () => {
    const m = new GcModel(gcParams('3.12'));
    for (let i = 0; i < 700; i++) m.allocate();
    expect(m.allocate()).toBe('schedule');
    expect(m.scheduled).toBe(true);
    for (let i = 0; i < 5; i++) m.deallocate();
    expect(m.runScheduled()).toBe(-1); // count0 fell back to 696
    expect(m.scheduled).toBe(false);
    for (let i = 0; i < 10; i++) m.allocate();
    m.disable();
    expect(m.runScheduled()).toBe(-1);
    m.enable();
    expect(m.runScheduled()).toBe(0);
  });

  it('3.14.0–3.14.4: every automatic collection is an increment (generation 1)', () => {
    const m = new GcModel(gcParams('3.14.0'));
    for (let i = 0; i < 2000; i++) m.allocate();
    expect(m.allocate()).toBe('schedule');
    expect(m.runScheduled()).toBe(1);
  });

  it("reads the recorder's notes of gc calls", () => {
    expect(parseGcCall('gc.set_threshold(100, 5, 5)')).toEqual({ call: 'set_threshold', thresholds: [100, 5, 5] });
    expect(parseGcCall('gc.set_threshold(2000)')).toEqual({ call: 'set_threshold', thresholds: [2000] });
    expect(parseGcCall('gc.collect(1)')).toEqual({ call: 'collect', generation: 1 });
    expect(parseGcCall('gc.collect(?)')).toEqual({ call: 'collect', generation: null });
    expect(parseGcCall('gc.freeze()')).toEqual({ call: 'freeze' });
    expect(parseGcCall('phase 2')).toBeUndefined();
    expect(parseThresholds('2000', [700, 10, 10])).toEqual([2000, 10, 10]);
    expect(parseThresholds('1,2,3,4', [700, 10, 10])).toBeUndefined();
  });
});

describe('GC events from the young counter', () => {
  /** Record streams as (op, young, ptr, result, flags, label). */
  type Rec = [number, number, number, number, number?, string?];
  function extract(records: Rec[], inAllocation = true) {
    const seen: string[] = [];
    const sink: GcEventSink = {
      alloc: (r, p) => seen.push(`alloc ${r} ${p}`),
      free: (r, p) => seen.push(`free ${r} ${p}`),
      release: (r, p) => seen.push(`release ${r} ${p}`),
      move: () => {},
      windowStart: (w) => seen.push(`window ${w.start}${w.empty ? ' empty' : ''}${w.startLine ? ` g${w.startLine.generation}` : ''}`),
      windowEnd: (_w, r, y) => seen.push(`end ${r} y${y}`),
      call: (r, c) => seen.push(`call ${r} ${c.call}`),
    };
    const lines = [{ phase: 'start' as const, generation: 0, collected: 0, uncollectable: 0, record: 4 }];
    const x = new GcEventExtractor(sink, lines, true, inAllocation);
    records.forEach(([op, y, ptr, result, flags, label], i) => x.push(i, op, (flags ?? (op === OP_MALLOC || op === OP_FREE ? 2 : 0)) | FLAG_YOUNG, y, ptr, result, label));
    return { seen, stats: x.stats };
  }

  it('a +1 after a malloc record is a GC allocation; a −1 before a free of one is its deallocation', () => {
    const { seen } = extract([
      [OP_MALLOC, 5, 0, 0x100],
      [OP_MALLOC, 6, 0, 0x200], // 0x100 raised the count
      [OP_FREE, 6, 0x300, 0], // 0x200 did not; 0x300 is no GC object
      [OP_FREE, 5, 0x100, 0], // GC free
    ]);
    expect(seen).toEqual(['alloc 0 256', 'free 3 256']);
  });

  it('a collection: flagged records, its gc_start line, the count after it; stats records in between are skipped', () => {
    const C = FLAG_COLLECTING;
    const { seen } = extract([
      [OP_MALLOC, 700, 0, 0x100],
      [OP_STATS, 700, 0, 0], // a count marker appended before the caller's +1
      [OP_MALLOC, 701, 0, 0x200, 2 | C], // the callback's own allocations, in the collection
      [OP_MALLOC, 702, 0, 0x300, 2 | C],
      [OP_GC_START, 702, 0, 0, C],
      [OP_FREE, 0, 0x100, 0, 2 | C], // garbage
      [OP_GC_STOP, 0, 0, 0, C],
      [OP_MALLOC, 0, 0, 0x400],
      [OP_NOTE, 0, 0, 0, 0, 'gc.disable()'],
    ]);
    expect(seen).toEqual(['alloc 0 256', 'window 2 g0', 'release 5 256', 'end 7 y0', 'call 8 disable']);
  });

  it('a cleared count without a flagged record is a collection nothing was recorded in (before the helper attached)', () => {
    const { seen, stats } = extract([
      [OP_MALLOC, 700, 0, 0x100],
      [OP_MALLOC, 0, 0, 0x200],
    ]);
    expect(seen).toEqual(['alloc 0 256', 'window 1 empty', 'end 1 y0']);
    expect(stats.emptyWindows).toBe(1);
  });
});

// ---- real recorded runs ----

const root = join(FIXTURES, 'bundles');
const bundles = existsSync(root)
  ? readdirSync(root)
      .filter((v) => /^\d+\.\d+\.\d+-linux/.test(v))
      .flatMap((v) => readdirSync(join(root, v)).map((w) => ({ version: v.split('-')[0]!, minor: v.split('.').slice(0, 2).join('.'), dir: join(root, v, w), workload: w, name: `${v}/${w}` })))
      .filter((b) => existsSync(join(b.dir, 'manifest.json')))
  : [];

async function run(dir: string, version: string, opts: Parameters<typeof gcReplayRun>[2] = {}): Promise<GcRun> {
  const r = await gcReplayRun(openEventsBundle(dir), version, opts);
  expect(r).toBeDefined();
  return r!;
}

describe('GC model against real recorded runs', () => {
  it('has GC bundles for 3.8–3.13 with the recorder that logs GC state', () => {
    for (const v of ['3.8', '3.9', '3.10', '3.11', '3.12', '3.13']) expect(bundles.some((b) => b.minor === v)).toBe(true);
    for (const b of bundles) expect(JSON.parse(readFileSync(join(b.dir, 'manifest.json'), 'utf8')).recorder.gcState, b.name).toBe(true);
    for (const v of ['3.11', '3.13']) for (const w of ['gc-thresholds-default', 'gc-thresholds-2000-10-10', 'gc-thresholds-100-5-5', 'gc-long-lived', 'gc-calls']) expect(bundles.some((b) => b.minor === v && b.workload === w), `${v} ${w}`).toBe(true);
  });

  const exact = bundles.filter((b) => ['3.8', '3.9', '3.10', '3.11'].includes(b.minor));
  for (const b of exact) {
    it(`${b.name}: every collection predicted to the record, with its generation`, async () => {
      const { result: r } = await run(b.dir, b.version);
      const a = r.agreement;
      expect(a.claimsExactness).toBe(true);
      expect(a.mismatches).toEqual([]);
      expect(a.exact).toBe(true);
      const logged = a.recorded.automatic.reduce((x, y) => x + y, 0);
      expect(a.matched).toBe(logged);
      expect(a.counts.equal).toBe(a.counts.compared);
      expect(a.counts.compared).toBeGreaterThanOrEqual(2);
      // the model's collections are the recorded ones: same first record, same generation; an
      // automatic one starts right after the allocation that made it due, or right after the stats
      // record of a count marker that fired as that allocation returned
      const markerRecords = new Set((JSON.parse(readFileSync(join(b.dir, 'manifest.json'), 'utf8')) as { markers: { record: number }[] }).markers.map((k) => k.record));
      const byStart = new Map(r.model.collections.map((c) => [c.startRecord, c] as const));
      for (const c of r.recorded) {
        const m = byStart.get(c.startRecord);
        expect(m, `collection at record ${c.startRecord}`).toBeDefined();
        expect(m!.generation, `collection at record ${c.startRecord}`).toBe(c.generation);
        if (c.trigger === 'automatic') {
          const next = markerRecords.has(m!.dueRecord! + 1) ? m!.dueRecord! + 2 : m!.dueRecord! + 1;
          expect(next, `collection at record ${c.startRecord}`).toBe(c.startRecord);
        }
      }
      // the young counter is explained record by record
      expect(r.events.unexplained).toBeLessThanOrEqual(1);
    }, 60_000);
  }

  const deferred = bundles.filter((b) => ['3.12', '3.13'].includes(b.minor));
  for (const b of deferred) {
    it(`${b.name}: every automatic collection with the generation the eval breaker re-selects`, async () => {
      const { result: r } = await run(b.dir, b.version);
      const a = r.agreement;
      expect(a.claimsExactness).toBe(false);
      expect(a.generationMismatch).toBe(0);
      expect(a.unpredicted).toBe(0);
      expect(a.matched).toBe(a.recorded.automatic.reduce((x, y) => x + y, 0));
      expect(a.counts.equal).toBe(a.counts.compared);
      // measured: at most 6,749 records from due to run, during the interpreter's start-up (a long
      // stretch of C without an eval-breaker check)
      expect(a.delays.count).toBeGreaterThan(0);
      expect(a.delays.max).toBeLessThan(10_000);
    }, 60_000);
  }

  it('3.12/3.13: how far the eval breaker runs a collection after it became due, as measured', async () => {
    let zero = 0;
    let all = 0;
    for (const b of deferred) {
      const d = (await run(b.dir, b.version)).result.agreement.delays;
      zero += d.zero;
      all += d.count;
      if (b.workload === 'gc-thresholds-100-5-5') {
        // measured: 58 % (3.12.1) and 70 % (3.13.0) at the very next record, 95 % within 6 records
        expect(d.zero / d.count, b.name).toBeGreaterThan(0.5);
        expect(d.p95, b.name).toBeLessThanOrEqual(6);
      }
    }
    // measured over every 3.12/3.13 bundle: 596 of 1,380 (43 %) at the very next record
    expect(zero / all).toBeGreaterThan(0.35);
  }, 180_000);

  it('a count marker between the allocation that starts a collection and its first record (3.8–3.11)', async () => {
    // gc-count-markers: 40 count markers on consecutive calls of a loop where every second GC
    // allocation collects. Where a marker fired as such an allocation returned, its stats record
    // (not flagged collecting) comes before the collection's first record: the model predicts the
    // collection there, not at the stats record (it did, before: 2 missed + 2 unpredicted a bundle).
    const picked = bundles.filter((b) => b.workload === 'gc-count-markers');
    expect(picked.map((b) => b.minor).sort()).toEqual(['3.10', '3.11', '3.8']);
    for (const b of picked) {
      const { result: r } = await run(b.dir, b.version);
      const m = JSON.parse(readFileSync(join(b.dir, 'manifest.json'), 'utf8')) as { markers: { record: number; reason: string }[] };
      const at = new Set(m.markers.filter((k) => k.reason === 'at').map((k) => k.record));
      expect(at.size, b.name).toBe(40);
      const behindMarker = r.model.collections.filter((c) => c.trigger === 'automatic' && at.has(c.dueRecord! + 1));
      expect(behindMarker.length, b.name).toBeGreaterThan(0);
      const recordedStarts = new Set(r.recorded.map((c) => c.startRecord));
      for (const c of behindMarker) {
        expect(c.startRecord, b.name).toBe(c.dueRecord! + 2);
        expect(recordedStarts.has(c.startRecord), `${b.name}: a recorded collection starts at ${c.startRecord}`).toBe(true);
      }
      const a = r.agreement;
      expect([a.missed, a.unpredicted, a.generationMismatch], b.name).toEqual([0, 0, 0]);
      expect(a.matched, b.name).toBe(a.recorded.automatic.reduce((x, y) => x + y, 0));
      expect(a.matched, b.name).toBeGreaterThan(90);
    }
  }, 60_000);

  it('the long-lived rule decides: hundreds of full collections refused, each where CPython refused it', async () => {
    for (const b of bundles.filter((x) => x.workload === 'gc-long-lived')) {
      const { result: r } = await run(b.dir, b.version);
      const lines = readFileSync(join(b.dir, 'gc.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phase: string; generation: number; counts: number[]; thresholds: number[] });
      const refused = lines.filter((l) => l.phase === 'start' && l.generation < 2 && l.counts[2]! > l.thresholds[2]!).length;
      expect(refused, b.name).toBeGreaterThan(100);
      expect(r.agreement.generationMismatch, b.name).toBe(0);
    }
  }, 120_000);

  it("the program's gc calls: set_threshold, disable/enable, freeze, collect(1), collect(0), unfreeze", async () => {
    for (const b of bundles.filter((x) => x.workload === 'gc-calls')) {
      const { result: r } = await run(b.dir, b.version);
      const a = r.agreement;
      expect(a.explicitLogged, b.name).toBe(2); // gc.collect(1), gc.collect(generation=0)
      expect(a.generationMismatch + a.unpredicted + a.missed, b.name).toBe(0);
      expect(a.counts.equal, b.name).toBe(a.counts.compared);
      expect(r.model.thresholds).toEqual([100, 5, 5]);
      const m = JSON.parse(readFileSync(join(b.dir, 'manifest.json'), 'utf8')) as { notes: { record: number; text: string }[]; markers: { label?: string; record: number }[] };
      const at = (text: string) => m.notes.find((n) => n.text === text)!.record;
      // nothing collected automatically while disabled; the first allocation after enable() collects
      const off = r.model.collections.filter((c) => c.startRecord! > at('gc.disable()') && c.startRecord! < at('gc.enable()'));
      expect(off).toEqual([]);
      const first = r.model.collections.find((c) => c.startRecord! > at('gc.enable()'))!;
      expect(first.countsAtStart![0]).toBeGreaterThan(500);
      // freeze cleared the counts: the next automatic collection starts from 0
      const afterFreeze = r.model.collections.find((c) => c.startRecord! > at('gc.freeze()'))!;
      expect(afterFreeze.trigger).toBe('automatic');
      expect(afterFreeze.countsAtStart!.slice(1)).toEqual([0, 0]);
      // the explicit ones, with their generation, right after their notes
      const explicit = r.recorded.filter((c) => c.trigger === 'explicit' && c.startRecord! < m.markers.find((k) => k.label === 'end')!.record);
      expect(explicit.map((c) => c.generation)).toEqual([1, 0]);
    }
  }, 60_000);

  describe('negative controls: wrong rules are caught', () => {
    const cases: [GcFault, (b: (typeof bundles)[number]) => boolean][] = [
      ['threshold-ge', (b) => b.minor === '3.8' || b.minor === '3.11'],
      ['no-long-lived-rule', (b) => b.workload === 'gc-long-lived'],
      ['no-older-count', (b) => b.minor === '3.11' && b.workload === 'tuple-churn'],
    ];
    for (const [fault, pick] of cases) {
      it(`${fault}: does not reproduce the recorded collections`, async () => {
        const picked = bundles.filter(pick);
        expect(picked.length).toBeGreaterThan(0);
        for (const b of picked) {
          const { result: r } = await run(b.dir, b.version, { fault });
          const a = r.agreement;
          const caught = !a.exact && (a.missed > 0 || a.unpredicted > 0 || a.generationMismatch > 0 || a.counts.equal < a.counts.compared);
          expect(caught, `${fault} on ${b.name}`).toBe(true);
        }
      }, 180_000);
    }
  });
});

// ---- what if: the default run predicts runs recorded under other thresholds ----

/** Collections per generation from the script's "start" marker on (both runs have it, at the same program point). */
function fromStart(dir: string, cs: readonly GcCollection[]): number[] {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { markers: { label?: string; record: number }[] };
  const start = m.markers.find((k) => k.label === 'start')!.record;
  const per = [0, 0, 0];
  for (const c of cs) if (c.startRecord! > start) per[c.generation]!++;
  return per;
}

/** A copy of a bundle whose gc.jsonl leaves out generation 2 and the permanent one at young collections. */
function oldestWalkedOnlyWhenOld(dir: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'cpymem-gc-partial-')), 'bundle');
  cpSync(dir, copy, { recursive: true });
  const lines = readFileSync(join(dir, 'gc.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
  const partial = lines.map((l) => {
    const x = JSON.parse(l) as { generation: number; objects?: (number | null)[]; permanent?: number | null };
    if (x.objects && x.generation === 0) {
      x.objects[2] = null;
      x.permanent = null;
    }
    return JSON.stringify(x);
  });
  writeFileSync(join(copy, 'gc.jsonl'), `${partial.join('\n')}\n`);
  return copy;
}

describe('what if: other thresholds, checked against runs recorded under them', () => {
  for (const minor of ['3.11', '3.12', '3.13']) {
    const base = bundles.find((b) => b.minor === minor && b.workload === 'gc-thresholds-default');
    for (const th of ['2000,10,10', '100,5,5']) {
      const truth = bundles.find((b) => b.minor === minor && b.workload === `gc-thresholds-${th.replace(/,/g, '-')}`);
      it.skipIf(!base || !truth)(`${minor}: the default run replayed with ${th} predicts each generation's collections within 2 %`, async () => {
        const real = await run(truth!.dir, truth!.version);
        // the recorded run: every collection taken as recorded (generations checked above)
        expect(real.result.agreement.generationMismatch).toBe(0);
        const expected = fromStart(truth!.dir, real.result.model.collections);
        const thresholds = parseThresholds(th, [0, 0, 0])!;
        const predicted = await run(base!.dir, base!.version, { whatIf: { thresholds } });
        const got = fromStart(base!.dir, predicted.result.whatIf!.collections);
        expect(expected[0]).toBeGreaterThan(0);
        for (let g = 0; g < 3; g++) expect(Math.abs(got[g]! - expected[g]!), `generation ${g}: predicted ${got[g]}, recorded ${expected[g]} (${th})`).toBeLessThanOrEqual(0.02 * expected[g]!);
        // The recorder now walks generation 2 only around collections of generation 1 or 2: the
        // same real run with what it would no longer log removed predicts the same counts.
        const partial = await run(oldestWalkedOnlyWhenOld(base!.dir), base!.version, { whatIf: { thresholds } });
        const got2 = fromStart(base!.dir, partial.result.whatIf!.collections);
        for (let g = 0; g < 3; g++) expect(Math.abs(got2[g]! - expected[g]!), `generation ${g} without generation 2 at young collections: predicted ${got2[g]}, recorded ${expected[g]} (${th})`).toBeLessThanOrEqual(0.02 * expected[g]!);
      }, 120_000);
    }
  }
});

describe('GcReplay on hand-made records', () => {
  it('an allocation that is due but collects nothing (exception pending) is one miss, the next one collects', () => {
    const r = new GcReplay({ params: gcParams('3.11'), lines: [], collectingFlag: true });
    let y = 0;
    let p = 0x1000;
    const malloc = () => r.push(OP_MALLOC, 2 | FLAG_YOUNG, y, 0, (p += 64));
    for (let i = 0; i < 700; i++) {
      malloc();
      y++;
    }
    malloc(); // due here (701), but CPython did not collect
    y++;
    malloc(); // 702: collects
    y++;
    r.push(OP_MALLOC, 2 | FLAG_YOUNG | FLAG_COLLECTING, y, 0, (p += 64));
    r.push(OP_FREE, 2 | FLAG_YOUNG, 0, 0x1040, 0);
    const res = r.end();
    expect(res.agreement.notTaken).toBe(1);
    expect(res.agreement.missed).toBe(1);
    expect(res.model.perGeneration).toEqual([1, 0, 0]);
  });
});
