// Print a MallocStats value in CPython's exact layout (Objects/obmalloc.c `_PyObject_DebugMallocStats`
// / `pymalloc_print_stats`, `printone`, `_PyDebugAllocatorStats`; Python/sysmodule.c). For a dump
// read from real output this reproduces CPython's bytes: the round-trip proof that the reader kept
// everything; for a dump the model emits it is what the interpreter would have printed.

import { DUMP_LAYOUT } from './params.js';
import type { FreeList, MallocStats } from './types.js';

/** printone(): label padded to 35, "=", value with "," every three digits right-aligned in 21. */
export function printone(label: string, value: number): string {
  const pad = label.length < DUMP_LAYOUT.labelWidth ? ' '.repeat(DUMP_LAYOUT.labelWidth - label.length) : '';
  let digits = groupThousands(value);
  // CPython fills a fixed buffer from the right and stops when it is full: very large values lose
  // their leading digits rather than widen the column.
  if (digits.length > DUMP_LAYOUT.valueWidth) digits = digits.slice(digits.length - DUMP_LAYOUT.valueWidth);
  return `${label}${pad}=${digits.padStart(DUMP_LAYOUT.valueWidth)}\n`;
}

export function groupThousands(value: number): string {
  const s = String(value);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (i > 0 && (s.length - i) % 3 === 0) out += ',';
    out += s[i];
  }
  return out;
}

/** One free-list line: "%d free %ss * %zd bytes each" right-justified in 48, a space, then printone. */
export function printFreeList(f: FreeList): string {
  const label = `${f.count} ${f.type}s * ${f.bytesEach} bytes each`;
  return printone(`${label.padStart(DUMP_LAYOUT.freeListLabelWidth)} `, f.totalBytes);
}

function row(index: number, size: number, pools: number, inUse: number, avail: number): string {
  // "%5u %6u %11zu %15zu %13zu"
  return `${String(index).padStart(5)} ${String(size).padStart(6)} ${String(pools).padStart(11)} ${String(inUse).padStart(15)} ${String(avail).padStart(13)}\n`;
}

/** The allocator section (what PYTHONMALLOCSTATS prints), or '' when none was printed. */
export function formatAllocatorSection(d: MallocStats): string {
  if (d.allocator === 'mimalloc') return formatMimalloc(d);
  if (d.allocator !== 'pymalloc') return '';
  let s = `Small block threshold = ${d.smallBlockThreshold}, in ${d.sizeClassCount} size classes.\n\n`;
  s += 'class   size   num pools   blocks in use  avail blocks\n';
  s += '-----   ----   ---------   -------------  ------------\n';
  for (const c of d.classes ?? []) s += row(c.index, c.size, c.pools, c.blocksInUse, c.availBlocks);
  s += '\n';
  const a = d.arenas ?? {};
  const t = d.totals ?? {};
  const p: NonNullable<MallocStats["platform"]> | Record<string, undefined> = d.platform ?? {};
  for (const e of d.extra ?? []) s += printone(e.label, e.value);
  if (a.allocatedTotal !== undefined) s += printone('# arenas allocated total', a.allocatedTotal);
  if (a.reclaimed !== undefined) s += printone('# arenas reclaimed', a.reclaimed);
  if (a.highwater !== undefined) s += printone('# arenas highwater mark', a.highwater);
  // Old layouts (2.x before 2.7, 3.x before 3.3) print no arena counts, only "N arenas * …".
  if (a.current !== undefined && a.allocatedTotal !== undefined) s += printone('# arenas allocated current', a.current);
  if (a.bytesInCurrent !== undefined) s += printone(`${a.current} arenas * ${p.arenaSize} bytes/arena`, a.bytesInCurrent);
  s += '\n';
  if (t.bytesInAllocatedBlocks !== undefined) s += printone('# bytes in allocated blocks', t.bytesInAllocatedBlocks);
  if (t.bytesInAvailableBlocks !== undefined) s += printone('# bytes in available blocks', t.bytesInAvailableBlocks);
  if (t.unusedPoolBytes !== undefined) s += printone(`${t.unusedPools} unused pools * ${p.poolSize} bytes`, t.unusedPoolBytes);
  if (t.bytesLostToPoolHeaders !== undefined) s += printone('# bytes lost to pool headers', t.bytesLostToPoolHeaders);
  if (t.bytesLostToQuantization !== undefined) s += printone('# bytes lost to quantization', t.bytesLostToQuantization);
  if (t.bytesLostToArenaAlignment !== undefined) s += printone('# bytes lost to arena alignment', t.bytesLostToArenaAlignment);
  if (t.total !== undefined) s += printone('Total', t.total);
  const m = d.arenaMap;
  if (m) {
    s += '\narena map counts\n';
    if (m.midNodes !== undefined) {
      s += printone('# arena map mid nodes', m.midNodes);
      if (m.botNodes !== undefined) s += printone('# arena map bot nodes', m.botNodes);
      s += '\n';
    }
    if (m.bytesLostToRoot !== undefined) s += printone('# bytes lost to arena map root', m.bytesLostToRoot);
    if (m.bytesLostToMid !== undefined) s += printone('# bytes lost to arena map mid', m.bytesLostToMid);
    if (m.bytesLostToBot !== undefined) s += printone('# bytes lost to arena map bot', m.bytesLostToBot);
    if (m.total !== undefined) s += printone('Total', m.total);
  }
  return s;
}

function formatMimalloc(d: MallocStats): string {
  const m = d.mimalloc ?? {};
  // Python/obmalloc.c py_mimalloc_print_stats: plain %zd, no separators.
  let s = `Small block threshold = ${m.smallBlockThreshold}, in ${m.sizeClassCount} size classes.\n`;
  if (m.mediumBlockThreshold !== undefined) s += `Medium block threshold = ${m.mediumBlockThreshold}\n`;
  if (m.largeObjectMaxSize !== undefined) s += `Large object max size = ${m.largeObjectMaxSize}\n`;
  if (m.allocatedBlocks !== undefined) s += `    Allocated Blocks: ${m.allocatedBlocks}\n`;
  if (m.allocatedBytes !== undefined) s += `    Allocated Bytes: ${m.allocatedBytes}\n`;
  if (m.allocatedBytesWithOverhead !== undefined) s += `    Allocated Bytes w/ Overhead: ${m.allocatedBytesWithOverhead}\n`;
  if (m.bytesReserved !== undefined) s += `    Bytes Reserved: ${m.bytesReserved}\n`;
  if (m.bytesCommitted !== undefined) s += `    Bytes Committed: ${m.bytesCommitted}\n`;
  return s;
}

/**
 * The whole dump: the allocator section, then (as sys._debugmallocstats() does) one blank line
 * when that section was printed, then the free-list lines.
 */
export function formatMallocStats(d: MallocStats): string {
  let s = formatAllocatorSection(d);
  if (d.freeLists) {
    if (s) s += '\n';
    for (const f of d.freeLists) s += printFreeList(f);
  }
  return s;
}
