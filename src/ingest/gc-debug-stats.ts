// Reader for the cyclic GC's debug output, `gc.set_debug(gc.DEBUG_STATS | …)`, as CPython prints it
// to sys.stderr (Modules/gcmodule.c ≤3.12, Python/gc.c 3.13+, Python/gc_free_threading.c):
//
//   gc: collecting generation 2...
//   gc: objects in each generation: 488 4212 0
//   gc: objects in permanent generation: 0                        (3.7+)
//   gc: collectable <dict 0x7f…>                                  (DEBUG_COLLECTABLE)
//   gc: uncollectable <Legacy 0x7f…>                              (DEBUG_UNCOLLECTABLE)
//   gc: done, 2 unreachable, 0 uncollectable, 0.0003s elapsed     (2.7: "elapsed."; ≤3.7 with
//   gc: done, 0.0000s elapsed                                      nothing found: this short form)
//   gc:0: ResourceWarning: gc: 3 uncollectable objects at shutdown; use gc.set_debug(…) to list them
//
// CPython 3.14.0 prints no done line (the incremental collector dropped it; gh-140358 brought it
// back in 3.14.1): a collection whose permanent line is followed by the next collection's start is
// then complete, without results, as long as the log shows no done line.
//
// and as it reaches us: interleaved with the program's own output (a gc line may start in the middle
// of a line the program had not finished), indented, `>` quoted, fenced, logger-prefixed, CRLF, cut.
// Every gc line is found wherever "gc: " + one of the keywords appears in a line, so any prefix is
// tolerated without knowing its shape. Lines that are not CPython's are counted, not warned about;
// a line that starts like a gc line but does not read as one is a counted warning.
//
// Written by hand (no package reads this). One push-based core serves whole-text and streaming use.

import type { GcCollection, GcLog } from '../model/types.js';
import { InputError, showValue } from '../util/errors.js';
import { WarningSink } from './warnings.js';
import { feedLines } from './lines.js';
import { lineTime } from './line-time.js';

export interface GcDebugStatsOptions {
  /** File name used in warnings and errors. */
  file?: string;
  /** Warnings become fatal (InputError). */
  strict?: boolean;
  /** Called with each collection as soon as it is complete (streaming use). */
  onCollection?: (c: GcCollection) => void;
  /** Keep collections in the result (default true; false for streaming over huge logs). */
  keepCollections?: boolean;
}

export interface GcDebugStatsResult {
  log: GcLog;
  /** Lines read in all. */
  lines: number;
  /** Lines that held no gc line (program output, prose, prompts): counted, not warned about. */
  linesOutside: number;
}

// DEBUG_STATS lines, and the object lines alone: gc.DEBUG_LEAK (COLLECTABLE | UNCOLLECTABLE | SAVEALL)
// and DEBUG_COLLECTABLE / DEBUG_UNCOLLECTABLE without DEBUG_STATS print only those; and the
// shutdown ResourceWarning, often all a test run's log holds of the collector.
const SNIFF_RE =
  /gc: (?:collecting generation \d+\.\.\.|done, (?:\d+ unreachable, \d+ uncollectable, )?\d+\.\d+s elapsed|objects in each generation:|(?:un)?collectable <[^<>]+? (?:instance at )?(?:0x)?[0-9A-Fa-f]+>|\d+ uncollectable objects at shutdown)/;

/** Cheap, never throws: does this text hold gc.DEBUG_STATS (or DEBUG_COLLECTABLE/UNCOLLECTABLE) output? */
export function sniffGcDebugStats(text: string): boolean {
  return SNIFF_RE.test(text.length > 65536 ? text.slice(0, 65536) : text);
}

/** Parse a whole log. Throws InputError when it holds no gc line at all. */
export function parseGcDebugStats(text: string, opts: GcDebugStatsOptions = {}): GcDebugStatsResult {
  const reader = new GcDebugStatsReader(opts);
  reader.push(text);
  return reader.end();
}

type Kind = 'collecting' | 'objects' | 'permanent' | 'done' | 'collectable' | 'uncollectable' | 'shutdown';

