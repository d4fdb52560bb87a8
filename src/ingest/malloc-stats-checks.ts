// What a malloc-stats dump says about the interpreter that printed it, and whether its numbers
// agree with each other the way Objects/obmalloc.c computes them (facts §2.4):
//   allocated bytes = Σ blocks in use × size, available bytes = Σ avail × size,
//   headers = Σ pools × POOL_OVERHEAD, quantization = Σ pools × ((POOL_SIZE − POOL_OVERHEAD) mod size),
//   Total = the six "bytes" lines = current arenas × ARENA_SIZE.
// Versions are data: every geometry and layout fact comes from src/model/params.ts.

import {
  FREE_LIST_PARAMS,
  GEOMETRY_VARIANTS,
  PYMALLOC_PARAMS,
  compareVersions,
  majorMinor,
  pymallocParams,
  type PymallocParams,
} from '../model/params.js';
import type { MallocStats, Platform, VersionRange } from '../model/types.js';

type Warn = (code: string, message: string) => void;

/** Infer pointer size, geometry and the CPython versions whose layout fits this dump. */
export function inferPlatform(
  d: MallocStats,
  printed: { arenaSize?: number; poolSize?: number; tableIncomplete?: boolean },
  python: string | undefined,
  warn: Warn,
): Platform {
  const alignment =
    d.smallBlockThreshold && d.sizeClassCount && d.smallBlockThreshold % d.sizeClassCount === 0
      ? d.smallBlockThreshold / d.sizeClassCount
      : undefined;
  const pools = sumPools(d);
  const headers = d.totals?.bytesLostToPoolHeaders;
  // Headers ÷ pools is the pool header size only when the table lists every pool: with rows elided
  // ("...") the quotient is meaningless, even when it happens to divide evenly.
  const poolOverhead =
    !printed.tableIncomplete && headers !== undefined && pools > 0 && headers % pools === 0 ? headers / pools : undefined;

  // A stream holds thousands of dumps of one interpreter: infer once per layout. The cache keeps
  // the last layouts and compares field by field, which costs far less than building a key string.
  const layout: Layout = {
    alignment,
    threshold: d.smallBlockThreshold,
    arenaSize: printed.arenaSize,
    poolSize: printed.poolSize,
    poolOverhead,
    arenaMapRoot: d.arenaMap ? (d.arenaMap.bytesLostToRoot ?? -1) : undefined,
    truncated: d.truncated === true,
    python,
    freeLists: d.freeLists,
  };
  let hit = inferences.find((i) => sameLayout(i.layout, layout));
  if (!hit) {
    const warnings: [string, string][] = [];
    const platform = inferUncached(d, alignment, poolOverhead, printed, python, (code, message) => warnings.push([code, message]));
    hit = { layout, platform, warnings };
    inferences.unshift(hit);
    if (inferences.length > MAX_INFERENCES) inferences.pop();
  } else if (hit !== inferences[0]) {
    // Most recent first: a stream's dumps mostly have the layout of the one before.
    inferences.splice(inferences.indexOf(hit), 1);
    inferences.unshift(hit);
  }
  for (const [code, message] of hit.warnings) warn(code, message);
  return { ...hit.platform, versionRange: { ...hit.platform.versionRange } };
}

interface Layout {
  alignment?: number;
  threshold?: number;
  arenaSize?: number;
  poolSize?: number;
  poolOverhead?: number;
  arenaMapRoot?: number;
  truncated: boolean;
  python?: string;
  freeLists?: readonly { type: string; bytesEach: number }[];
}

/**
 * The layouts inferred last, most recent first. More than one: a stream may alternate between a
 * few (dumps with and without free lists, a truncated one), and each inference costs more than the
 * rest of the dump's checks.
 */
const inferences: { layout: Layout; platform: Platform; warnings: [string, string][] }[] = [];
const MAX_INFERENCES = 16;

function sameLayout(a: Layout, b: Layout): boolean {
  if (
    a.alignment !== b.alignment ||
    a.threshold !== b.threshold ||
    a.arenaSize !== b.arenaSize ||
    a.poolSize !== b.poolSize ||
    a.poolOverhead !== b.poolOverhead ||
    a.arenaMapRoot !== b.arenaMapRoot ||
    a.truncated !== b.truncated ||
    a.python !== b.python
  ) {
    return false;
  }
  const fa = a.freeLists ?? [];
  const fb = b.freeLists ?? [];
  if (fa.length !== fb.length) return false;
  for (let i = 0; i < fa.length; i++) if (fa[i]!.type !== fb[i]!.type || fa[i]!.bytesEach !== fb[i]!.bytesEach) return false;
  return true;
}

