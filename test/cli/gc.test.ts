// `cpymem gc`: per-generation collections and what they found, from real GC logs of every CPython
// the fixtures hold, equal to the gc.get_stats() difference the same process recorded around the log.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { memoryIo } from '../../src/util/io.js';
import { launchBrowser, openReport } from '../helpers/browser.js';
import { FIXTURES } from '../helpers/fixtures.js';

interface Stats {
  collections: number;
  collected: number;
  uncollectable: number;
}

const root = join(FIXTURES, 'gc');
const cases = readdirSync(root)
  .filter((d) => existsSync(join(root, d, 'ground-truth.json')))
  .flatMap((d) => {
    const truth = JSON.parse(readFileSync(join(root, d, 'ground-truth.json'), 'utf8')) as {
      files: Record<string, { stats_diff?: Stats[]; callbacks?: { collections: number[]; collected: number[]; uncollectable: number[] } }>;
    };
    // What the log can show is every collection CPython announced: its gc.callbacks counts in the
    // same process. They equal the gc.get_stats() difference on every version but 3.14.0–3.14.4,
    // whose incremental collector also calls the callbacks for increments that only mark.
    return Object.entries(truth.files)
      .filter(([, f]) => f.callbacks ?? f.stats_diff)
      .map(([name, f]) => {
        const cb = f.callbacks;
        const diff: Stats[] = cb ? cb.collections.map((n, g) => ({ collections: n, collected: cb.collected[g]!, uncollectable: cb.uncollectable[g]! })) : f.stats_diff!;
        return { name: `${d}/${name}`, file: join(root, d, name), diff };
      });
  });

async function gcJson(...files: string[]) {
  const io = memoryIo(FIXTURES);
  const code = await main(['gc', ...files, '--json'], io);
  return { code, json: code === 0 ? JSON.parse(io.out) : null, err: io.err };
}