/** What each kind of line must look like once "gc: " is stripped (the text after it, trimmed at the end). */
const LINE_RE: Record<Kind, RegExp> = {
  collecting: /^collecting generation (\d+)\.\.\.$/,
  objects: /^objects in each generation:((?:[ \t]+\d+)*)$/,
  permanent: /^objects in permanent generation:[ \t]+(\d+)$/,
  done: /^done, (?:(\d+) unreachable, (\d+) uncollectable, )?(\d+\.\d+)s elapsed(\.?)$/,
  // tp_name (%.100s) then %p: "0x7f…" (glibc, emscripten) or bare hex digits (MSVC). Python 2
  // classic instances: "<Name instance at 0x…>".
  collectable: /^collectable <(.+?)( instance at)? ((?:0x)?[0-9A-Fa-f]+|\(nil\))>$/,
  uncollectable: /^uncollectable <(.+?)( instance at)? ((?:0x)?[0-9A-Fa-f]+|\(nil\))>$/,
  shutdown: /^(\d+) uncollectable objects at shutdown(?:; use gc\.set_debug\(gc\.DEBUG_UNCOLLECTABLE\) to list them)?$/,
};

const EXPECTED: Record<Kind, string> = {
  collecting: '"gc: collecting generation N..."',
  objects: '"gc: objects in each generation: N N N"',
  permanent: '"gc: objects in permanent generation: N"',
  done: '"gc: done, N unreachable, N uncollectable, N.NNNNs elapsed"',
  collectable: '"gc: collectable <Type 0x…>"',
  uncollectable: '"gc: uncollectable <Type 0x…>"',
  shutdown: '"gc: N uncollectable objects at shutdown"',
};

/** The kind of gc line that starts at `at` (just after "gc: "), or undefined. */
function kindAt(line: string, at: number): Kind | undefined {
  switch (line.charCodeAt(at)) {
    case 99: // c
      if (line.startsWith('collecting generation', at)) return 'collecting';
      if (line.startsWith('collectable <', at)) return 'collectable';
      return undefined;
    case 111: // o
      if (line.startsWith('objects in each generation:', at)) return 'objects';
      if (line.startsWith('objects in permanent generation:', at)) return 'permanent';
      return undefined;
    case 100: // d
      return line.startsWith('done,', at) ? 'done' : undefined;
    case 117: // u
      return line.startsWith('uncollectable <', at) ? 'uncollectable' : undefined;
    default: {
      const c = line.charCodeAt(at);
      if (c >= 48 && c <= 57 && /^\d+ uncollectable objects at shutdown/.test(line.slice(at, at + 60))) return 'shutdown';
      return undefined;
    }
  }
}

/** Find the gc line in a line of the log: its kind and its text after "gc: ", or undefined. */
function findGcLine(line: string): { kind: Kind; text: string; at: number } | undefined {
  let from = 0;
  for (;;) {
    const i = line.indexOf('gc: ', from);
    if (i < 0) return undefined;
    const kind = kindAt(line, i + 4);
    if (kind) return { kind, text: line.slice(i + 4).trimEnd(), at: i };
    from = i + 1;
  }
}

interface Open {
  c: GcCollection;
  /** The collecting line could not be read: its lines are absorbed, nothing is recorded. */
  unreadable: boolean;
}

export class GcDebugStatsReader {
  private readonly sink: WarningSink;
  private readonly collections: GcCollection[] = [];
  private readonly collectable = new Map<string, number>();
  private readonly uncollectable = new Map<string, number>();
  private atShutdown: number | undefined;
  private cur: Open | undefined;
  private rest = '';
  private lineNo = 0;
  private outside = 0;
  private gcLines = 0;
  private emitted = 0;
  // What the layout has shown, for versionRange.
  private sawPeriod = false;
  private sawNoPeriod = false;
  private sawObjects = false;
  private sawPermanent = false;
  private sawShortDone = false;
  private sawZeroDone = false;
  /** Collections read as complete without a done line (3.14.0), since the last done line. */
  private withoutDone = 0;
  private completeWithObjects = 0;
  private completeWithoutObjects = 0;
  // The log collector's stamps in front of the lines (src/ingest/line-time.ts), when there are.
  private firstTime: number | undefined;
  private lastTime: number | undefined;
  private lastLine = '';

  constructor(private readonly opts: GcDebugStatsOptions = {}) {
    this.sink = new WarningSink(opts.file, opts.strict);
  }

  /** Feed a chunk of text; complete lines are read now, a partial last line waits for more. */
  push(chunk: string): void {
    this.rest = feedLines(this.rest, chunk, (l) => this.line(l));
  }

