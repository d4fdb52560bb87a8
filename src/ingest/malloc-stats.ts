// Reader for `sys._debugmallocstats()` output and `PYTHONMALLOCSTATS=1` streams, as CPython prints
// them (Objects/obmalloc.c `_PyObject_DebugMallocStats` / `pymalloc_print_stats`, `printone`,
// `_PyDebugAllocatorStats`; Python/sysmodule.c) and as humans paste them: indented, quoted with `>`,
// fenced, prefixed by a logger, interleaved with REPL prompts and program output, glued, elided with
// `...`, with thousands separators, truncated.
//
// Written by hand: no package reads this format. One push-based core (`MallocStatsReader`) serves
// whole-text and streaming use, so the two cannot diverge. Per line of an unprefixed dump, the
// fast path reads the layouts CPython prints by position (malloc-stats-layout.ts), then the same
// lines with other spacing in place; the generic path strips the paste prefix seen on the dump's
// first line and classifies by plain string tests; only lines that fail that take the slower
// regex path that looks for a dump line anywhere in the line.

import type { FreeList, MallocStats, ReadWarning, SizeClassRow } from '../model/types.js';
import { InputError } from '../util/errors.js';
import { checkMallocStats, inferPlatform } from './malloc-stats-checks.js';
import { WarningSink } from './warnings.js';
import { lineTime, stampLength } from './line-time.js';
import {
  ByteWindow,
  FreeListNames,
  PRINTONE_LABELS,
  PRINTONE_LENGTH,
  ROW_LENGTH,
  Word,
  printoneLabel,
  readArenasLabel,
  readClassRow,
  readFreeListLine,
  readHeader,
  readPrintoneValue,
  readUnusedPoolsLabel,
} from './malloc-stats-layout.js';

export interface MallocStatsOptions {
  /** File name used in warnings and errors. */
  file?: string;
  /** Warnings become fatal (InputError). */
  strict?: boolean;
  /** "3.11": the CPython version that printed the dumps, overriding what the layout suggests. */
  python?: string;
  /** Called with each dump as soon as it is complete (streaming use). */
  onDump?: (dump: MallocStats) => void;
  /** Keep dumps in the result (default true; false for streaming over huge inputs). */
  keepDumps?: boolean;
}

export interface MallocStatsResult {
  dumps: MallocStats[];
  warnings: ReadWarning[];
  /** Lines read in all. */
  lines: number;
  /** Lines that belonged to no dump (program output, prompts, prose), counted, not warned about. */
  linesOutsideDumps: number;
}

const HEADER = 'Small block threshold = ';
/** The class table's heading and rule, and the arena map's heading, as CPython prints them. */
const TABLE_HEADING = new Word('class   size   num pools   blocks in use  avail blocks\n');
const TABLE_RULE = new Word('-----   ----   ---------   -------------  ------------\n');
const ARENA_MAP_COUNTS = new Word('arena map counts\n');
const LF = 10;
const HEADER_RE = /Small block threshold = (\d[\d,]*), in (\d[\d,]*) size classes\./;
/** No line CPython prints here is longer than ~120 characters; longer lines are skipped unread. */
const MAX_LINE = 4096;

/** Cheap, never throws: does this text look like malloc stats? */
export function sniffMallocStats(text: string): boolean {
  const head = text.length > 65536 ? text.slice(0, 65536) : text;
  return head.includes(HEADER) || FREE_LIST_RE.test(head) || head.includes('Allocated Bytes w/ Overhead:');
}

/** Parse one text holding one or many dumps. Throws InputError when it holds none. */
export function parseMallocStats(text: string, opts: MallocStatsOptions = {}): MallocStatsResult {
  const reader = new MallocStatsReader(opts);
  reader.push(text);
  return reader.end();
}

// Section states of the dump being read.
type State =
  | 'header' // after "Small block threshold", before the class table header
  | 'table' // inside the class table
  | 'summary' // the "# arenas …" … "Total" lines
  | 'arenaMap' // after "arena map counts"
  | 'mimalloc' // the mimalloc block
  | 'after' // the allocator section is complete; free-list lines may follow
  | 'freeLists'; // free-list lines only

