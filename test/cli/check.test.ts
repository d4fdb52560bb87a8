// `cpymem check`: gates set on the numbers CPython printed must pass at exactly those numbers and
// fail one below, naming where; JUnit and the baseline round trip; bad input is exit 2.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { memoryIo } from '../../src/util/io.js';
import { FIXTURES, mallocStatsFixtures } from '../helpers/fixtures.js';
import { printedTotals } from '../helpers/printed-values.js';

const tmp = mkdtempSync(join(tmpdir(), 'cpymem-check-'));
const fixtures = mallocStatsFixtures();
const pick = (version: string, name: string) => fixtures.find((f) => f.name.includes(`/${version}`) && f.name.endsWith(`/${name}.txt`))!;

async function run(...argv: string[]) {
  const io = memoryIo(tmp);
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('cpymem check on real dumps', () => {
  const f = pick('3.11', 'arena-release');
  const printed = f.truth.dumps.map((d) => printedTotals(d.printed));
  const maxArenas = Math.max(...printed.map((p) => p.arenasCurrent!));
  const worst = printed.findIndex((p) => p.arenasCurrent === maxArenas);
  const last = printed.at(-1)!;
  const lastFragmentation = (last.total! - last.allocated!) / last.total!;

  it('passes at the printed values', async () => {
    const r = await run('check', f.txt, '--max-arenas', String(maxArenas), '--max-reserved', String(Math.max(...printed.map((p) => p.total!))), '--max-fragmentation', String(lastFragmentation));
    expect(r.code).toBe(0);
    expect(r.out).toContain('3 of 3 gate(s) passed');
  });

  it('fails one below, with one line per failed gate naming the dump', async () => {
    const r = await run('check', f.txt, '--max-arenas', String(maxArenas - 1), '--max-fragmentation', String(lastFragmentation - 0.001), '--quiet');
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`FAIL max-arenas: arenas ${maxArenas} > limit ${maxArenas - 1} (${f.txt} dump ${worst + 1}, line ${f.truth.dumps[worst]!.line})`);
    expect(lines[1]).toMatch(/^FAIL max-fragmentation: fragmentation \d+\.\d% > limit/);
  });

  it('writes JUnit XML with one test case per gate', async () => {
    const junit = join(tmp, 'gates.xml');
    const r = await run('check', f.txt, '--max-arenas', String(maxArenas - 1), '--max-fragmentation', '0.99', '--junit', junit, '--quiet');
    expect(r.code).toBe(1);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(xml.match(/<testcase /g)).toHaveLength(2);
    expect(xml).toContain('<testsuite name="cpymem check" tests="2" failures="1"');
    expect(xml).toContain(`<failure message="arenas ${maxArenas} &gt; limit ${maxArenas - 1}`);
  });

  it('growth against a baseline written by --json', async () => {
    const base = pick('3.11', 'dict-churn');
    const baseline = join(tmp, 'baseline.json');
    const b = await run('check', base.txt, '--json');
    expect(b.code).toBe(0);
    writeFileSync(baseline, b.out);
    const json = JSON.parse(b.out);
    const baseArenas = Math.max(...base.truth.dumps.map((d) => printedTotals(d.printed).arenasCurrent!));
    expect(json.metrics.arenas.value).toBe(baseArenas);
    const growth = (maxArenas - baseArenas) / baseArenas;
    const limit = growth > 0 ? growth / 2 : 0;
    const r = await run('check', f.txt, '--baseline', baseline, '--max-growth', String(limit), '--json');
    const gates = JSON.parse(r.out).gates as { subject: string; value: number; pass: boolean }[];
    const arenas = gates.find((g) => g.subject === 'arenas vs baseline')!;
    expect(arenas.value).toBeCloseTo(growth, 12);
    expect(arenas.pass).toBe(growth <= limit);
    expect(r.code).toBe(gates.every((g) => g.pass) ? 0 : 1);
  });

  it('a gate with nothing to measure fails rather than passing silently', async () => {
    const r = await run('check', f.txt, '--max-pinned-arenas', '5');
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL max-pinned-arenas: pinned arenas: not measured (needs a capture bundle');
  });
});

describe('cpymem check on a capture bundle', () => {
  const bundle = join(FIXTURES, 'bundles', '3.11.7-linux-x86_64', 'tuple-churn');
  it('model-must-match passes on a real run; pinned arenas are measured', async () => {
    const r = await run('check', bundle, '--model-must-match', '--max-pinned-arenas', '100', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.metrics.modelMismatches.value).toBe(0);
    expect(json.metrics.pinnedArenas.value).toBeGreaterThan(0);
    // The highwater the replay saw is what CPython's last dump printed.
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
    const lastDump = manifest.markers.filter((m: { bytes: number }) => m.bytes > 0).at(-1);
    const text = readFileSync(join(bundle, lastDump.file), 'utf8');
    expect(json.metrics.arenas.value).toBe(Number(/# arenas highwater mark\s+=\s+([\d,]+)/.exec(text)![1]!.replace(/,/g, '')));
  });
});

describe('cpymem check: bad input', () => {
  it('a baseline that is not check JSON is exit 2, naming it', async () => {
    const bad = join(tmp, 'handmade-not-a-baseline.json');
    writeFileSync(bad, '{"schema":1}');
    const r = await run('check', pick('3.11', 'dict-churn').txt, '--baseline', bad, '--max-growth', '10%');
    expect(r.code).toBe(2);
    expect(r.err).toContain('handmade-not-a-baseline.json');
  });

  it('a limit that is not a ratio is exit 2', async () => {
    const r = await run('check', pick('3.11', 'dict-churn').txt, '--max-fragmentation', 'lots');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--max-fragmentation');
  });

  it('an unreadable input is exit 2 and writes no JUnit', async () => {
    const junit = join(tmp, 'never.xml');
    const r = await run('check', join(tmp, 'missing.txt'), '--max-arenas', '1', '--junit', junit);
    expect(r.code).toBe(2);
    expect(() => readFileSync(junit)).toThrow();
  });
});
