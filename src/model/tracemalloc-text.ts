// What Lib/tracemalloc.py prints: _format_size(), str(Frame), str(Traceback), str(Statistic),
// str(StatisticDiff) and Traceback.format(), byte for byte, for the semantics of one CPython
// version (TracemallocParams: frame order and format()'s limit rule changed in 3.7).

import type { TracemallocParams } from './params.js';
import type { Statistic, StatisticDiff, TraceFrame } from './types.js';

/**
 * printf("%.Nf") of a double: the exact binary value rounded half to even, as C (and Python's
 * "%" formatting) do. toFixed() is exact too but breaks exact ties away from zero, so a tie is
 * detected and moved to the even neighbour. A tie at N decimals exists only when the value is an
 * odd multiple of 2^-(N+1) (a dyadic rational ending in 5 at decimal N+1), which x·2^(N+1) tests
 * exactly.
 */
export function printfFixed(x: number, digits: 0 | 1, plus = false): string {
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let s: string;
  if (a >= 1e21) s = BigInt(Math.round(a)).toString() + (digits ? '.0' : '');
  else {
    s = a.toFixed(digits);
    const scaled = a * (digits === 0 ? 2 : 4);
    if (Number.isInteger(scaled) && scaled % 2 === 1) {
      const last = s.charCodeAt(s.length - 1) - 48;
      if (last % 2 === 1) s = s.slice(0, -1) + String.fromCharCode(48 + last - 1);
    }
  }
  return neg ? `-${s}` : plus ? `+${s}` : s;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** tracemalloc._format_size(size, sign). */
export function formatSize(size: number, sign: boolean): string {
  for (const unit of UNITS) {
    if (Math.abs(size) < 100 && unit !== 'B') return `${printfFixed(size, 1, sign)} ${unit}`;
    if (Math.abs(size) < 10 * 1024 || unit === 'TiB') return `${printfFixed(size, 0, sign)} ${unit}`;
    size /= 1024;
  }
  /* c8 ignore next */
  throw new Error('unreachable');
}

/** "%+i". */
function signedInt(n: number): string {
  return n < 0 ? String(n) : `+${n}`;
}

/** str(Frame): "filename:lineno". */
export function formatFrame(f: TraceFrame): string {
  return `${f.filename}:${f.lineno}`;
}

/** The frames in the order the version's Traceback object holds them (from raw, most recent first). */
export function apiOrder(raw: readonly TraceFrame[], p: TracemallocParams): readonly TraceFrame[] {
  return p.tracebackOldestFirst ? raw.slice().reverse() : raw;
}

/** str(Traceback) = str(traceback[0]): the oldest frame in 3.7+, the most recent before. */
export function tracebackFrame(raw: readonly TraceFrame[], p: TracemallocParams): TraceFrame {
  return p.tracebackOldestFirst ? raw[raw.length - 1]! : raw[0]!;
}

/** str(Statistic). */
export function formatStatistic(s: Statistic, p: TracemallocParams): string {
  let text = `${formatFrame(tracebackFrame(s.traceback, p))}: size=${formatSize(s.size, false)}, count=${s.count}`;
  if (s.count) text += `, average=${formatSize(s.size / s.count, false)}`;
  return text;
}

/** str(StatisticDiff). */
export function formatStatisticDiff(s: StatisticDiff, p: TracemallocParams): string {
  let text =
    `${formatFrame(tracebackFrame(s.traceback, p))}: size=${formatSize(s.size, false)} (${formatSize(s.sizeDiff, true)}), ` +
    `count=${s.count} (${signedInt(s.countDiff)})`;
  if (s.count) text += `, average=${formatSize(s.size / s.count, false)}`;
  return text;
}

export interface FormatOptions {
  /** Traceback.format(limit=…); undefined for None. */
  limit?: number;
  /** Traceback.format(most_recent_first=True) (3.7+). */
  mostRecentFirst?: boolean;
}

/** A source-line lookup: linecache.getline(filename, lineno) already stripped, or ''. */
export type GetLine = (filename: string, lineno: number) => string;

/** Traceback.format(): '  File "…", line N' and, when a source line is found, '    <line>'. */
export function formatTraceback(raw: readonly TraceFrame[], p: TracemallocParams, getline: GetLine, opts: FormatOptions = {}): string[] {
  const frames = apiOrder(raw, p);
  let slice: readonly TraceFrame[];
  const limit = opts.limit;
  if (p.formatLimit === 'tail') {
    slice = limit === undefined ? frames : limit > 0 ? frames.slice(-limit) : frames.slice(0, limit);
    if (opts.mostRecentFirst) slice = slice.slice().reverse();
  } else {
    // ≤3.6: `if limit is not None and limit < 0: return []`, then self[:limit].
    slice = limit === undefined ? frames : limit < 0 ? [] : frames.slice(0, limit);
  }
  const lines: string[] = [];
  for (const f of slice) {
    lines.push(`  File "${f.filename}", line ${f.lineno}`);
    const line = getline(f.filename, f.lineno);
    if (line) lines.push(`    ${line}`);
  }
  return lines;
}