describe('cpymem gc on real logs', () => {
  it('DEBUG_COLLECTABLE/UNCOLLECTABLE logs: the objects listed per type are what gc.garbage held (DEBUG_SAVEALL)', async () => {
    const dir = join(root, '3.11.7-linux-x86_64');
    const f = (JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8')) as { files: Record<string, { garbage_types: Record<string, number>; garbage_len: number }> }).files['debug-collectable.txt']!;
    const { code, json } = await gcJson(join(dir, 'debug-collectable.txt'));
    expect(code).toBe(0);
    const log = json.logs[0];
    expect(log.collectableByType.Node).toBe(f.garbage_types.Node);
    expect(log.uncollectableByType.Legacy).toBe(f.garbage_types.Legacy);
    expect(log.uncollectableAtShutdown).toBe(f.garbage_len);
    const io = memoryIo(FIXTURES);
    await main(['gc', join(dir, 'debug-collectable.txt')], io);
    expect(io.out).toContain(`Node ${f.garbage_types.Node}`);
    expect(io.out).toContain(`at shutdown: ${f.garbage_len.toLocaleString('en-US')} uncollectable objects in gc.garbage`);
  });

  it('has logs with gc.get_stats() ground truth from 3.8 to 3.13', () => {
    for (const v of ['3.8', '3.9', '3.10', '3.11', '3.12', '3.13']) expect(cases.some((c) => c.name.startsWith(`${v}.`))).toBe(true);
  });

  for (const c of cases) {
    it(`${c.name}: collections, collected and uncollectable per generation as CPython counted them`, async () => {
      const { code, json } = await gcJson(c.file);
      expect(code).toBe(0);
      const gens = json.logs[0].generations as (Stats & { generation: number })[];
      c.diff.forEach((d, g) => {
        const row = gens.find((x) => x.generation === g)!;
        expect({ collections: row.collections, collected: row.collected, uncollectable: row.uncollectable }, `generation ${g}`).toEqual(d);
      });
    });
  }
});

describe('cpymem gc on a capture bundle', () => {
  it("counts the collections the bundle's manifest recorded, and the share of run time; the GC model's counts beside them", async () => {
    const bundle = join(FIXTURES, 'bundles', '3.11.7-linux-x86_64', 'tuple-churn');
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
    const { code, json } = await gcJson(bundle);
    expect(code).toBe(0);
    const log = json.logs[0];
    expect(log.generations.map((g: Stats) => g.collections)).toEqual(manifest.counts.gcCollections);
    expect(log.durationSeconds).toBe(manifest.durationMs / 1000);
    expect(log.timeInGcShare).toBeGreaterThan(0);
    expect(log.timeInGcShare).toBeLessThan(1);
    // 3.11 collects inside the allocation: the model names every logged collection, to the record
    expect(log.modelUnavailable).toBeNull();
    expect(log.model.python).toBe('3.11.7');
    expect(log.model.agreement).toMatchObject({ exact: true, missed: 0, unpredicted: 0, generationMismatch: 0 });
    const logged = log.model.recorded.automatic.map((n: number, g: number) => n + log.model.recorded.explicit[g]);
    expect(logged).toEqual(manifest.counts.gcCollections);
    expect(log.model.model.perGeneration.reduce((a: number, b: number) => a + b, 0)).toBe(manifest.counts.gcCollections.reduce((a: number, b: number) => a + b, 0) + log.model.recorded.unlogged);
  });

  it('prints the model per generation next to the recorded collections', async () => {
    const io = memoryIo(FIXTURES);
    expect(await main(['gc', join(FIXTURES, 'bundles', '3.11.7-linux-x86_64', 'gc-thresholds-default')], io)).toBe(0);
    // the recorder logged 33 / 3 / 1 (manifest gcCollections); the model adds 10 young collections of
    // the start-up before the recorder attached and 3 full ones at shutdown
    expect(io.out).toMatch(/recorded \(callbacks logged\)\s+33\s+3\s+1\s+\+ 13 without callbacks/);
    expect(io.out).toMatch(/\n\s+model\s+43\s+3\s+4\n/);
    expect(io.out).toContain('36 / 36 automatic collections predicted to the record, generation included; missed 0, unpredicted 0, other generation 0');
  });

  it('a file that is no GC log is exit 2, naming it', async () => {
    const io = memoryIo(FIXTURES);
    const f = join(FIXTURES, 'malloc-stats', '3.11.7-linux-x86_64', 'dict-churn.txt');
    expect(await main(['gc', f], io)).toBe(2);
    expect(io.err).toContain('dict-churn.txt');
    expect(io.err).toContain('expected a GC log');
  });
});

describe('cpymem gc -o: the GC report', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cpymem-gc-'));
  const embedded = (html: string) => JSON.parse(html.match(/<script type="application\/json" id="cpymem-data">([\s\S]*?)<\/script>/)![1]!);

  it('a DEBUG_STATS log: the GC panels, per-generation counts as CPython counted them, no model section', async () => {
    const f = join(root, '3.12.1-linux-x86_64', 'debug-stats.txt');
    const truth = cases.find((c) => c.name === '3.12.1-linux-x86_64/debug-stats.txt')!.diff;
    const out = join(tmp, 'r.html');
    const io = memoryIo(tmp);
    expect(await main(['gc', f, '-o', out], io)).toBe(0);
    expect(io.err).toContain(`wrote ${out}`);
    const html = readFileSync(out, 'utf8');
    for (const id of ['gc', 'gc-pauses']) expect(html).toContain(`<section id="${id}">`);
    expect(html).not.toContain('<section id="gc-model">');
    expect(html).not.toContain('<section id="where">'); // no malloc-stats sections in a GC-only page
    expect(html).toContain('<footer><p>Numbers are the collections the logs recorded');
    expect(html).not.toContain('tracemalloc');
    const gc = embedded(html).gc;
    expect(gc.schema).toBe('cpymem-gc-report/1');
    expect(gc.logs[0].summary.generations.map((g: Stats) => g.collections)).toEqual(truth.map((d) => d.collections));
    expect(gc.logs[0].summary.generations.map((g: Stats) => g.collected)).toEqual(truth.map((d) => d.collected));
    // one script only, the JSON data block; nothing fetched
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('a capture bundle and a log together, with --json: the model section for the bundle; same bytes twice', async () => {
    const bundle = join(FIXTURES, 'bundles', '3.13.0-linux-x86_64', 'gc-thresholds-default');
    const log = join(root, '3.13.0-linux-x86_64', 'callbacks.jsonl');
    const a = join(tmp, 'a.html');
    const b = join(tmp, 'b.html');
    const io = memoryIo(tmp);
    expect(await main(['gc', bundle, log, '-o', a, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out).logs).toHaveLength(2);
    expect(await main(['gc', bundle, log, '-o', b], memoryIo(tmp))).toBe(0);
    const html = readFileSync(a, 'utf8');
    expect(readFileSync(b, 'utf8')).toBe(html);
    const gc = embedded(html).gc;
    expect(gc.logs.map((l: { file: string }) => l.file)).toEqual([bundle, log]);
    expect(gc.models).toHaveLength(1);
    // 3.13: 11 / 1 / 1 logged, each with the generation the eval breaker re-selected
    expect(gc.models[0].rows.map((r: { recorded: number; matched: number }) => [r.recorded, r.matched])).toEqual([[11, 11], [1, 1], [1, 1]]);
    expect(html).toContain('<section id="gc-model">');
    expect(html).toContain('positions at the eval breaker are measured, not claimed');

    // in a real headless Chromium: no console or page errors, nothing fetched, every chart drawn
    const browser = await launchBrowser();
    try {
      const run = await openReport(browser, a, join(tmp, 'gc.png'));
      expect(run.problems).toEqual([]);
      expect(run.requests.every((u) => u.startsWith('file://') || u.startsWith('data:'))).toBe(true);
      // two logs × (timeline, collected, pauses) + the model's counts and its record timeline
      expect(run.svgBoxes).toHaveLength(8);
      for (const box of run.svgBoxes) expect(box.visible && box.width > 300 && box.height > 100, JSON.stringify(box)).toBe(true);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe('cpymem gc on damaged capture bundles', () => {
  const bundle = join(FIXTURES, 'bundles', '3.11.7-linux-x86_64', 'tuple-churn');
  const copy = () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cpymem-gc-bad-')), 'run.cpymem');
    cpSync(bundle, dir, { recursive: true });
    return dir;
  };

  it('events cut short: exit 2 naming the events file (the GC model cannot run on them)', async () => {
    const dir = copy();
    const gz = readFileSync(join(dir, 'events.bin.gz'));
    writeFileSync(join(dir, 'events.bin.gz'), gz.subarray(0, gz.length >> 1));
    const io = memoryIo(dir);
    expect(await main(['gc', dir], io)).toBe(2);
    expect(io.err).toMatch(/run\.cpymem\/events\.bin\.gz: byte \d+: expected a complete gzip stream, found it cut short at the end of the file/);
  });

  it('gc.jsonl cut in the middle of a line: the collections before it, and the warnings said', async () => {
    const dir = copy();
    const lines = readFileSync(join(bundle, 'gc.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
    writeFileSync(join(dir, 'gc.jsonl'), `${lines.slice(0, 11).join('\n')}\n${lines[11]!.slice(0, 20)}`);
    const io = memoryIo(dir);
    expect(await main(['gc', dir], io)).toBe(0);
    // 11 whole lines: 5 start/stop pairs and one start without its stop
    expect(io.out).toMatch(/gc\.jsonl \(CPython >=3\.3\), 6 collections/);
    expect(io.out).toMatch(/warnings while reading: W_GC_BAD_JSON ×1, W_GC_TRUNCATED ×1/);
  });
});
