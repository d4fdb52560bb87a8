// `cpymem report` with tracemalloc snapshots (growth, leak suspects, packing) and `cpymem packing`,
// on real fixtures: the numbers are the interpreters' own (truth.json, packing.json, the dump text).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { memoryIo } from '../../src/util/io.js';
import { tracemallocFixtures } from '../helpers/tracemalloc-fixtures.js';

async function run(...argv: string[]) {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err };
}

const f = tracemallocFixtures().find((x) => x.name.startsWith('3.11.7'))!;
const snap = (k: string) => join(f.dir, f.truth.snapshots[k]!.file);

describe('cpymem report of tracemalloc snapshots', () => {
  it('shows traced memory over the snapshots and ranks the steady leak first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpymem-tm-report-'));
    const html = join(dir, 'r.html');
    const json = join(dir, 'r.json');
    const r = await run('report', snap('A'), snap('B'), snap('C'), '-o', html, '--json', json, '--quiet');
    expect(r.code).toBe(0);
    const data = JSON.parse(readFileSync(json, 'utf8')).tracemalloc;
    expect(data.growth.snapshots.map((s: { size: number; traces: number }) => [s.traces, s.size])).toEqual(
      ['A', 'B', 'C'].map((k) => [f.truth.snapshots[k]!.traces, f.truth.snapshots[k]!.size]),
    );
    // The workload appends to LEAK at one line in every phase: the top suspect.
    expect(data.growth.suspects[0].site).toBe(`${f.truth.workdir}/tracemalloc_workload.py:${f.truth.workload_lines.leak}`);
    expect(data.growth.suspects[0].stepsUp).toBe(2);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('id="chart-traced-memory"');
    expect(page).toContain('id="chart-growing-sites"');
    expect(page).toContain('Leak suspects');
    expect(page).toContain('cpymem report: tracemalloc snapshots');
    // File names from the pickle (pseudo-files like <frozen …>) are escaped, never markup.
    expect(page).not.toMatch(/<frozen|<string>/);
    // Same input, same bytes.
    const again = join(dir, 'r2.html');
    await run('report', snap('A'), snap('B'), snap('C'), '-o', again, '--quiet');
    expect(readFileSync(again, 'utf8')).toBe(page);
  });

  it('beside a malloc-stats dump: both reports in one page, and the packing against the real arenas', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpymem-tm-report-'));
    const json = join(dir, 'r.json');
    const r = await run('report', join(f.dir, 'packing.pickle.gz'), join(f.dir, 'packing-mallocstats.txt'), '-o', join(dir, 'r.html'), '--json', json, '--quiet');
    expect(r.code).toBe(0);
    const data = JSON.parse(readFileSync(json, 'utf8'));
    expect(data.dumps).toHaveLength(1);
    expect(data.tracemalloc.packing.real.arenas).toBe(data.dumps[0].arenasCurrent);
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toContain('Implied pymalloc packing');
  });
});

describe('cpymem packing', () => {
  const truth = JSON.parse(readFileSync(join(f.dir, 'packing.json'), 'utf8')) as { size_class_counts: [number, number][]; alignment: number };
  const dumpText = readFileSync(join(f.dir, 'packing-mallocstats.txt'), 'utf8');
  const printed = (label: string) => Number(new RegExp(`^${label} *= *([\\d,]+)$`, 'm').exec(dumpText)![1]!.replace(/,/g, ''));

  it('puts the traces in the size classes the interpreter counted, and needs no more arenas than it had', async () => {
    const r = await run('packing', join(f.dir, 'packing.pickle.gz'), '--malloc-stats', join(f.dir, 'packing-mallocstats.txt'), '--json');
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out);
    expect(p.geometry).toMatchObject({ alignment: 16, poolSize: 16384, arenaSize: 1048576, poolOverhead: 48 });
    expect(p.classes.filter((c: { blocks: number }) => c.blocks > 0).map((c: { index: number; blocks: number }) => [c.index, c.blocks])).toEqual(truth.size_class_counts);
    expect(p.real.arenas).toBe(printed('# arenas allocated current'));
    expect(p.minArenas).toBeLessThanOrEqual(p.real.arenas);
    for (const c of p.classes) expect(c.minPools).toBe(Math.ceil(c.blocks / Math.floor((16384 - 48) / c.size)));
  });

  it('prints a table, and says which geometry it assumed without a dump', async () => {
    const r = await run('packing', snap('B'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/assumed from the snapshot's trace shape/);
    expect(r.out).toMatch(/^minimum: \d+ pools → \d+ arenas of 64 pools/m);
  });
});
