// Reader for tracemalloc output printed by programs (Lib/tracemalloc.py: str(Statistic),
// str(StatisticDiff), Traceback.format(); and the documentation's recipes "N memory blocks: X KiB"
// and "#1: file:line: X KiB"), as pasted by humans: log prefixes (timestamps, levels, logger
// names, `docker compose` columns), indentation, `>` quoting, CRLF, Windows paths with spaces or
// doubled backslashes, <frozen …>/<string> pseudo-files, headers such as "[ Top 10 ]", and a cut
// last line. Sizes are parsed back with the exact interval of values _format_size() prints that
// way (text is lossy: "10.5 KiB" is any size from 10701 to 10803 bytes).
//
// Written by hand (no package reads this). One push-based core serves whole-text and streaming use.

import { formatSize, printfFixed } from '../model/tracemalloc-text.js';
import type { PrintedFrame, PrintedSize, PrintedStatistic, PrintedTracemalloc, ReadWarning } from '../model/types.js';
import { InputError } from '../util/errors.js';
import { WarningSink } from './warnings.js';
import { feedLines } from './lines.js';

export interface TracemallocTextOptions {
  file?: string;
  strict?: boolean;
}

export interface TracemallocTextResult {
  printed: PrintedTracemalloc;
  warnings: ReadWarning[];
}

const UNIT = '(?:B|KiB|MiB|GiB|TiB)';
const SIZE = `-?\\d+(?:\\.\\d)? ${UNIT}`;
const SIGNED = `[+-]\\d+(?:\\.\\d)? ${UNIT}`;
/** "…:LINENO: size=" — greedy, so the last one on the line: the file name may hold colons. */
const STAT_HEAD = /^(.*):(\d+): size=/;
const STAT_TAIL = new RegExp(`^(${SIZE})(?: \\((${SIGNED})\\))?, count=(\\d+)(?: \\(([+-]\\d+)\\))?(?:, average=(${SIZE}))?\\s*$`);
const BLOCKS = /^(.*?)(\d+) memory blocks: (-?\d+\.\d) KiB\s*$/;
const TOP_LINE = /^(.*?)#(\d+): (.*):(\d+): (-?\d+\.\d) KiB\s*$/;
/** A "#1: file:line: X KiB" line cut after its line number: the size whole (then " K…") or not. */
const TOP_CUT = /^(.*?)#(\d+): (.*):(\d+): (?:(-?\d+\.\d)(?= |$)| ?$| ?-?\d*\.?$)(?: K?i?)?$/;
const TOP_OTHER = /^(.*?)(\d+) other: (-?\d+\.\d) KiB\s*$/;
const TOP_TOTAL = /^(.*?)Total allocated size: (-?\d+\.\d) KiB\s*$/;
const FILE_LINE = /^(.*?)File "(.*)", line (\d+)\s*$/;
const HEADER = /^(.*?)(\[ .* \]|Top \d+ lines)\s*$/;
const SNIFF = new RegExp(`:\\d+: size=${SIZE}(?: \\(${SIGNED}\\))?, count=\\d|\\d+ memory blocks: -?\\d+\\.\\d KiB|#\\d+: .*:\\d+: -?\\d+\\.\\d KiB`);
const MAX_LINE = 1 << 16;

/** Cheap, never throws: does the text hold printed tracemalloc statistics? */
export function sniffTracemallocText(text: string): boolean {
  return SNIFF.test(text.length > 65536 ? text.slice(0, 65536) : text);
}

const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/**
 * A printed _format_size() value → the interval of values that print exactly so. Whole-byte
 * values (sizes) get exact integer bounds, found by running _format_size() itself at the edges;
 * real values (averages) get the closed rounding interval.
 */