function inferUncached(
  d: MallocStats,
  alignment: number | undefined,
  poolOverhead: number | undefined,
  printed: { arenaSize?: number; poolSize?: number },
  python: string | undefined,
  warn: Warn,
): Platform {
  const fits = (p: PymallocParams): boolean => {
    if (alignment !== undefined && p.alignment !== alignment) return false;
    if (d.smallBlockThreshold !== undefined && p.smallRequestThreshold !== d.smallBlockThreshold) return false;
    if (printed.arenaSize !== undefined && p.arenaSize !== printed.arenaSize) return false;
    if (printed.poolSize !== undefined && p.poolSize !== printed.poolSize) return false;
    if (poolOverhead !== undefined && p.poolOverhead !== poolOverhead) return false;
    if (d.arenaMap) {
      if (!p.arenaMap) return false;
      const root = d.arenaMap.bytesLostToRoot;
      if (root !== undefined && root !== p.arenaMap.rootBytes) return false;
    } else if (!d.truncated && p.arenaMap) return false;
    return true;
  };
  let rows = [...PYMALLOC_PARAMS, ...GEOMETRY_VARIANTS].filter(fits);
  const freeListRange = freeListVersions(d, rows[0]?.pointerSize ?? (alignment === 16 ? 8 : undefined));
  if (freeListRange) {
    const narrowed = rows.filter((p) => overlaps(p, freeListRange));
    if (narrowed.length > 0) rows = narrowed;
  }

  let range: VersionRange | undefined = rows.length
    ? { min: rows.map((r) => r.min).sort(compareVersions)[0]!, max: rows.map((r) => r.max).sort(compareVersions).at(-1)! }
    : undefined;
  if (range && freeListRange) range = intersect(range, freeListRange) ?? range;

  const one = rows.length > 0 && rows.every((r) => r.pointerSize === rows[0]!.pointerSize) ? rows[0] : undefined;
  const same = <K extends keyof PymallocParams>(k: K): PymallocParams[K] | undefined =>
    rows.length > 0 && rows.every((r) => r[k] === rows[0]![k]) ? rows[0]![k] : undefined;

  const platform: Platform = {
    pointerSize: one?.pointerSize,
    alignment: alignment ?? same('alignment'),
    poolSize: printed.poolSize ?? same('poolSize'),
    arenaSize: printed.arenaSize ?? same('arenaSize'),
    poolOverhead: poolOverhead ?? same('poolOverhead'),
    versionRange: range ?? { min: '?', max: '?' },
  };

  if (python) {
    const v = majorMinor(python);
    if (range && (compareVersions(v, range.min) < 0 || compareVersions(v, range.max) > 0)) {
      warn('W_PYTHON_MISMATCH', `--python ${python} given, but the dump's layout fits CPython ${range.min}–${range.max}`);
    }
    platform.versionRange = { min: v, max: v };
    const ps = platform.pointerSize ?? 8;
    let def: PymallocParams | undefined;
    try {
      def = pymallocParams(v, ps);
    } catch {
      def = undefined;
    }
    if (def) {
      platform.pointerSize ??= def.pointerSize;
      platform.alignment ??= def.alignment;
      platform.poolSize ??= def.poolSize;
      platform.arenaSize ??= def.arenaSize;
      platform.poolOverhead ??= def.poolOverhead;
    }
  } else if (!range) {
    warn('W_UNKNOWN_LAYOUT', 'no known CPython version prints a dump with this geometry; pass --python to say which');
  }
  // Drop what could not be inferred: a field that is not known is absent.
  for (const k of Object.keys(platform) as (keyof Platform)[]) if (platform[k] === undefined) delete platform[k];
  return platform;
}

/** Versions whose free-list section has exactly the kinds this dump printed (undefined: no free lists). */
function freeListVersions(d: MallocStats, pointerSize: number | undefined): VersionRange | undefined {
  const fls = d.freeLists;
  if (!fls || fls.length === 0) return undefined;
  const kinds = new Set<string>();
  let maxTuple = 0;
  const tupleBytes = new Map<number, number>();
  for (const f of fls) {
    const t = /^free (\d+)-sized PyTupleObject$/.exec(f.type);
    if (t) {
      const k = Number(t[1]);
      maxTuple = Math.max(maxTuple, k);
      tupleBytes.set(k, f.bytesEach);
    } else kinds.add(f.type.replace(/^free /, ''));
  }
  const rows = FREE_LIST_PARAMS.filter((r) => {
    for (const k of kinds) if (!r.kinds.includes(k)) return false;
    if (!d.truncated && r.kinds.some((k) => !kinds.has(k))) return false;
    if (maxTuple > r.tuples || (!d.truncated && maxTuple > 0 && maxTuple !== r.tuples)) return false;
    if (pointerSize === 8) for (const [k, b] of tupleBytes) if (b !== r.tupleBase64 + 8 * k) return false;
    return true;
  });
  if (rows.length === 0) return undefined;
  return { min: rows[0]!.min, max: rows.at(-1)!.max };
}