interface Current {
  dump: MallocStats;
  state: State;
  prefix: string;
  /**
   * The prefix after a log collector's stamp, when the header line had one: the stamp changes
   * from line to line, what follows it (" ", " host python3[1234]: ") does not.
   */
  afterStamp: string | undefined;
  /** Index in PRINTONE_LABELS of the label expected next (the one after the last read). */
  nextLabel: number;
  /** Rows were elided ("...") or unreadable: the class table is incomplete. */
  tableIncomplete: boolean;
  freeListNames: Set<string>;
  /** Geometry printed inside labels: "N arenas * ARENA_SIZE bytes/arena", "N unused pools * POOL_SIZE bytes". */
  arenaSizeFromLabel: number | undefined;
  poolSizeFromLabel: number | undefined;
}

/**
 * The state of a dump about to be read. Every field is there from the start, so that all of them
 * have one shape, which V8 keeps (see sharedWindow).
 */
function newCurrent(dump: MallocStats, state: State, prefix: string): Current {
  const k = prefix === '' ? 0 : stampLength(prefix);
  return {
    dump,
    state,
    prefix,
    afterStamp: k > 0 ? prefix.slice(k) : undefined,
    nextLabel: 0,
    tableIncomplete: false,
    freeListNames: new Set(),
    arenaSizeFromLabel: undefined,
    poolSizeFromLabel: undefined,
  };
}

/** A line split as CPython's printone() prints it: label, then " = " and a grouped number. */
interface LabelValue {
  label: string;
  value: number;
}

/** The stamp a log collector put in front of a dump's first line, as a field of the dump. */
function stamp(prefix: string): { stampedAt?: number } {
  const t = prefix === '' ? undefined : lineTime(prefix);
  return t === undefined ? {} : { stampedAt: t };
}

/** What a stamped line holds past its stamp and the dump's constant rest of prefix (else the line). */
function afterStamp(line: string, rest: string): string {
  const k = stampLength(line);
  return k > 0 && line.startsWith(rest, k) ? line.slice(k + rest.length) : line;
}

/**
 * One byte window and one set of free-list names for all readers. V8 forgets an object shape when
 * the last object of it is collected, and throws away the optimised code built on it: with a
 * window per reader, each new reader after a collection ran its fast paths unoptimised again for a
 * while. Sharing is safe: a window is refilled when another reader used it since (an onDump
 * callback may read other text), and the names are only a guess, checked on every line.
 */
const sharedWindow = new ByteWindow();
const sharedFreeListNames = new FreeListNames();

export class MallocStatsReader {
  private readonly sink: WarningSink;
  private readonly dumps: MallocStats[] = [];
  private cur: Current | undefined;
  private rest = '';
  private lineNo = 0;
  private readonly window = sharedWindow;
  private readonly freeListNames = sharedFreeListNames;
  private outside = 0;

  constructor(private readonly opts: MallocStatsOptions = {}) {
    this.sink = new WarningSink(opts.file, opts.strict);
  }

  /** Feed a chunk of text; complete lines are read now, a partial last line waits for more. */
  push(chunk: string): void {
    let text = this.rest + chunk;
    const w = this.window;
    w.reset();
    let start = 0;
    for (;;) {
      const cur = this.cur;
      // Fast paths, for dumps pasted without a prefix. First the lines as CPython lays them out,
      // read by position (malloc-stats-layout.ts): nine lines in ten of a real stream.
      if (cur !== undefined && cur.prefix.length === 0) {
        w.cover(text, start, this);
        const length = this.readLaidOutLine(cur, start - w.base);
        if (length > 0) {
          start += length;
          continue;
        }
      }
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      // Then the same lines with other spacing (edited by hand, CRLF): class rows, printone lines
      // and free-list lines trimmed by index and read without slicing the line out of the chunk.
      if (cur === undefined || cur.prefix.length !== 0 || nl - start >= MAX_LINE || !this.readInPlace(cur, text, start, nl)) {
        this.line(text.slice(start, nl));
      }
      start = nl + 1;
    }
    this.rest = text.slice(start);
    text = '';
    w.reset();
  }

