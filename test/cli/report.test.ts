import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { runReport } from '../../src/cli/report.js';
import { InputError } from '../../src/util/errors.js';
import { memoryIo } from '../../src/util/io.js';
import { mallocStatsFixtures } from '../helpers/fixtures.js';
import { printedTotals } from '../helpers/printed-values.js';

const fixtures = mallocStatsFixtures();
const pick = (version: string, name: string) => fixtures.find((f) => f.name.includes(`/${version}`) && f.name.endsWith(`/${name}.txt`))!;
const tmp = mkdtempSync(join(tmpdir(), 'cpymem-report-'));

async function run(cwd: string, ...argv: string[]) {
  const io = memoryIo(cwd);
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('cpymem report', () => {
  it('writes the HTML page and prints its path', async () => {
    const f = pick('3.10', 'arena-release');
    const out = join(tmp, 'one', 'r.html');
    const { code, out: stdout } = await run(tmp, 'report', f.txt, '-o', out);
    expect(code).toBe(0);
    expect(stdout).toBe(`${out}\n`);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<svg');
    expect(readdirSync(join(tmp, 'one'))).toEqual(['r.html']); // no temporary file left behind
  });

  it('defaults to reports/report.html under the working directory', async () => {
    const cwd = mkdtempSync(join(tmp, 'cwd-'));
    const io = memoryIo(cwd);
    expect(await runReport({ inputs: [pick('3.9', 'bytes-random').txt] }, io)).toBe(0);
    expect(io.out).toBe(`${join(cwd, 'reports', 'report.html')}\n`);
  });

  it('--json writes the report data with sorted keys and the printed numbers', async () => {
    const f = pick('3.12', 'dict-churn');
    const json = join(tmp, 'data.json');
    const { code } = await run(tmp, 'report', f.txt, '-o', join(tmp, 'data.html'), '--json', json);
    expect(code).toBe(0);
    const text = readFileSync(json, 'utf8');
    const data = JSON.parse(text);
    expect(text).toBe(`${JSON.stringify(sortDeep(data), null, 2)}\n`);
    expect(data.dumps).toHaveLength(f.truth.dumps.length);
    data.dumps.forEach((d: { arenaBytes: number; allocatedBytes: number }, i: number) => {
      const printed = printedTotals(f.truth.dumps[i]!.printed);
      expect(d.arenaBytes).toBe(printed.total);
      expect(d.allocatedBytes).toBe(printed.allocated);
    });
  });

  it('is deterministic across runs', async () => {
    const f = pick('3.8', 'pythonmallocstats-small-objects');
    await run(tmp, 'report', f.txt, '-o', join(tmp, 'a.html'));
    await run(tmp, 'report', f.txt, '-o', join(tmp, 'b.html'));
    expect(readFileSync(join(tmp, 'a.html'))).toEqual(readFileSync(join(tmp, 'b.html')));
  });

  it('--recursive reads every *.txt that sniffs as malloc stats, sorted by path', async () => {
    const dir = join(tmp, 'tree');
    mkdirSync(join(dir, 'b'), { recursive: true });
    mkdirSync(join(dir, 'a'), { recursive: true });
    copyFileSync(pick('3.11', 'bytes-random').txt, join(dir, 'b', 'z.txt'));
    copyFileSync(pick('3.6', 'dict-churn').txt, join(dir, 'a', 'y.txt'));
    copyFileSync(pick('3.13', 'mimalloc-dump').txt, join(dir, 'b', 'm.txt'));
    writeFileSync(join(dir, 'a', 'notes.txt'), 'just some notes\n');
    writeFileSync(join(dir, 'a', 'ignored.json'), '{}');
    const json = join(tmp, 'tree.json');
    const { code, err } = await run(tmp, 'report', 'tree', '--recursive', '-o', join(tmp, 'tree.html'), '--json', json);
    expect(code).toBe(0);
    expect(err).toMatch(/skipped 1 file/);
    const data = JSON.parse(readFileSync(json, 'utf8'));
    expect(data.inputs.map((i: { file: string }) => i.file)).toEqual(['tree/a/y.txt', 'tree/b/m.txt', 'tree/b/z.txt']);
  });

  it('a directory without --recursive is bad input: exit 2', async () => {
    const { code, err } = await run(tmp, 'report', 'tree', '-o', join(tmp, 'x.html'));
    expect(code).toBe(2);
    expect(err).toMatch(/--recursive/);
  });

  it('a missing file, or a file that is not malloc stats, is bad input: exit 2', async () => {
    expect((await run(tmp, 'report', 'nope.txt', '-o', join(tmp, 'x.html'))).code).toBe(2);
    writeFileSync(join(tmp, 'prose.txt'), 'hello\n');
    expect((await run(tmp, 'report', 'prose.txt', '-o', join(tmp, 'x.html'))).code).toBe(2);
    await expect(runReport({ inputs: ['prose.txt'], output: join(tmp, 'x.html') }, memoryIo(tmp))).rejects.toBeInstanceOf(InputError);
  });

  it('--strict turns a reading warning into exit 2; without it the warning is counted in the page', async () => {
    const lines = readFileSync(pick('3.11', 'tuple-fragmentation').txt, 'utf8').split('\n');
    const end = lines.findIndex((l) => l.startsWith('# bytes in available blocks'));
    writeFileSync(join(tmp, 'cut.txt'), `${lines.slice(0, end + 1).join('\n')}\n`);
    const strict = await run(tmp, 'report', 'cut.txt', '--strict', '-o', join(tmp, 'cut-strict.html'));
    expect(strict.code).toBe(2);
    const lax = await run(tmp, 'report', 'cut.txt', '-o', join(tmp, 'cut.html'));
    expect(lax.code).toBe(0);
    expect(lax.err).toMatch(/warning/);
    const html = readFileSync(join(tmp, 'cut.html'), 'utf8');
    expect(html).toMatch(/<section id="warnings">[\s\S]*W_TRUNCATED/);
  });
});

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]));
  return v;
}