function overlaps(p: { min: string; max: string }, r: VersionRange): boolean {
  return compareVersions(p.min, r.max) <= 0 && compareVersions(r.min, p.max) <= 0;
}

function intersect(a: VersionRange, b: VersionRange): VersionRange | undefined {
  const min = compareVersions(a.min, b.min) >= 0 ? a.min : b.min;
  const max = compareVersions(a.max, b.max) <= 0 ? a.max : b.max;
  return compareVersions(min, max) <= 0 ? { min, max } : undefined;
}

function sumPools(d: MallocStats): number {
  let n = 0;
  for (const c of d.classes ?? []) n += c.pools;
  return n;
}

/** Check a dump's numbers against each other, as CPython computes them; report each mismatch. */
export function checkMallocStats(d: MallocStats, tableIncomplete: boolean, warn: Warn): void {
  const p = d.platform;
  const t = d.totals ?? {};
  const a = d.arenas ?? {};
  const mismatch = (what: string, expected: number, printed: number | undefined) => {
    if (printed !== undefined && printed !== expected) warn('W_INCONSISTENT', `${what}: expected ${expected.toLocaleString('en-US')} from the dump's other numbers, printed ${printed.toLocaleString('en-US')}`);
  };

  if (p?.poolSize && p.poolOverhead !== undefined) {
    const usable = p.poolSize - p.poolOverhead;
    for (const c of d.classes ?? []) {
      const expected = c.pools * Math.floor(usable / c.size);
      if (c.blocksInUse + c.availBlocks !== expected) {
        warn('W_INCONSISTENT', `class ${c.index} (${c.size} bytes): blocks in use + avail blocks = ${c.blocksInUse + c.availBlocks}, expected ${c.pools} pools × ${Math.floor(usable / c.size)} blocks = ${expected}`);
      }
    }
    if (!tableIncomplete && d.classes && !d.truncated) {
      let used = 0;
      let avail = 0;
      let pools = 0;
      let quant = 0;
      for (const c of d.classes) {
        used += c.blocksInUse * c.size;
        avail += c.availBlocks * c.size;
        pools += c.pools;
        quant += c.pools * (usable % c.size);
      }
      mismatch('# bytes in allocated blocks', used, t.bytesInAllocatedBlocks);
      mismatch('# bytes in available blocks', avail, t.bytesInAvailableBlocks);
      mismatch('# bytes lost to pool headers', pools * p.poolOverhead, t.bytesLostToPoolHeaders);
      mismatch('# bytes lost to quantization', quant, t.bytesLostToQuantization);
    }
    if (t.unusedPools !== undefined) mismatch('unused pools bytes', t.unusedPools * p.poolSize, t.unusedPoolBytes);
    if (t.bytesLostToArenaAlignment !== undefined && t.bytesLostToArenaAlignment % p.poolSize !== 0) {
      warn('W_INCONSISTENT', `# bytes lost to arena alignment ${t.bytesLostToArenaAlignment} is not a multiple of the pool size ${p.poolSize}`);
    }
  }
  const parts = [t.bytesInAllocatedBlocks, t.bytesInAvailableBlocks, t.unusedPoolBytes, t.bytesLostToPoolHeaders, t.bytesLostToQuantization, t.bytesLostToArenaAlignment];
  if (parts.every((x) => x !== undefined)) mismatch('Total', parts.reduce((s, x) => s! + x!, 0)!, t.total);
  if (a.current !== undefined && p?.arenaSize) {
    mismatch('arenas × bytes/arena', a.current * p.arenaSize, a.bytesInCurrent);
    mismatch('Total (= current arenas × arena size)', a.current * p.arenaSize, t.total);
  }
  if (a.allocatedTotal !== undefined && a.current !== undefined) mismatch('# arenas reclaimed', a.allocatedTotal - a.current, a.reclaimed);
  if (a.highwater !== undefined && a.current !== undefined && a.highwater < a.current) {
    warn('W_INCONSISTENT', `# arenas highwater mark ${a.highwater} is below # arenas allocated current ${a.current}`);
  }
  const m = d.arenaMap;
  if (m && m.midNodes !== undefined && m.botNodes !== undefined && m.bytesLostToRoot !== undefined) {
    const node = PYMALLOC_PARAMS.find((r) => r.arenaMap?.rootBytes === m.bytesLostToRoot && r.arenaMap?.midBytes !== undefined)?.arenaMap;
    if (node) {
      mismatch('# bytes lost to arena map mid', m.midNodes * node.midBytes!, m.bytesLostToMid);
      mismatch('# bytes lost to arena map bot', m.botNodes * node.botBytes!, m.bytesLostToBot);
    }
    if (m.bytesLostToMid !== undefined && m.bytesLostToBot !== undefined) {
      mismatch('arena map Total', m.bytesLostToRoot + m.bytesLostToMid + m.bytesLostToBot, m.total);
    }
  }
}
