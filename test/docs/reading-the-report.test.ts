// docs/reading-the-report.md quotes figures from the bundled fixtures. Each row: the fixture, the
// figure, the value cpymem computes from it now, and the text the page quotes; the value must be
// the one quoted, and the page must still quote it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyseDump, parseGcLog, parseMallocStats, readBundle, replay, summariseGc } from '../../src/index.js';
import { PINNED_MAX_USE } from '../../src/analysis/pinned-arenas.js';
import type { MallocStats } from '../../src/index.js';
import { FIXTURES } from '../helpers/fixtures.js';

const PAGE = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'reading-the-report.md'), 'utf8').replace(/\s+/g, ' ');
const MS = 'malloc-stats/3.11.7-linux-x86_64';
const dumps = (f: string): MallocStats[] => parseMallocStats(readFileSync(join(FIXTURES, f), 'utf8'), { file: f }).dumps;
const int = (n: number | undefined) => (n ?? NaN).toLocaleString('en-US');
const pct = (x: number | null | undefined) => `${((x ?? NaN) * 100).toFixed(1)}%`;
const ms = (s: number | undefined) => `${((s ?? NaN) * 1000).toFixed(1)} ms`;

interface Row {
  fixture: string;
  figure: string;
  value: () => string | Promise<string>;
  quoted: string;
}

const frag = () => dumps(`${MS}/tuple-fragmentation.txt`);
const third = () => frag()[2]!;
const class32 = () => analyseDump(third()).classes.find((c) => c.size === 32)!;
const release = () => dumps(`${MS}/arena-release.txt`);
let run: Awaited<ReturnType<typeof replay>> | undefined;
const churn = async () => (run ??= await replay(readBundle(join(FIXTURES, 'bundles/3.11.7-linux-x86_64/tuple-churn'))));
const released = async () => (await churn()).markers.find((m) => m.label === 'stats/005.txt')!;
const gc = () => summariseGc(parseGcLog({ path: join(FIXTURES, 'gc/3.11.7-linux-x86_64/debug-stats.txt') }).collections);