  /**
   * A line of an unprefixed dump as CPython prints it, at text[start] = window byte p: read, and
   * its length with the "\n" returned; 0 when it is laid out otherwise (the generic paths read it).
   */
  private readLaidOutLine(cur: Current, p: number): number {
    const w = this.window;
    if (p < w.length && w.bytes[p] === LF) {
      // A blank line: sections are separated by them, and readContent() accepts one anywhere.
      this.lineNo++;
      return 1;
    }
    const header = readHeader(w, p);
    if (header) {
      this.lineNo++;
      this.startDump(this.lineNo, '', header.threshold, header.classes);
      return header.length;
    }
    switch (cur.state) {
      case 'header':
      case 'table': {
        const row = readClassRow(w, p);
        if (row) {
          this.lineNo++;
          this.addRow(cur, row, this.lineNo);
          return ROW_LENGTH;
        }
        if (TABLE_HEADING.at(w, p)) {
          this.lineNo++;
          cur.state = 'table';
          return TABLE_HEADING.length;
        }
        if (TABLE_RULE.at(w, p)) {
          this.lineNo++;
          return TABLE_RULE.length;
        }
        return cur.state === 'table' ? this.readLaidOutPrintone(cur, p) : 0;
      }
      case 'summary':
      case 'arenaMap':
        return this.readLaidOutPrintone(cur, p);
      case 'after':
      case 'freeLists': {
        const fl = readFreeListLine(w, p, this.freeListNames);
        if (fl) {
          this.lineNo++;
          this.readFreeList(cur, fl.freeList, '', this.lineNo);
          return fl.length;
        }
        if (cur.state === 'after' && ARENA_MAP_COUNTS.at(w, p)) {
          this.lineNo++;
          cur.state = 'arenaMap';
          cur.dump.arenaMap = {};
          return ARENA_MAP_COUNTS.length;
        }
        return 0;
      }
      default:
        return 0;
    }
  }

  /** A printone() line with a label of at most 35 characters, as readLaidOutLine() reads one. */
  private readLaidOutPrintone(cur: Current, p: number): number {
    const w = this.window;
    const value = readPrintoneValue(w, p);
    if (value < 0) return 0;
    const n = this.lineNo + 1;
    const first = w.bytes[p]!;
    if (first >= 0x30 && first <= 0x39) {
      // The two labels that start with a number: "N arenas * ARENA_SIZE bytes/arena" and
      // "N unused pools * POOL_SIZE bytes".
      const arenas = readArenasLabel(w, p);
      if (arenas) {
        const label = () => String.fromCharCode(...w.bytes.subarray(p, arenas.labelEnd));
        this.readArenasLine(cur, arenas.count, arenas.bytes, value, label, n);
      } else {
        const unused = readUnusedPoolsLabel(w, p);
        if (!unused) return 0;
        this.readUnusedPoolsLine(cur, unused.count, unused.bytes, value);
      }
    } else {
      const k = printoneLabel(w, p, cur.nextLabel);
      if (k < 0 || !this.readLabelValue(cur, { label: PRINTONE_LABELS[k]!, value }, n)) return 0;
      cur.nextLabel = k + 1;
    }
    this.lineNo = n;
    return PRINTONE_LENGTH;
  }

  /** Class rows, printone and free-list lines of an unprefixed dump in text[start, nl), read in place. */
  private readInPlace(cur: Current, text: string, start: number, nl: number): boolean {
    const state = cur.state;
    if (state === 'table' || state === 'header') {
      const row = parseRow(text, false, start, nl);
      if (row) {
        this.lineNo++;
        this.addRow(cur, row, this.lineNo);
        return true;
      }
    }
    let s = start;
    let e = nl;
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    if (state === 'after' || state === 'freeLists') {
      const fl = matchFreeList(text, s, e);
      if (fl) {
        this.lineNo++;
        this.readFreeList(cur, fl, '', this.lineNo);
        return true;
      }
    } else if (state === 'table' || state === 'summary' || state === 'arenaMap') {
      const lv = splitPrintone(text, false, s, e);
      if (lv && this.readLabelValue(cur, lv, this.lineNo + 1)) {
        this.lineNo++;
        return true;
      }
    }
    return false;
  }

  end(): MallocStatsResult {
    if (this.rest.length > 0) {
      this.line(this.rest);
      this.rest = '';
    }
    this.finishDump();
    if (this.dumps.length === 0 && this.emitted === 0) {
      throw new InputError(
        { file: this.opts.file, line: 1 },
        `expected malloc stats (a "Small block threshold = …" line from sys._debugmallocstats() or PYTHONMALLOCSTATS, or free-list lines "N free PyDictObjects * 48 bytes each = …"), found none in ${this.lineNo} lines`,
        'E_NOT_MALLOC_STATS',
      );
    }
    return { dumps: this.dumps, warnings: this.sink.finish(), lines: this.lineNo, linesOutsideDumps: this.outside };
  }

  private emitted = 0;

