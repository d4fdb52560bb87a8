// `cpymem gc`: per-generation collections and what they found, from real GC logs of every CPython
// the fixtures hold, equal to the gc.get_stats() difference the same process recorded around the log.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { memoryIo } from '../../src/util/io.js';
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
  it("counts the collections the bundle's manifest recorded, and the share of run time", async () => {
    const bundle = join(FIXTURES, 'bundles', '3.11.7-linux-x86_64', 'tuple-churn');
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
    const { code, json } = await gcJson(bundle);
    expect(code).toBe(0);
    const log = json.logs[0];
    expect(log.generations.map((g: Stats) => g.collections)).toEqual(manifest.counts.gcCollections);
    expect(log.durationSeconds).toBe(manifest.durationMs / 1000);
    expect(log.timeInGcShare).toBeGreaterThan(0);
    expect(log.timeInGcShare).toBeLessThan(1);
  });

  it('a file that is no GC log is exit 2, naming it', async () => {
    const io = memoryIo(FIXTURES);
    const f = join(FIXTURES, 'malloc-stats', '3.11.7-linux-x86_64', 'dict-churn.txt');
    expect(await main(['gc', f], io)).toBe(2);
    expect(io.err).toContain('dict-churn.txt');
    expect(io.err).toContain('expected a GC log');
  });
});