export function parsePrintedSize(text: string, opts: { integer: boolean; signed: boolean }): PrintedSize {
  const [num, unit] = text.split(' ') as [string, string];
  const f = UNIT_BYTES[unit]!;
  const d = Number(num);
  const decimals = num.includes('.') ? 1 : 0;
  const bytes = d * f;
  const h = (decimals ? 0.05 : 0.5) * f;
  if (!opts.integer) {
    if (unit === 'B' && decimals === 0) return { text, bytes, min: d - 0.5, max: d + 0.5, exact: false };
    return { text, bytes, min: bytes - h, max: bytes + h, exact: false };
  }
  if (unit === 'B') return { text, bytes: d, min: d, max: d, exact: true };
  // _format_size() is monotonic in the size, so the sizes printing as `text` are one run of
  // integers: find its ends by bisection. Negative sizes mirror positive ones.
  const neg = num.startsWith('-');
  const bare = `${neg || num.startsWith('+') ? num.slice(1) : num} ${unit}`;
  // Equal printed values come in size order by unit, then decimal form first: 10485759 prints
  // "10240 KiB", 10485760 "10.0 MiB"; 102399 "100.0 KiB", 102400 "100 KiB".
  const key = (t: string): [number, number, number] => {
    const [n, u] = t.split(' ') as [string, string];
    return [Number(n) * UNIT_BYTES[u]!, UNIT_BYTES[u]!, n.includes('.') ? 0 : 1];
  };
  const want = key(bare);
  const cmp = (v: number) => {
    const k = key(formatSize(v, false));
    return k[0] - want[0] || k[1] - want[1] || k[2] - want[2];
  };
  const first = (pred: (v: number) => boolean) => {
    let lo = 0;
    let hi = 2 ** 52; // sizes stay exact integers in a double below 2^53
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (pred(mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const lo = first((v) => cmp(v) >= 0);
  const hi = first((v) => cmp(v) > 0) - 1;
  if (lo > hi || formatSize(lo, false) !== bare) return { text, bytes, min: bytes, max: bytes, exact: false }; // never printed so
  const [min, max] = neg ? [-hi, -lo] : [lo, hi];
  return { text, bytes, min: min === 0 ? 0 : min, max: max === 0 ? 0 : max, exact: min === max };
}

/**
 * A size printed by the documentation's recipes as "%.1f KiB" % (size / 1024) (not
 * _format_size): the whole-byte sizes that print so.
 */
export function parseKibSize(num: string): PrintedSize {
  const d = Number(num);
  const text = `${num} KiB`;
  const prints = (v: number) => printfFixed(v / 1024, 1) === num;
  let min = Math.floor((d - 0.05) * 1024) - 2;
  let max = Math.ceil((d + 0.05) * 1024) + 2;
  while (min <= max && !prints(min)) min++;
  while (max >= min && !prints(max)) max--;
  if (min > max) return { text, bytes: d * 1024, min: d * 1024, max: d * 1024, exact: false };
  return { text, bytes: d * 1024, min, max, exact: min === max };
}

// A file name starts where one of these begins (the text before it is a log prefix).
const PSEUDO_AT_END = /<[^<>]*>$/;
const WIN_DRIVE = /(?:^|[\s"'([=:>|])([A-Za-z]:[\\/])/;
const UNC = /(?:^|[\s"'([=>|])(\\\\)/;
const POSIX_ABS = /(?:^|[\s"'([=:>|])(\/)/;
// Prefixes of relative names: timestamps, levels with logging's "LEVEL:logger:" form, quoting.
const LOG_PREFIX = [
  /^\s*\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?\s*/,
  /^\s*\[?\d\d:\d\d:\d\d(?:[.,]\d+)?\]?\s*/,
  /^\s*\[?(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\]?:[\w.]*:/,
  /^\s*\[?(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\]?(?:\s+-\s+|\s*[|:]\s*|\s+)/,
  /^\s*[\w.-]+:\s+/, // a logger name: "app: "
  /^\s*#\d+:\s+/, // a rank the program printed before str(stat): "#1: "
  /^.*[\s,]\w+=(?=\S)/, // the program's own message before it: "top_diffs i=1, stat="
  /^\s*[\w.-]+\s+\|\s/, // a docker compose column: "web-1  | "
  /^\s*(?:>\s?)+/,
];

/** Split "<log prefix><file name>" at the file name. */
export function splitPrefix(head: string, learned?: string): { prefix: string; filename: string; anchored: boolean } {
  const pseudo = PSEUDO_AT_END.exec(head);
  if (pseudo) return { prefix: head.slice(0, pseudo.index), filename: pseudo[0], anchored: true };
  let best = -1;
  for (const re of [WIN_DRIVE, UNC, POSIX_ABS]) {
    const m = re.exec(head);
    if (m) {
      const at = m.index + m[0].length - m[1]!.length;
      if (best < 0 || at < best) best = at;
    }
  }
  if (best >= 0) return { prefix: head.slice(0, best), filename: head.slice(best), anchored: true };
  if (learned && head.startsWith(learned)) return { prefix: learned, filename: head.slice(learned.length), anchored: true };
  let rest = head;
  for (let changed = true; changed; ) {
    changed = false;
    for (const re of LOG_PREFIX) {
      const m = re.exec(rest);
      if (m && m[0].length > 0 && m[0].length < rest.length) {
        rest = rest.slice(m[0].length);
        changed = true;
      }
    }
  }
  rest = rest.replace(/^\s+/, '');
  return { prefix: head.slice(0, head.length - rest.length), filename: rest, anchored: false };
}

/** "C:\\\\Users\\\\x.py" (a repr or JSON-escaped log) → "C:\\Users\\x.py", when every backslash is doubled. */
function undoubleBackslashes(name: string): string | null {
  if (!/^(?:[A-Za-z]:\\\\|\\\\\\\\)/.test(name)) return null;
  if (/(?:^|[^\\])(?:\\\\)*\\(?!\\)/.test(name)) return null; // an odd run: not doubled
  return name.replace(/\\\\/g, '\\');
}

export class TracemallocTextReader {
  private readonly sink: WarningSink;
  private readonly stats: PrintedStatistic[] = [];
  private readonly headers: PrintedTracemalloc['headers'] = [];
  private readonly totals: PrintedTracemalloc['totals'] = [];
  private rest = '';
  private lineNo = 0;
  private outside = 0;
  /** The statistic whose frames are being read, and the prefix its frame lines carry. */
  private cur: { stat: PrintedStatistic; framePrefix?: string; sourcePrefix?: string; lastFrame?: PrintedFrame } | undefined;
  private learned: string | undefined;
  /** Statistics whose relative file name was split from its prefix by guesswork, with the raw text. */
  private guessed: { stat: PrintedStatistic; head: string }[] = [];

  constructor(private readonly opts: TracemallocTextOptions = {}) {
    this.sink = new WarningSink(opts.file, opts.strict);
  }

  push(chunk: string): void {
    this.rest = feedLines(this.rest, chunk, (l) => this.line(l, false));
  }

  end(): TracemallocTextResult {
    if (this.rest.length) this.line(this.rest, true);
    this.rest = '';
    this.finishStat();
    // A relative name read before any line showed the paste's constant prefix: split it again.
    const learned = this.learned;
    if (learned) for (const g of this.guessed) if (g.head.startsWith(learned)) g.stat.frame!.filename = g.head.slice(learned.length);
    if (this.stats.length === 0) {
      throw new InputError(
        { file: this.opts.file, line: 1 },
        `expected tracemalloc output ("file.py:12: size=… KiB, count=…", "N memory blocks: X KiB" or "#1: file.py:12: X KiB"), found none in ${this.lineNo} lines`,
        'E_NOT_TRACEMALLOC_TEXT',
      );
    }
    const stats = this.stats;
    let groupBy: PrintedTracemalloc['groupBy'];
    const framed = stats.filter((s) => s.frame);
    if (stats.some((s) => s.frames?.length)) groupBy = 'traceback';
    else if (framed.length && framed.every((s) => s.frame!.lineno === 0)) groupBy = 'filename';
    else if (framed.length) groupBy = 'lineno';
    return {
      printed: { statistics: stats, headers: this.headers, totals: this.totals, groupBy, lines: this.lineNo, linesOutside: this.outside },
      warnings: this.sink.finish(),
    };
  }

  private finishStat(): void {
    const c = this.cur;
    this.cur = undefined;
    if (!c) return;
    const s = c.stat;
    if (s.frame && s.frames && s.frames.length > 1) {
      const same = (f: PrintedFrame) => f.filename === s.frame!.filename && f.lineno === s.frame!.lineno;
      const first = same(s.frames[0]!);
      const last = same(s.frames[s.frames.length - 1]!);
      if (first !== last) s.frameOrder = first ? 'oldest-first' : 'most-recent-first';
    }
  }

  private filename(raw: string, lineNo: number): string {
    const fixed = undoubleBackslashes(raw);
    if (fixed === null) return raw;
    this.sink.add('doubled-backslashes', 'info', `file name with every backslash doubled (escaped text) read as ${JSON.stringify(fixed)}`, { line: lineNo });
    return fixed;
  }

  private line(raw: string, last: boolean): void {
    this.lineNo++;
    const n = this.lineNo;
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length > MAX_LINE) {
      this.sink.add('line-too-long', 'warning', `line of ${line.length} characters skipped (no tracemalloc line is this long)`, { line: n });
      this.outside++;
      return;
    }
    // A frame of the statistic being read, or its source line.
    const cur = this.cur;
    if (cur) {
      const fm = FILE_LINE.exec(line);
      if (fm && (cur.framePrefix === undefined || fm[1] === cur.framePrefix)) {
        cur.framePrefix = fm[1]!;
        const frame: PrintedFrame = { filename: this.filename(fm[2]!, n), lineno: Number(fm[3]), line: n };
        (cur.stat.frames ??= []).push(frame);
        cur.lastFrame = frame;
        cur.sourcePrefix = `${fm[1]!}  `;
        return;
      }
      if (cur.lastFrame && cur.lastFrame.source === undefined && cur.sourcePrefix !== undefined && line.startsWith(cur.sourcePrefix) && line.length > cur.sourcePrefix.length && !STAT_HEAD.test(line)) {
        cur.lastFrame.source = line.slice(cur.sourcePrefix.length);
        return;
      }
      if (cur.stat.kind === 'top' && cur.lastFrame === undefined && /^\s{4}\S/.test(line.slice(cur.framePrefix?.length ?? 0))) {
        return; // the "pretty top" recipe's source line under "#1: …"
      }
      this.finishStat();
    }
    if (line.includes(': size=')) {
      if (this.statLine(line, n, last)) return;
    }
    if (line.includes(' memory blocks: ')) {
      const m = BLOCKS.exec(line);
      if (m) {
        const stat: PrintedStatistic = { line: n, kind: 'blocks', count: Number(m[2]), size: parseKibSize(m[3]!) };
        this.stats.push(stat);
        this.cur = { stat };
        return;
      }
    }
    if (line.includes('#') && line.includes(' KiB')) {
      const m = TOP_LINE.exec(line);
      if (m) {
        const { filename } = splitPrefix(m[3]!, undefined);
        const stat: PrintedStatistic = { line: n, kind: 'top', frame: { filename: this.filename(filename, n), lineno: Number(m[4]) }, size: parseKibSize(m[5]!) };
        this.stats.push(stat);
        this.cur = { stat, framePrefix: m[1]! };
        return;
      }
    }
    if (line.includes('#') && !line.includes(' KiB')) {
      const m = TOP_CUT.exec(line);
      if (m) {
        const { filename } = splitPrefix(m[3]!, undefined);
        const size = m[5] !== undefined ? parseKibSize(m[5]) : { text: '', bytes: NaN, min: 0, max: Infinity, exact: false };
        const stat: PrintedStatistic = { line: n, kind: 'top', frame: { filename: this.filename(filename, n), lineno: Number(m[4]) }, size, truncated: true };
        this.sink.add('truncated-line', last ? 'info' : 'warning', `"#N: file:line: X KiB" line cut after ${JSON.stringify(line.slice(-20))}; read as far as it goes`, { line: n });
        this.stats.push(stat);
        this.cur = { stat, framePrefix: m[1]! };
        return;
      }
    }
    const other = TOP_OTHER.exec(line);
    if (other) {
      this.totals.push({ line: n, label: 'other', count: Number(other[2]), size: parseKibSize(other[3]!) });
      return;
    }
    const total = TOP_TOTAL.exec(line);
    if (total) {
      this.totals.push({ line: n, label: 'total', size: parseKibSize(total[2]!) });
      return;
    }
    const h = HEADER.exec(line);
    if (h) {
      this.headers.push({ line: n, text: h[2]! });
      return;
    }
    this.outside++;
  }

  /** "<prefix><file>:<lineno>: size=…" — complete, or cut (kept as far as it goes). */
  private statLine(line: string, n: number, last: boolean): boolean {
    const head = STAT_HEAD.exec(line);
    if (!head) return false;
    const tail = line.slice(head[0].length);
    const { prefix, filename, anchored } = splitPrefix(head[1]!, this.learned);
    if (!filename) return false;
    const frame = { filename: this.filename(filename, n), lineno: Number(head[2]) };
    let m = STAT_TAIL.exec(tail);
    // CPython leaves the average out only when the count is 0: without it, the line was cut
    // (maybe inside the count's digits).
    if (m && m[5] === undefined && m[3] !== '0') m = null;
    let stat: PrintedStatistic;
    if (m) {
      const diff = m[2] !== undefined || m[4] !== undefined;
      if ((m[2] === undefined) !== (m[4] === undefined)) return false;
      stat = {
        line: n,
        kind: diff ? 'diff' : 'statistic',
        frame,
        size: parsePrintedSize(m[1]!, { integer: true, signed: false }),
        count: Number(m[3]),
      };
      if (diff) {
        stat.sizeDiff = parsePrintedSize(m[2]!, { integer: true, signed: true });
        stat.countDiff = Number(m[4]);
      }
      if (m[5] !== undefined) stat.average = parsePrintedSize(m[5], { integer: false, signed: false });
    } else {
      const cut = this.cutStat(tail, frame, n);
      if (!cut) return false;
      stat = cut;
      this.sink.add('truncated-line', last ? 'info' : 'warning', `statistic line cut after ${JSON.stringify(tail.slice(-20))}; read as far as it goes`, { line: n });
    }
    if (anchored && prefix.length && !/[/\\]/.test(prefix)) this.learned = prefix;
    if (!anchored) this.guessed.push({ stat, head: head[1]! });
    this.stats.push(stat);
    this.cur = { stat };
    return true;
  }

  /**
   * A statistic line cut short: its tail must be the start of a complete one. Fields read whole
   * are kept; a number at the very end may be missing digits, so it is not kept.
   */
  private cutStat(tail: string, frame: { filename: string; lineno: number }, n: number): PrintedStatistic | null {
    const stat: PrintedStatistic = { line: n, kind: 'statistic', frame, size: { text: '', bytes: NaN, min: 0, max: Infinity, exact: false }, truncated: true };
    let rest = tail;
    type Step = 'ok' | 'cut' | 'bad';
    const lit = (t: string): Step => {
      if (rest.startsWith(t)) {
        rest = rest.slice(t.length);
        return 'ok';
      }
      return t.startsWith(rest) ? 'cut' : 'bad';
    };
    const size = (signed: boolean): PrintedSize | Step => {
      const m = (signed ? SIGNED_RE : SIZE_RE).exec(rest);
      if (m) {
        rest = rest.slice(m[0].length);
        return parsePrintedSize(m[0], { integer: true, signed });
      }
      return (signed ? PARTIAL_SIGNED : PARTIAL_SIZE).test(rest) ? 'cut' : 'bad';
    };
    const int = (signed: boolean): number | Step => {
      const m = (signed ? /^[+-]\d+/ : /^\d+/).exec(rest);
      if (m && m[0].length < rest.length) {
        rest = rest.slice(m[0].length);
        return Number(m[0]);
      }
      return m || rest === '' || (signed && (rest === '+' || rest === '-')) ? 'cut' : 'bad';
    };
    const sz = size(false);
    if (typeof sz === 'string') return sz === 'cut' ? stat : null;
    stat.size = sz;
    if (rest.startsWith(' ') || rest === '') {
      if (rest === '') return stat;
      stat.kind = 'diff';
      let r = lit(' (');
      if (r !== 'ok') return r === 'cut' ? stat : null;
      const d = size(true);
      if (typeof d === 'string') return d === 'cut' ? stat : null;
      stat.sizeDiff = d;
      r = lit(')');
      if (r !== 'ok') return r === 'cut' ? stat : null;
    }
    let r = lit(', count=');
    if (r !== 'ok') return r === 'cut' ? stat : null;
    const c = int(false);
    if (typeof c === 'string') return c === 'cut' ? stat : null;
    stat.count = c;
    if (stat.kind === 'diff') {
      r = lit(' (');
      if (r !== 'ok') return r === 'cut' ? stat : null;
      const cd = int(true);
      if (typeof cd === 'string') return cd === 'cut' ? stat : null;
      stat.countDiff = cd;
      r = lit(')');
      if (r !== 'ok') return r === 'cut' ? stat : null;
    }
    if (rest === '') return stat;
    r = lit(', average=');
    if (r !== 'ok') return r === 'cut' ? stat : null;
    const avg = size(false);
    return typeof avg === 'string' && avg === 'bad' ? null : stat;
  }
}

const SIZE_RE = new RegExp(`^${SIZE}`);
const SIGNED_RE = new RegExp(`^${SIGNED}`);
const PARTIAL_SIZE = /^-?\d*(?:\.\d?)?(?: (?:B|K|Ki|M|Mi|G|Gi|T|Ti)?)?$/;
const PARTIAL_SIGNED = /^[+-]?\d*(?:\.\d?)?(?: (?:B|K|Ki|M|Mi|G|Gi|T|Ti)?)?$/;

export function parseTracemallocText(text: string, opts: TracemallocTextOptions = {}): TracemallocTextResult {
  const r = new TracemallocTextReader(opts);
  r.push(text);
  return r.end();
}