  private line(raw: string): void {
    this.lineNo++;
    const n = this.lineNo;
    if (raw.length > MAX_LINE) {
      this.sink.add('W_LONG_LINE', 'warning', `line of ${raw.length} characters skipped unread (no malloc-stats line is longer than ${MAX_LINE})`, { line: n });
      return;
    }
    let line = raw;
    if (line.endsWith('\r')) line = line.slice(0, -1);

    // A new dump starts wherever its header appears in the line, after any paste prefix.
    const h = line.indexOf(HEADER);
    if (h >= 0) {
      const m = HEADER_RE.exec(line.slice(h));
      if (m) {
        this.startDump(n, line.slice(0, h), toInt(m[1]!), toInt(m[2]!));
        return;
      }
    }
    const cur = this.cur;
    if (!cur) {
      // Outside any dump only free-list lines can start one (a dump whose allocator section was
      // not printed: tracemalloc on, PYTHONMALLOC=malloc, or a build without pymalloc).
      const fl = findFreeList(line);
      if (fl) {
        this.startFreeListDump(n, fl.prefix);
        this.addFreeList(fl.freeList, n);
        return;
      }
      this.outside++;
      return;
    }
    const content = cur.prefix.length === 0 ? line : line.startsWith(cur.prefix) ? line.slice(cur.prefix.length) : cur.afterStamp !== undefined ? afterStamp(line, cur.afterStamp) : line;
    if (this.readContent(cur, content, n, false)) return;
    // Slow path: the prefix changed (logger timestamps) or the line carries other text before it.
    const stripped = stripPastePrefix(line);
    if (stripped !== content && this.readContent(cur, stripped, n, false)) return;
    if (this.readContent(cur, line, n, true)) return;
    this.unrecognised(cur, line, n);
  }

  private startDump(line: number, prefix: string, threshold: number, classes: number): void {
    this.finishDump();
    this.cur = newCurrent({ line, allocator: 'pymalloc', smallBlockThreshold: threshold, sizeClassCount: classes, ...stamp(prefix) }, 'header', prefix);
  }

  private startFreeListDump(line: number, prefix: string): void {
    this.finishDump();
    this.cur = newCurrent({ line, allocator: 'none', ...stamp(prefix) }, 'freeLists', prefix);
  }

  private finishDump(): void {
    const cur = this.cur;
    if (!cur) return;
    this.cur = undefined;
    const d = cur.dump;
    const complete = cur.state === 'after' || cur.state === 'freeLists' || (cur.state === 'mimalloc' && d.mimalloc?.bytesCommitted !== undefined);
    if (!complete) {
      d.truncated = true;
      this.sink.add('W_TRUNCATED', 'warning', `dump starting at line ${d.line} ends early, in its ${sectionName(cur.state)}`, { line: d.line });
    }
    if (d.allocator === 'pymalloc') {
      if (cur.state === 'header' || cur.state === 'table') cur.tableIncomplete = true;
      if (cur.tableIncomplete) d.classesIncomplete = true;
      const warn = (code: string, msg: string) => this.sink.add(code, 'warning', msg, { line: d.line });
      d.platform = inferPlatform(d, { arenaSize: cur.arenaSizeFromLabel, poolSize: cur.poolSizeFromLabel, tableIncomplete: cur.tableIncomplete }, this.opts.python, warn);
      checkMallocStats(d, cur.tableIncomplete, warn);
    }
    this.emitted++;
    this.opts.onDump?.(d);
    if (this.opts.keepDumps !== false) this.dumps.push(d);
  }

