// `cpymem top` / `cpymem diff` against what real CPython printed for the same snapshots
// (fixtures/tracemalloc: every pyenv CPython 3.6–3.13 and pyodide 3.11–3.14), byte for byte.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { memoryIo } from '../../src/util/io.js';
import { cliArgs, GEN, missingSources, tracemallocFixtures } from '../helpers/tracemalloc-fixtures.js';

/** In-process, with the workload's directory as the working directory (linecache reads relative names from it). */
async function run(...argv: string[]) {
  const io = memoryIo(GEN);
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err };
}

const fixtures = tracemallocFixtures();

describe('cpymem top/diff print what CPython printed', () => {
  it('has fixtures of every CPython 3.6–3.13 and pyodide 3.11–3.14', () => {
    const names = fixtures.map((f) => f.name);
    for (const v of ['3.6.', '3.7.', '3.8.', '3.9.', '3.10.', '3.11.', '3.12.', '3.13.']) expect(names.some((n) => n.startsWith(v) && n.includes('linux'))).toBe(true);
    for (const v of ['3.11.', '3.12.', '3.13.', '3.14.']) expect(names.some((n) => n.startsWith(v) && n.includes('wasm32'))).toBe(true);
  });

  for (const f of fixtures) {
    describe(f.name, () => {
      for (const o of f.truth.outputs) {
        if (o.kind !== 'statistics' && o.kind !== 'compare_to') continue;
        const snapshots = o.snapshot === 'protocol' ? f.truth.protocols.map((p) => p.file) : [null];
        for (const proto of snapshots) {
          const title = `${o.file}${proto ? ` from ${proto}` : ''}`;
          const expected = readFileSync(join(f.dir, o.file), 'utf8');
          const body = o.header ? expected.slice(expected.indexOf('\n') + 1) : expected;
          const missing = o.source === 'linecache' ? missingSources(f, body) : [];
          it.skipIf(missing.length > 0)(title, async () => {
            const args = cliArgs(f, o, (key) => join(f.dir, proto ?? f.truth.snapshots[key]!.file));
            const r = await run(...args);
            expect(r.err).toBe('');
            expect(r.code).toBe(0);
            expect(r.out).toBe(body);
          });
        }
      }
    });
  }
});

describe('cpymem top/diff options', () => {
  const f = fixtures.find((x) => x.name.startsWith('3.11.7'))!;
  const snap = (k: string) => join(f.dir, f.truth.snapshots[k]!.file);

  it('--json has the statistics, exact numbers and CPython\'s text', async () => {
    const r = await run('top', snap('B'), '--json', '--limit', '5');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const o = f.truth.outputs.find((x) => x.file === 'stats-B-lineno.txt')!;
    const text = readFileSync(join(f.dir, o.file), 'utf8').split('\n');
    expect(j).toMatchObject({ schema: 1, command: 'top', groupBy: 'lineno', cumulative: false, limit: 5 });
    expect(j.traces).toBe(f.truth.snapshots.B!.traces);
    expect(j.size).toBe(f.truth.snapshots.B!.size);
    expect(j.top).toHaveLength(5);
    j.top.forEach((s: { text: string; size: number; count: number; frame: { lineno: number } }, i: number) => {
      expect(s.text).toBe(text[i]);
      expect([s.frame.lineno, s.size, s.count]).toEqual(o.values[i]);
    });
  });

  it('diff --json has the exact differences', async () => {
    const r = await run('diff', snap('A'), snap('B'), '--json', '--limit', '0');
    const j = JSON.parse(r.out);
    const o = f.truth.outputs.find((x) => x.file === 'compare-B-A-lineno-30.txt')!;
    expect(j.top.slice(0, 30).map((s: { frame: { lineno: number }; size: number; sizeDiff: number; count: number; countDiff: number }) => [s.frame.lineno, s.size, s.sizeDiff, s.count, s.countDiff])).toEqual(o.values);
    expect(j.size).toEqual({ old: f.truth.snapshots.A!.size, new: f.truth.snapshots.B!.size });
  });

  it('refuses --cumulative with --group-by traceback as CPython does (exit 2)', async () => {
    const r = await run('top', snap('B'), '--group-by', 'traceback', '--cumulative');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cumulative mode cannot by used/);
  });

  it('refuses printed text with a pointer to inspect (exit 2)', async () => {
    const r = await run('top', join(f.dir, 'stats-B-lineno.txt'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/expected a tracemalloc snapshot.*found tracemalloc-text.*inspect/);
  });

  it('notes on stderr when 3-field traces leave the traceback order open', async () => {
    const f36 = fixtures.find((x) => x.name.startsWith('3.6.'))!;
    const r = await run('top', join(f36.dir, 'snapshot-B.pickle'), '--group-by', 'traceback', '--limit', '1', '--no-source');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/3\.6–3\.8.*--python 3\.6/);
  });

  it('reads gzip snapshots', async () => {
    const r = await run('top', join(f.dir, 'packing.pickle.gz'), '--limit', '3');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toHaveLength(4);
  });
});