  end(): GcDebugStatsResult {
    if (this.rest.length > 0) {
      this.line(this.rest);
      this.rest = '';
    }
    this.close(undefined);
    if (this.gcLines === 0) {
      throw new InputError(
        { file: this.opts.file, line: 1 },
        `expected gc.DEBUG_STATS output ("gc: collecting generation N..." / "gc: done, …s elapsed" lines), found none in ${this.lineNo} lines`,
        'E_NOT_GC_LOG',
      );
    }
    const log: GcLog = {
      format: 'gc-debug-stats',
      collections: this.collections,
      collectable: sortedRecord(this.collectable),
      uncollectableObjects: sortedRecord(this.uncollectable),
      warnings: this.sink.finish(),
    };
    const range = this.versionRange();
    if (range) log.versionRange = range;
    const last = this.firstTime === undefined ? undefined : (lineTime(this.lastLine) ?? this.lastTime);
    if (this.firstTime !== undefined && last !== undefined && last > this.firstTime) log.durationSeconds = last - this.firstTime;
    if (this.atShutdown !== undefined) log.uncollectableAtShutdown = this.atShutdown;
    return { log, lines: this.lineNo, linesOutside: this.outside };
  }

  private line(raw: string): void {
    this.lineNo++;
    const n = this.lineNo;
    const found = findGcLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    // The span of a stamped log runs from its first stamped line to its last one, program output
    // included: only the first few lines are tried for the start, the last line is kept for the end.
    if (this.firstTime === undefined && n <= 100) this.firstTime = lineTime(raw);
    this.lastLine = raw;
    if (!found) {
      this.outside++;
      return;
    }
    this.gcLines++;
    const { kind, text } = found;
    const m = LINE_RE[kind].exec(text);
    if (!m) {
      this.sink.add('W_GC_GARBLED', 'warning', `cannot read gc line: expected ${EXPECTED[kind]}, found ${showValue(`gc: ${text}`, 90)}`, { line: n });
      if (kind === 'collecting') {
        this.close(n);
        this.cur = { c: { generation: -1, line: n }, unreadable: true };
      } else if (kind === 'done' && this.cur) {
        // The collection ended here, but its results are unreadable.
        this.cur.c.truncated = true;
        this.finish(this.cur);
        this.cur = undefined;
      }
      return;
    }
    switch (kind) {
      case 'collecting': {
        this.close(n);
        this.cur = { c: { generation: Number(m[1]), line: n }, unreadable: false };
        const t = found.at > 0 ? lineTime(raw) : undefined;
        if (t !== undefined) {
          this.firstTime ??= t;
          this.lastTime = t;
          this.cur.c.timeSeconds = t - this.firstTime;
        }
        return;
      }
      case 'objects': {
        this.sawObjects = true;
        const cur = this.inCollection(kind, n);
        if (!cur) return;
        if (cur.c.objects) return this.unexpected(kind, n);
        cur.c.objects = m[1]!.trim().split(/[ \t]+/).filter((s) => s !== '').map(Number);
        return;
      }
      case 'permanent': {
        this.sawPermanent = true;
        const cur = this.inCollection(kind, n);
        if (!cur) return;
        if (cur.c.permanent !== undefined) return this.unexpected(kind, n);
        cur.c.permanent = Number(m[1]);
        return;
      }
      case 'done':
        this.done(m, n);
        return;
      case 'collectable':
      case 'uncollectable': {
        const map = kind === 'collectable' ? this.collectable : this.uncollectable;
        map.set(m[1]!, (map.get(m[1]!) ?? 0) + 1);
        return;
      }
      case 'shutdown':
        this.atShutdown = Number(m[1]);
        return;
    }
  }