  /** Try to read `content` as a line of the current dump; false if it is not one. */
  private readContent(cur: Current, content: string, n: number, anywhere: boolean): boolean {
    const d = cur.dump;
    const inTable = cur.state === 'header' || cur.state === 'table';
    if (inTable) {
      // Rows are most of a dump: try them before anything allocates.
      const row = parseRow(content, anywhere);
      if (row) {
        this.addRow(cur, row, n);
        return true;
      }
    }
    const t = content.trim();
    if (t === '') return true; // blank lines separate sections; their absence is tolerated
    if (isFence(t)) return true;
    if ((cur.state === 'after' || cur.state === 'freeLists') && !anywhere) {
      const fl = matchFreeList(t);
      if (fl) return this.readFreeList(cur, fl, cur.prefix, n);
    }

    if (inTable) {
      if (t.startsWith('class ') && t.includes('num pools')) {
        cur.state = 'table';
        return true;
      }
      if (t.startsWith('-----')) return true;
      if (isElision(t)) {
        cur.tableIncomplete = true;
        this.sink.add('W_ELIDED_ROWS', 'warning', 'class rows elided with "..."; sums over the class table are not checked', { line: n });
        return true;
      }
      if (cur.state === 'header') {
        const mm = MIMALLOC_HEADER_RE.exec(t);
        if (mm) {
          d.allocator = 'mimalloc';
          d.mimalloc = { smallBlockThreshold: d.smallBlockThreshold, sizeClassCount: d.sizeClassCount };
          delete d.smallBlockThreshold;
          delete d.sizeClassCount;
          d.mimalloc.mediumBlockThreshold = toInt(mm[1]!);
          cur.state = 'mimalloc';
          return true;
        }
      }
    }
    if (cur.state === 'mimalloc') {
      const m = MIMALLOC_LINE_RE.exec(t);
      if (m) {
        const key = MIMALLOC_KEYS[m[1]!.toLowerCase()];
        if (key) {
          d.mimalloc![key] = toInt(m[2]!);
          if (key === 'bytesCommitted') cur.state = 'after';
          return true;
        }
      }
    }

    const lv = splitPrintone(t, anywhere);
    if (lv && this.readLabelValue(cur, lv, n)) return true;
    if (anywhere) {
      const found = findFreeList(content);
      if (found) return this.readFreeList(cur, found.freeList, found.prefix, n);
    } else {
      const fl = matchFreeList(t);
      if (fl) return this.readFreeList(cur, fl, cur.prefix, n);
    }
    if (t === 'arena map counts' || (anywhere && content.endsWith('arena map counts'))) {
      cur.state = 'arenaMap';
      d.arenaMap = {};
      return true;
    }
    return false;
  }

  /** A free-list line: part of this dump's free-list section, or the start of a free-list-only dump. */
  private readFreeList(cur: Current, fl: FreeList, prefix: string, n: number): true {
    const open = cur.state === 'after' || cur.state === 'freeLists';
    // Free lists after an unfinished allocator section, or the same free list again: a new dump.
    if (!open || cur.freeListNames.has(fl.type)) this.startFreeListDump(n, prefix);
    this.addFreeList(fl, n);
    return true;
  }

  private addRow(cur: Current, row: SizeClassRow, n: number): void {
    const d = cur.dump;
    cur.state = 'table';
    const classes = (d.classes ??= []);
    const prev = classes[classes.length - 1];
    if (prev && row.index <= prev.index) {
      this.sink.add('W_ROW_ORDER', 'warning', `class row ${row.index} after row ${prev.index}: rows go in increasing class order; row skipped`, { line: n });
      cur.tableIncomplete = true;
      return;
    }
    const threshold = d.smallBlockThreshold;
    const count = d.sizeClassCount;
    if (threshold && count && threshold % count === 0 && row.size !== (row.index + 1) * (threshold / count)) {
      this.sink.add('W_ROW_SIZE', 'warning', `class ${row.index} has size ${row.size}, expected ${(row.index + 1) * (threshold / count)} for ${count} classes up to ${threshold} bytes; row skipped`, { line: n });
      cur.tableIncomplete = true;
      return;
    }
    classes.push(row);
  }

  private addFreeList(fl: FreeList, n: number): void {
    const cur = this.cur!;
    // One string per name for all dumps; and the names the fast path knows.
    fl.type = this.freeListNames.share(fl.type);
    cur.state = 'freeLists';
    cur.freeListNames.add(fl.type);
    if (fl.totalBytes !== fl.count * fl.bytesEach) {
      this.sink.add('W_INCONSISTENT', 'warning', `free list "${fl.type}": ${fl.count} × ${fl.bytesEach} = ${fl.count * fl.bytesEach}, printed ${fl.totalBytes}`, { line: n });
    }
    (cur.dump.freeLists ??= []).push(fl);
  }