const ROWS: Row[] = [
  { fixture: 'tuple-fragmentation dump 3', figure: 'arenas', value: () => `**${third().arenas?.current} arenas** allocated`, quoted: '**26 arenas** allocated' },
  { fixture: 'tuple-fragmentation dump 3', figure: 'reserved', value: () => `**${int(third().totals?.total)} bytes** reserved`, quoted: '**27,262,976 bytes** reserved' },
  { fixture: 'tuple-fragmentation dump 3', figure: '32-byte class pools', value: () => `**${int(class32().pools)} pools**`, quoted: '**781 pools**' },
  { fixture: 'tuple-fragmentation dump 3', figure: '32-byte class blocks in use', value: () => `**${int(class32().blocksInUse)} blocks in use**`, quoted: '**199,575 blocks in use**' },
  { fixture: 'tuple-fragmentation dump 3', figure: '32-byte class available blocks', value: () => `**${int(class32().availBlocks)} available**`, quoted: '**198,735 available**' },
  { fixture: 'tuple-fragmentation dump 3', figure: 'bytes in allocated blocks', value: () => `| ${int(third().totals?.bytesInAllocatedBlocks)} |`, quoted: '| 16,138,288 |' },
  { fixture: 'tuple-fragmentation dump 3', figure: 'bytes in available blocks', value: () => `| ${int(third().totals?.bytesInAvailableBlocks)} |`, quoted: '| 9,958,112 |' },
  { fixture: 'tuple-fragmentation dump 3', figure: 'unused pools', value: () => `| ${int(third().totals?.unusedPoolBytes)} (${third().totals?.unusedPools} pools) |`, quoted: '| 786,432 (48 pools) |' },
  { fixture: 'tuple-fragmentation dump 3', figure: 'pool headers', value: () => `| ${int(third().totals?.bytesLostToPoolHeaders)} |`, quoted: '| 76,800 |' },
  { fixture: 'tuple-fragmentation dump 3', figure: 'quantization', value: () => `| ${int(third().totals?.bytesLostToQuantization)} |`, quoted: '| 41,200 |' },
  { fixture: 'tuple-fragmentation dump 3', figure: 'arena alignment', value: () => `| ${int(third().totals?.bytesLostToArenaAlignment)} |`, quoted: '| 262,144 |' },
  { fixture: 'tuple-fragmentation dump 3', figure: 'fragmentation', value: () => `27,262,976 = **${pct(analyseDump(third()).overallFragmentation)}**`, quoted: '27,262,976 = **40.8%**' },
  { fixture: 'tuple-fragmentation dump 2', figure: 'fragmentation', value: () => `**${pct(analyseDump(frag()[1]!).overallFragmentation)}** when the tuples`, quoted: '**5.5%** when the tuples' },
  { fixture: 'tuple-fragmentation dump 4', figure: 'fragmentation', value: () => `**${pct(analyseDump(frag()[3]!).overallFragmentation)}** once most`, quoted: '**83.0%** once most' },
  { fixture: 'tuple-fragmentation dump 4', figure: 'arenas', value: () => `and still ${frag()[3]!.arenas?.current} arenas`, quoted: 'and still 26 arenas' },
  { fixture: 'tuple-fragmentation dump 3', figure: '32-byte class fragmentation', value: () => `198,735) = **${pct(class32().fragmentation)}**`, quoted: '198,735) = **49.9%**' },
  { fixture: 'tuple-fragmentation dump 3', figure: '32-byte class wasted bytes', value: () => `**${int(class32().wastedBytes)} bytes**, ${pct(class32().wasteShare)}`, quoted: '**6,409,504 bytes**, 57.6%' },
  { fixture: 'tuple-fragmentation dump 3', figure: 'class ranked first by waste', value: () => `For the ${analyseDump(third()).ranking[0]!.size}-byte class`, quoted: 'For the 32-byte class' },
  { fixture: 'arena-release', figure: 'highwater', value: () => `**${release().at(-1)!.arenas?.highwater} arenas** (highwater ${release().at(-1)!.arenas?.highwater})`, quoted: '**17 arenas** (highwater 17)' },
  { fixture: 'arena-release last dump', figure: 'reclaimed, current', value: () => `**${release().at(-1)!.arenas?.reclaimed} reclaimed** and **${release().at(-1)!.arenas?.current} current**`, quoted: '**12 reclaimed** and **5 current**' },
  { fixture: 'bundle tuple-churn', figure: 'arenas allocated, released, at the end', value: async () => { const a = (await churn()).summary.arenas; return `**${a.allocatedTotal} arenas**, released **${a.reclaimed}**, and ended the run with **${a.final}**`; }, quoted: '**4 arenas**, released **1**, and ended the run with **3**' },
  { fixture: 'src/analysis/pinned-arenas.ts', figure: 'PINNED_MAX_USE', value: () => `at most **${PINNED_MAX_USE * 100}%**`, quoted: 'at most **10%**' },
  { fixture: 'bundle tuple-churn, "released"', figure: 'pinned of live arenas', value: async () => { const o = (await released()).occupancy; return `**${o.pinned} of ${o.arenas} arenas were pinned**: **${o.pinnedReservedBytes / 2 ** 20} MiB reserved** (${int(o.pinnedReservedBytes)} bytes) for **${int(o.pinnedBlockBytes)} bytes**`; }, quoted: '**2 of 4 arenas were pinned**: **2 MiB reserved** (2,097,152 bytes) for **106,240 bytes**' },
  { fixture: 'bundle tuple-churn', figure: 'the marker with the most pinned arenas', value: async () => `(\`${(await churn()).arenaMaps.mostPinned!.label}\`, "released")`, quoted: '(`stats/005.txt`, "released")' },
  { fixture: 'bundle tuple-churn, "released"', figure: 'the emptiest pinned arena', value: async () => { const p = (await churn()).arenaMaps.mostPinned!.arenas.filter((x) => x.pinned).sort((a, b) => a.use - b.use)[0]!; return `held ${p.blocks} blocks in ${p.usedPools} of its ${p.totalPools} pools, ${pct(p.use)} used`; }, quoted: 'held 440 blocks in 24 of its 63 pools, 2.8% used' },
  { fixture: 'bundle tuple-churn', figure: 'dumps identical, addresses', value: async () => { const r = await churn(); const c = r.markers.filter((m) => m.identical !== undefined); return `**${c.filter((m) => m.identical).length} of ${c.length} dumps identical**, **${int(r.summary.addressesPredicted)} of ${int(r.summary.addressesChecked)} addresses**`; }, quoted: '**9 of 9 dumps identical**, **188,654 of 188,654 addresses**' },
  { fixture: 'gc debug-stats', figure: 'collections', value: () => `**${gc().all.collections} collections**: **${gc().generations[0]!.collections}** of generation 0, **${gc().generations[1]!.collections}** of generation 1 and **${gc().generations[2]!.collections}** of generation 2`, quoted: '**278 collections**: **252** of generation 0, **22** of generation 1 and **4** of generation 2' },
  { fixture: 'gc debug-stats generation 2', figure: 'collected, total pause, longest', value: () => { const g = gc().generations[2]!; return `found **${int(g.collected)}** objects and took **${ms(g.elapsed?.total)}** in all, the longest **${ms(g.elapsed?.max)}**`; }, quoted: 'found **62,064** objects and took **23.1 ms** in all, the longest **10.2 ms**' },
];

describe('docs/reading-the-report.md', () => {
  for (const row of ROWS) {
    it(`${row.fixture}: ${row.figure}`, async () => {
      expect(await row.value(), `${row.fixture}: ${row.figure}, as cpymem computes it now`).toBe(row.quoted);
      expect(PAGE, `the page quotes ${row.quoted}`).toContain(row.quoted);
    });
  }
});