  private done(m: RegExpExecArray, n: number): void {
    if (this.withoutDone > 0) {
      // Collections before this one were read as 3.14.0's, which prints no done line; this log does.
      this.sink.add('W_GC_TRUNCATED', 'warning', `${this.withoutDone} collection(s) before line ${n} have no "gc: done" line, read as complete (CPython 3.14.0 prints none), but this log prints done lines: their results are missing`, { line: n });
      this.withoutDone = 0;
    }
    if (m[4] === '.') this.sawPeriod = true;
    else this.sawNoPeriod = true;
    const short = m[1] === undefined;
    if (short) this.sawShortDone = true;
    else if (m[1] === '0' && m[2] === '0') this.sawZeroDone = true;
    if (this.cur?.unreadable) {
      this.cur = undefined;
      return;
    }
    const cur = this.inCollection('done', n);
    if (!cur) return;
    this.cur = undefined;
    const c = cur.c;
    // The short form is printed only when nothing was found (≤3.7: `if (m == 0 && n == 0)`).
    const unreachable = short ? 0 : Number(m[1]);
    const uncollectable = short ? 0 : Number(m[2]);
    c.unreachable = unreachable;
    c.uncollectable = uncollectable;
    if (uncollectable <= unreachable) c.collected = unreachable - uncollectable;
    else this.sink.add('W_GC_INCONSISTENT', 'warning', `${uncollectable} uncollectable is more than ${unreachable} unreachable (unreachable counts both)`, { line: n });
    c.elapsedSeconds = Number(m[3]);
    if (c.objects) this.completeWithObjects++;
    else this.completeWithoutObjects++;
    this.finish(cur);
  }

  /** The open collection a line belongs to, or undefined (after a warning) when none is open. */
  private inCollection(kind: Kind, n: number): Open | undefined {
    const cur = this.cur;
    if (!cur) {
      this.sink.add('W_GC_ORPHAN_LINE', 'warning', `${EXPECTED[kind]} line outside a collection (no "gc: collecting generation N..." line before it); skipped`, { line: n });
      return undefined;
    }
    return cur.unreadable ? undefined : cur;
  }

  private unexpected(kind: Kind, n: number): void {
    this.sink.add('W_GC_UNEXPECTED_LINE', 'warning', `a second ${EXPECTED[kind]} line in the collection starting at line ${this.cur!.c.line}; skipped`, { line: n });
  }

  /** Close the open collection, if any: it has no done line (the next one starts at `next`, or the log ends). */
  private close(next: number | undefined): void {
    const cur = this.cur;
    if (!cur) return;
    this.cur = undefined;
    if (cur.unreadable) return;
    // 3.14.0: the permanent line ends a collection; no done line has been seen (or none since the
    // first such collection), and the next collection started (or the log ended after one of these).
    const noDoneLayout = !this.sawPeriod && !this.sawNoPeriod && (next !== undefined || this.withoutDone > 0);
    if (noDoneLayout && cur.c.objects !== undefined && cur.c.permanent !== undefined) {
      this.withoutDone++;
      this.finish(cur);
      return;
    }
    cur.c.truncated = true;
    const where = next === undefined ? 'the log ends first' : `the next collection starts at line ${next}`;
    this.sink.add('W_GC_TRUNCATED', 'warning', `collection of generation ${cur.c.generation} starting at line ${cur.c.line} has no "gc: done" line (${where}); kept without its results`, { line: cur.c.line });
    this.finish(cur);
  }

  private finish(cur: Open): void {
    if (cur.unreadable) return;
    this.emitted++;
    this.opts.onCollection?.(cur.c);
    if (this.opts.keepCollections !== false) this.collections.push(cur.c);
  }

  /**
   * The CPython versions whose output looks like this (SOURCE + VERIFIED-RUN, docs/gc-logs.md):
   * "elapsed." ends the done line only in Python 2; the permanent-generation line exists from 3.7;
   * the short "gc: done, …s elapsed" form (nothing found) was printed up to 3.7, 3.8+ print "0
   * unreachable, 0 uncollectable"; free-threaded 3.13+ print no per-generation lines at all.
   */
  private versionRange(): string | undefined {
    if (this.withoutDone > 0 && !this.sawPeriod && !this.sawNoPeriod) return '3.14.0';
    if (this.sawPeriod && !this.sawNoPeriod) return '2.7';
    if (this.sawPeriod) return undefined; // mixed: two interpreters' logs
    if (this.sawPermanent) {
      if (this.sawShortDone && this.sawZeroDone) return undefined;
      if (this.sawShortDone) return '3.7';
      if (this.sawZeroDone) return '>=3.8';
      return '>=3.7';
    }
    if (this.sawObjects) return this.completeWithObjects > 0 && this.sawNoPeriod ? '<=3.6' : undefined;
    if (this.completeWithoutObjects > 0 && this.sawZeroDone) return '>=3.13 (free-threaded)';
    return undefined;
  }
}

function sortedRecord(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