  /** Assign one printone() line; false when the label is not one of this format's. */
  private readLabelValue(cur: Current, { label, value }: LabelValue, n: number): boolean {
    const d = cur.dump;
    if (cur.state === 'freeLists') return false;
    const inMap = cur.state === 'arenaMap';
    if (label === 'Total') {
      if (inMap) d.arenaMap!.total = value;
      else (d.totals ??= {}).total = value;
      cur.state = 'after';
      return true;
    }
    const field = summaryField(label);
    if (field) {
      const [group, key] = field;
      if (group === 'arenaMap') {
        if (!d.arenaMap) {
          d.arenaMap = {};
          cur.state = 'arenaMap';
        }
        (d.arenaMap as Record<string, number>)[key] = value;
        // On 32-bit builds the root line is the whole arena-map block (no node counts, no Total).
        if (key === 'bytesLostToRoot' && d.arenaMap.midNodes === undefined) cur.state = 'after';
      } else {
        if (cur.state === 'after' && (group === 'arenas' || group === 'totals')) return false;
        cur.state = 'summary';
        ((d[group] ??= {}) as Record<string, number>)[key] = value;
      }
      return true;
    }
    let m = ARENAS_LINE_RE.exec(label);
    if (m) {
      this.readArenasLine(cur, toInt(m[1]!), toInt(m[2]!), value, () => label, n);
      return true;
    }
    m = UNUSED_POOLS_RE.exec(label);
    if (m) {
      this.readUnusedPoolsLine(cur, toInt(m[1]!), toInt(m[2]!), value);
      return true;
    }
    if (label.startsWith('# ') && cur.state !== 'after') {
      (d.extra ??= []).push({ label, value });
      this.sink.add('I_EXTRA_LINE', 'info', `line "${label}" is not one cpymem knows; kept as an extra value`, { line: n });
      return true;
    }
    return false;
  }

  /** "N arenas * ARENA_SIZE bytes/arena = N × ARENA_SIZE". */
  private readArenasLine(cur: Current, current: number, arenaSize: number, value: number, label: () => string, n: number): void {
    cur.state = 'summary';
    const arenas = (cur.dump.arenas ??= {});
    arenas.bytesInCurrent = value;
    if (arenas.current !== undefined && arenas.current !== current) {
      this.sink.add('W_INCONSISTENT', 'warning', `"${label()}" says ${current} arenas, "# arenas allocated current" says ${arenas.current}`, { line: n });
    }
    // Before 2.7/3.3 this label was the only place the current arena count was printed.
    arenas.current ??= current;
    cur.arenaSizeFromLabel = arenaSize;
  }

  /** "N unused pools * POOL_SIZE bytes = N × POOL_SIZE". */
  private readUnusedPoolsLine(cur: Current, unusedPools: number, poolSize: number, value: number): void {
    cur.state = 'summary';
    const totals = (cur.dump.totals ??= {});
    totals.unusedPools = unusedPools;
    totals.unusedPoolBytes = value;
    cur.poolSizeFromLabel = poolSize;
  }

  private unrecognised(cur: Current, line: string, n: number): void {
    const t = stripPastePrefix(line).trim();
    if (cur.state === 'after' || cur.state === 'freeLists') {
      // The dump is over: this is program output, a prompt or prose after it.
      this.finishDump();
      this.outside++;
      return;
    }
    if (isPrompt(t)) return;
    if (cur.state === 'table') cur.tableIncomplete = true;
    this.sink.add('W_UNREADABLE_LINE', 'warning', `cannot read line inside a dump's ${sectionName(cur.state)}: ${JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line)}`, { line: n });
  }
}


type SummaryField = [group: 'arenas' | 'totals' | 'arenaMap', key: string];

/**
 * The printone() labels with a fixed text. A switch: the label is a fresh slice of the line each
 * time, and comparing it against constants costs less than hashing it for a table lookup.
 */
function summaryField(label: string): SummaryField | undefined {
  switch (label) {
    case '# arenas allocated total': return ['arenas', 'allocatedTotal'];
    case '# arenas reclaimed': return ['arenas', 'reclaimed'];
    case '# arenas highwater mark': return ['arenas', 'highwater'];
    case '# arenas allocated current': return ['arenas', 'current'];
    case '# bytes in allocated blocks': return ['totals', 'bytesInAllocatedBlocks'];
    case '# bytes in available blocks': return ['totals', 'bytesInAvailableBlocks'];
    case '# bytes lost to pool headers': return ['totals', 'bytesLostToPoolHeaders'];
    case '# bytes lost to quantization': return ['totals', 'bytesLostToQuantization'];
    case '# bytes lost to arena alignment': return ['totals', 'bytesLostToArenaAlignment'];
    case '# arena map mid nodes': return ['arenaMap', 'midNodes'];
    case '# arena map bot nodes': return ['arenaMap', 'botNodes'];
    case '# bytes lost to arena map root': return ['arenaMap', 'bytesLostToRoot'];
    case '# bytes lost to arena map mid': return ['arenaMap', 'bytesLostToMid'];
    case '# bytes lost to arena map bot': return ['arenaMap', 'bytesLostToBot'];
    default: return undefined;
  }
}

