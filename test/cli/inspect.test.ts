import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { memoryIo } from '../../src/util/io.js';
import { FIXTURES, mallocStatsFixtures } from '../helpers/fixtures.js';

const fixtures = mallocStatsFixtures();
const pick = (version: string, name: string) => fixtures.find((f) => f.name.includes(`/${version}`) && f.name.includes('-linux-x86_64/') && f.name.endsWith(`/${name}.txt`))!;

async function run(...argv: string[]) {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('cpymem inspect', () => {
  it('--json prints schema 1 with the numbers CPython printed', async () => {
    const f = pick('3.11', 'arena-release');
    const { code, out } = await run('inspect', f.txt, '--json');
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json.schema).toBe(1);
    expect(json.format).toBe('malloc-stats');
    expect(json.dumps).toHaveLength(f.truth.dumps.length);
    const last = json.dumps.at(-1);
    const printed = Object.fromEntries(f.truth.dumps.at(-1)!.printed.values);
    expect(last.arenas.allocatedTotal).toBe(printed['# arenas allocated total']);
    expect(last.arenas.reclaimed).toBe(printed['# arenas reclaimed']);
    expect(last.arenas.highwater).toBe(printed['# arenas highwater mark']);
    expect(last.totals.bytesInAllocatedBlocks).toBe(printed['# bytes in allocated blocks']);
    expect(last.platform).toMatchObject({ pointerSize: 8, alignment: 16, poolSize: 16384, arenaSize: 1048576, poolOverhead: 48 });
    expect(last.arenaMap.midNodes).toBe(printed['# arena map mid nodes']);
  });

  it('--format text re-prints CPython\'s bytes', async () => {
    for (const v of ['3.6', '3.8', '3.10', '3.13']) {
      const f = pick(v, 'tuple-fragmentation');
      const { code, out } = await run('inspect', f.txt, '--format', 'text');
      expect(code).toBe(0);
      expect(out).toBe(readFileSync(f.txt, 'utf8'));
    }
  });

  it('prints a human summary by default', async () => {
    const f = pick('3.12', 'arena-release');
    const { code, out } = await run('inspect', f.txt);
    expect(code).toBe(0);
    const printed = Object.fromEntries(f.truth.dumps[0]!.printed.values);
    expect(out).toContain(`dump 1 at line 1: CPython`);
    expect(out).toContain(`arenas: ${printed['# arenas allocated current']} current`);
    expect(out).toContain('warnings: none');
  });

  it('names the file and exits 2 for a missing file', async () => {
    const { code, err } = await run('inspect', 'no/such/file.txt');
    expect(code).toBe(2);
    expect(err).toBe('cpymem: no/such/file.txt: no such file\n');
  });

  it('exits 2 naming the file and what was expected for a file that is not a dump', async () => {
    const f = pick('3.11', 'dict-churn');
    const json = f.txt.replace(/\.txt$/, '.json');
    const { code, err } = await run('inspect', json);
    expect(code).toBe(2);
    expect(err).toMatch(new RegExp(`^cpymem: ${json.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: expected one of the formats cpymem reads`));
    expect(err).not.toContain('    at ');
  });

  it('exits 2 on usage errors', async () => {
    expect((await run('inspect')).code).toBe(2);
    expect((await run('no-such-command')).code).toBe(2);
  });

  it('reads gzip input transparently', async () => {
    const { gzipSync } = await import('node:zlib');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const f = pick('3.9', 'bytes-random');
    const gz = join(mkdtempSync(join(tmpdir(), 'cpymem-')), 'dump.txt.gz');
    writeFileSync(gz, gzipSync(readFileSync(f.txt)));
    const { code, out } = await run('inspect', gz, '--format', 'text');
    expect(code).toBe(0);
    expect(out).toBe(readFileSync(f.txt, 'utf8'));
  });
});

void FIXTURES;

describe('cpymem --python', () => {
  it('rejects a malformed version as a usage error (exit 2)', async () => {
    const f = mallocStatsFixtures()[0]!;
    const io = memoryIo();
    expect(await main(['inspect', f.txt, '--python', 'three'], io)).toBe(2);
    expect(io.err).toContain('--python: expected a version like 3.11');
  });
});
