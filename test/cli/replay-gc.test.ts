// `cpymem replay --gc-threshold / --as-python` and `cpymem compare`: the GC model beside the
// pymalloc one, on real bundles.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { memoryIo } from '../../src/util/io.js';
import { FIXTURES } from '../helpers/fixtures.js';

const b311 = join(FIXTURES, 'bundles', '3.11.7-linux-x86_64', 'gc-thresholds-default');
const b313 = join(FIXTURES, 'bundles', '3.13.0-linux-x86_64', 'gc-thresholds-default');
const tmp = mkdtempSync(join(tmpdir(), 'cpymem-replay-gc-'));

describe('cpymem replay: GC what-if', () => {
  it('--gc-threshold: the predicted collections per generation beside the recorded ones (--json: a gc key)', async () => {
    const io = memoryIo(tmp);
    expect(await main(['replay', b311, '--gc-threshold', '2000,10,10', '--json', '--quiet'], io)).toBe(0);
    const gc = JSON.parse(io.out).gc;
    expect(gc.python).toBe('3.11.7');
    expect(gc.agreement.exact).toBe(true);
    expect(gc.recorded.automatic[0]).toBeGreaterThan(20);
    expect(gc.whatIf).toMatchObject({ python: '3.11.7', trigger: 'in-allocation', thresholds: [2000, 10, 10], pinned: true });
    // fewer young collections at a threshold almost three times as high
    expect(gc.whatIf.perGeneration[0]).toBeLessThan(gc.model.perGeneration[0] / 2);
    const text = memoryIo(tmp);
    expect(await main(['replay', b311, '--gc-threshold', '100', '--quiet'], text)).toBe(0);
    expect(text.out).toMatch(/GC \(collects inside the allocation, thresholds 700\/10\/10\)/);
    expect(text.out).toMatch(/what if\s+\d+\s+\d+\s+\d+\s+\(100\/10\/10/);
    expect(text.out).toMatch(/predicted to the record/);
  });

  it("--as-python 3.13: that version's collector (eval breaker, 2000/10/10) on a 3.11 run", async () => {
    const io = memoryIo(tmp);
    expect(await main(['replay', b311, '--as-python', '3.13', '--json', '--quiet'], io)).toBe(0);
    const gc = JSON.parse(io.out).gc;
    expect(gc.whatIf).toMatchObject({ python: '3.13', trigger: 'eval-breaker', thresholds: [2000, 10, 10], pinned: false });
    expect(gc.whatIf.forkedAtRecord).toBeGreaterThan(0);
  });

  it('bad --gc-threshold, or an input without the young counter: exit 2 with the reason', async () => {
    let io = memoryIo(tmp);
    expect(await main(['replay', b311, '--gc-threshold', '2000,x'], io)).toBe(2);
    expect(io.err).toMatch(/--gc-threshold: expected up to three non-negative integers like 2000,10,10, found "2000,x"/);
    io = memoryIo(tmp);
    expect(await main(['replay', b311, '--as-python', '3.7', '--gc-threshold', '10'], io)).toBe(2);
    expect(io.err).toMatch(/no GC model for CPython 3.7/);
    const csv = join(tmp, 'events.csv.gz');
    expect(await main(['export', b311, '--csv', '-o', csv, '--quiet'], memoryIo(tmp))).toBe(0);
    io = memoryIo(tmp);
    expect(await main(['replay', csv, '--python', '3.11', '--gc-threshold', '2000'], io)).toBe(2);
    expect(io.err).toMatch(/an events CSV has no young counter/);
  }, 60_000);
});

describe('cpymem replay -o: the GC panels with the model against the recording', () => {
  it('3.11 at --gc-threshold 2000,10,10: every collection matched, the what-if beside the whole run', async () => {
    const out = join(tmp, 'replay-gc.html');
    const io = memoryIo(tmp);
    expect(await main(['replay', b311, '--gc-threshold', '2000,10,10', '-o', out, '--quiet'], io)).toBe(0);
    const html = readFileSync(out, 'utf8');
    // the replay's sections and the GC ones (the page shell decides where they stand)
    const at = (id: string) => html.indexOf(`<section id="${id}">`);
    for (const id of ['replay', 'pinned', 'model-vs-real']) expect(at(id), id).toBeGreaterThanOrEqual(0);
    expect(at('gc')).toBeGreaterThanOrEqual(0);
    expect(at('gc-pauses')).toBeGreaterThan(at('gc'));
    expect(at('gc-model')).toBeGreaterThan(at('gc-pauses'));
    const gc = JSON.parse(html.match(/<script type="application\/json" id="cpymem-data">([\s\S]*?)<\/script>/)![1]!).replay.gc;
    const m = gc.models[0];
    // the recorder's own count (manifest gcCollections): 33 / 3 / 1, every one placed by the model
    expect(m.rows.map((r: { recorded: number }) => r.recorded)).toEqual([33, 3, 1]);
    expect(m.rows.map((r: { matched: number }) => r.matched)).toEqual([33, 3, 1]);
    expect(m.exact).toBe(true);
    // the whole run 43 / 3 / 4; under 2000,10,10 from the script's start, 21 / 1 / 4 (docs/gc-model.md)
    expect(m.rows.map((r: { wholeRun: number }) => r.wholeRun)).toEqual([43, 3, 4]);
    expect(m.whatIf).toMatchObject({ title: 'what if', python: '3.11.7', thresholds: [2000, 10, 10] });
    expect(m.rows.map((r: { whatIf: number }) => r.whatIf)).toEqual(JSON.parse((await replayJson(['--gc-threshold', '2000,10,10'])).out).gc.whatIf.perGeneration);
    expect(html).toContain('what if (2000/10/10)');
    expect(gc.logs[0].summary.generations.map((g: { collections: number }) => g.collections)).toEqual([33, 3, 1]);
  }, 60_000);

  it('an events CSV has no gc.jsonl and no young counter: no GC sections', async () => {
    const csv = join(tmp, 'no-gc.csv.gz');
    expect(await main(['export', b311, '--csv', '-o', csv, '--quiet'], memoryIo(tmp))).toBe(0);
    const out = join(tmp, 'no-gc.html');
    expect(await main(['replay', csv, '--python', '3.11', '-o', out, '--quiet'], memoryIo(tmp))).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<section id="replay">');
    expect(html).not.toContain('<section id="gc');
  }, 60_000);
});

async function replayJson(extra: string[]) {
  const io = memoryIo(tmp);
  expect(await main(['replay', b311, '--json', '--quiet', ...extra], io)).toBe(0);
  return io;
}

describe('cpymem compare: GC predicted against recorded', () => {
  it('3.11: every collection predicted exactly; exit 0', async () => {
    const io = memoryIo(tmp);
    expect(await main(['compare', b311, '--quiet'], io)).toBe(0);
    expect(io.out).toContain('gc: every collection predicted exactly (position and generation)');
    const js = memoryIo(tmp);
    expect(await main(['compare', b311, '--json', '--quiet'], js)).toBe(0);
    const out = JSON.parse(js.out);
    expect(out.gcAgrees).toBe(true);
    expect(out.gc.agreement).toMatchObject({ claimsExactness: true, exact: true, missed: 0, unpredicted: 0, generationMismatch: 0 });
  });

  it('3.13: agreement reported (generations, eval-breaker delays), not claimed exact; --gc-strict holds it to the generations', async () => {
    const io = memoryIo(tmp);
    expect(await main(['compare', b313, '--quiet'], io)).toBe(0);
    expect(io.out).toMatch(/eval breaker: \d+ \/ \d+ ran right after becoming due/);
    expect(io.out).toContain('measured not claimed');
    expect(await main(['compare', b313, '--gc-strict', '--quiet'], memoryIo(tmp))).toBe(0);
  });
});