const ARENAS_LINE_RE = /^(\d[\d,]*) arenas \* (\d+) bytes\/arena$/;
const UNUSED_POOLS_RE = /^(\d[\d,]*) unused pools \* (\d+) bytes$/;
const FREE_LIST_RE = /(\d+) free (.+?)s \* (\d+) bytes each\s*=\s*(\d[\d,]*)\s*$/;
const MIMALLOC_HEADER_RE = /^Medium block threshold = (\d+)$/;
const MIMALLOC_LINE_RE = /^(Large object max size|Allocated Blocks|Allocated Bytes|Allocated Bytes w\/ Overhead|Bytes Reserved|Bytes Committed)\s*[:=]\s*(\d[\d,]*)$/;
const MIMALLOC_KEYS: Record<string, 'largeObjectMaxSize' | 'allocatedBlocks' | 'allocatedBytes' | 'allocatedBytesWithOverhead' | 'bytesReserved' | 'bytesCommitted'> = {
  'large object max size': 'largeObjectMaxSize',
  'allocated blocks': 'allocatedBlocks',
  'allocated bytes': 'allocatedBytes',
  'allocated bytes w/ overhead': 'allocatedBytesWithOverhead',
  'bytes reserved': 'bytesReserved',
  'bytes committed': 'bytesCommitted',
};

/** "1,234,567" → 1234567. Callers pass only digits and commas. */
function toInt(s: string): number {
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 44) v = v * 10 + (c - 48);
  }
  return v;
}

/** Digits with commas only in groups of three (what printone prints, or a human's separators). */
function isGroupedNumber(s: string): boolean {
  if (s.length === 0) return false;
  let digitsSinceComma = 0;
  let sawComma = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 44) {
      if ((sawComma && digitsSinceComma !== 3) || digitsSinceComma === 0 || (!sawComma && digitsSinceComma > 3)) return false;
      sawComma = true;
      digitsSinceComma = 0;
    } else if (c >= 48 && c <= 57) digitsSinceComma++;
    else return false;
  }
  return !sawComma || digitsSinceComma === 3;
}

/** Split "label   =   1,234" at its last "="; undefined unless the value is a grouped number. */
function splitPrintone(t: string, anywhere: boolean, from = 0, to = t.length): LabelValue | undefined {
  // Read the grouped number backwards from the end, then the "=" before it, without slicing.
  let i = to - 1;
  while (i >= from && isSpace(t.charCodeAt(i))) i--;
  let value = 0;
  let scale = 1;
  let digits = 0;
  let groupDigits = 0;
  let commas = 0;
  for (; i >= from; i--) {
    const c = t.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      value += (c - 48) * scale;
      scale *= 10;
      digits++;
      groupDigits++;
    } else if (c === 44) {
      if (groupDigits !== 3) return undefined;
      groupDigits = 0;
      commas++;
    } else break;
  }
  if (digits === 0 || (commas > 0 && (groupDigits === 0 || groupDigits > 3))) return undefined;
  while (i >= from && isSpace(t.charCodeAt(i))) i--;
  if (i <= from || t.charCodeAt(i) !== 61) return undefined;
  i--;
  while (i >= from && isSpace(t.charCodeAt(i))) i--;
  let label = t.slice(from, i + 1);
  if (anywhere) {
    // Find where a known label starts inside a line that carries other text before it.
    const m = /(# [a-z].*|Total|\d[\d,]* (?:arenas|unused pools) \* \d+ bytes.*)$/.exec(label);
    if (!m) return undefined;
    label = m[1]!;
  }
  return { label, value };
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

/**
 * "N free NAMEs * S bytes each = V" (a whole trimmed line), split by hand: a dump has some 25 of these
 * and a regex per line was a tenth of the reading time.
 */
function matchFreeList(t: string, from = 0, to = t.length): FreeList | undefined {
  // Digits, then " free ": checked in place first, so that the searches below (which JS cannot
  // bound to the line) only run on lines that are free-list lines.
  let free = from;
  while (free < to && t.charCodeAt(free) >= 48 && t.charCodeAt(free) <= 57) free++;
  if (free === from || !t.startsWith(' free ', free)) return undefined;
  const star = t.indexOf('s * ', free + 6);
  if (star < 0 || star >= to) return undefined;
  const each = t.indexOf(' bytes each', star + 4);
  if (each < 0 || each + 11 > to) return undefined;
  let eq = each + 11;
  while (eq < to && isSpace(t.charCodeAt(eq))) eq++;
  if (eq >= to || t.charCodeAt(eq) !== 61) return undefined;
  let totalFrom = eq + 1;
  while (totalFrom < to && isSpace(t.charCodeAt(totalFrom))) totalFrom++;
  const count = digitsValue(t, from, free);
  const size = digitsValue(t, star + 4, each);
  const total = groupedValue(t, totalFrom, to);
  if (count < 0 || size < 0 || total < 0) return undefined;
  return { type: t.slice(free + 1, star), count, bytesEach: size, totalBytes: total };
}

/** The value of t[from, to) when it is all digits, else -1. */
function digitsValue(t: string, from: number, to: number): number {
  if (to <= from) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** The value of t[from, to) when it is a grouped number ("1,234" or "1234"), else -1. */
function groupedValue(t: string, from: number, to: number): number {
  const v = digitsValue(t, from, to);
  if (v >= 0) return v;
  const s = t.slice(from, to);
  return isGroupedNumber(s) ? toInt(s) : -1;
}

/** A free-list line anywhere in a line, with the text before its right-justified label. */
function findFreeList(line: string): { freeList: FreeList; prefix: string } | undefined {
  if (!line.includes(' free ') || !line.includes('bytes each')) return undefined;
  const m = FREE_LIST_RE.exec(line);
  if (!m || !isGroupedNumber(m[4]!)) return undefined;
  const prefix = leadingPrefix(line.slice(0, m.index));
  return { freeList: { type: `free ${m[2]!}`, count: toInt(m[1]!), bytesEach: toInt(m[3]!), totalBytes: toInt(m[4]!) }, prefix };
}

/** The paste prefix before right-justified text: everything up to the last non-blank character. */
function leadingPrefix(before: string): string {
  const t = before.trimEnd();
  return t.length === 0 ? '' : before.slice(0, t.length);
}

/**
 * A class-table row: five numbers, "%5u %6u %11zu %15zu %13zu", read from t[from, to). Scanned by
 * hand, in place: rows are most of every dump, and a regex split plus a slice per line cost several
 * times as much. With `anywhere`, the last five numbers of a longer line.
 */
function parseRow(t: string, anywhere: boolean, from = 0, to = t.length): SizeClassRow | undefined {
  // The last five numbers seen, in a small ring: a, b, c, d, e (e newest).
  let a = 0, b = 0, c = 0, d = 0, e = 0;
  let count = 0;
  let i = from;
  while (i < to) {
    const ch = t.charCodeAt(i);
    if (ch === 32 || ch === 9 || ch === 13) {
      i++;
      continue;
    }
    const start = i;
    let v = 0;
    let comma = false;
    let digits = true;
    while (i < to) {
      const k = t.charCodeAt(i);
      if (k >= 48 && k <= 57) v = v * 10 + (k - 48);
      else if (k === 44) comma = true;
      else if (k === 32 || k === 9 || k === 13) break;
      else digits = false;
      i++;
    }
    if (!digits || (comma && !isGroupedNumber(t.slice(start, i)))) {
      // Not a number: fatal for a plain row; text before the row in a pasted line.
      if (!anywhere) return undefined;
      count = 0;
      continue;
    }
    a = b;
    b = c;
    c = d;
    d = e;
    e = v;
    count++;
    if (count > 5 && !anywhere) return undefined;
  }
  if (count < 5) return undefined;
  return { index: a, size: b, pools: c, blocksInUse: d, availBlocks: e };
}

/** Remove what pasting adds before a line: e-mail/Markdown quotes, logger prefixes ending in ": ". */
function stripPastePrefix(line: string): string {
  let s = line.replace(/^\s*(?:>\s?)+/, '');
  const logger = /^.*?(?:\d{2}:\d{2}:\d{2}[.,]?\d*|\[[^\]]*\]|\b(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\b)[^:]*?:\s?/.exec(s);
  if (logger) s = s.slice(logger[0].length);
  return s;
}

function isFence(t: string): boolean {
  return t.startsWith('```') || t.startsWith('~~~');
}

function isElision(t: string): boolean {
  return t === '...' || t === '…' || /^(\.{3,}|…)(\s*\(.*\))?$/.test(t);
}

function isPrompt(t: string): boolean {
  return t.startsWith('>>>') || t === '...' || t.startsWith('... ') || /^In \[\d+\]:/.test(t);
}

function sectionName(state: State): string {
  switch (state) {
    case 'header':
      return 'header';
    case 'table':
      return 'class table';
    case 'summary':
      return 'arena summary';
    case 'arenaMap':
      return 'arena map section';
    case 'mimalloc':
      return 'mimalloc section';
    case 'after':
    case 'freeLists':
      return 'free-list section';
  }
}
