// Reader for JSON-lines logs written by a `gc.callbacks` entry (CPython calls it as cb(phase, info)
// with phase "start" then "stop" and info {generation, collected, uncollectable}; Modules/gcmodule.c
// ≤3.12, Python/gc.c 3.13+): a capture bundle's gc.jsonl (docs/capture.md) and the format documented
// for users' own loggers (docs/gc-logs.md), with its obvious variants: the time as `time`, `t` or
// `timestamp` (seconds) or `time_ns` / `t_ns` (nanoseconds), `counts` present or not, extra keys.
//
// Each "start" is paired with the next "stop" of the same thread; the pair is one GcCollection.
// One push-based core serves whole-text and streaming use.

import type { GcCollection, GcLog } from '../model/types.js';
import { InputError, showValue } from '../util/errors.js';
import { WarningSink } from './warnings.js';
import { feedLines } from './lines.js';

export interface GcCallbacksOptions {
  file?: string;
  strict?: boolean;
}

export interface GcCallbacksResult {
  log: GcLog;
  lines: number;
  /** Records read (start and stop). */
  records: number;
}

/** One record as read: the fields cpymem uses, checked. */
interface Rec {
  phase: 'start' | 'stop';
  generation: number;
  collected?: number;
  uncollectable?: number;
  /** Seconds, on the logger's own clock. */
  time?: number;
  counts?: number[];
  record?: number;
  calls?: number;
  thread?: number;
  line: number;
}

/** Time keys in seconds and in nanoseconds, in order of preference. */
const SECONDS_KEYS = ['time', 't', 'timestamp'] as const;
const NS_KEYS = ['time_ns', 't_ns'] as const;
const EXPECTED = 'a JSON object with "phase" ("start" or "stop") and "generation" (an integer)';

/** Cheap, never throws: is the first non-blank line a JSON object with phase "start" or "stop"? */
export function sniffGcCallbacks(text: string): boolean {
  try {
    const head = text.length > 65536 ? text.slice(0, 65536) : text;
    const first = head.split('\n').find((l) => l.trim() !== '')?.trim(); // trim() drops a BOM too
    if (!first || !first.startsWith('{')) return false;
    const v = JSON.parse(first) as unknown;
    return isObject(v) && (v.phase === 'start' || v.phase === 'stop');
  } catch {
    return false;
  }
}

export function parseGcCallbacks(text: string, opts: GcCallbacksOptions = {}): GcCallbacksResult {
  const reader = new GcCallbacksReader(opts);
  reader.push(text);
  return reader.end();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

export class GcCallbacksReader {
  private readonly sink: WarningSink;
  private readonly collections: GcCollection[] = [];
  /** The open "start" of each thread. */
  private readonly open = new Map<number, Rec>();
  private rest = '';
  private lineNo = 0;
  private records = 0;
  private firstTime: number | undefined;
  private lastTime: number | undefined;

  constructor(private readonly opts: GcCallbacksOptions = {}) {
    this.sink = new WarningSink(opts.file, opts.strict);
  }

  push(chunk: string): void {
    this.rest = feedLines(this.rest, chunk, (l) => this.line(l));
  }

  end(): GcCallbacksResult {
    if (this.rest.length > 0) {
      this.line(this.rest);
      this.rest = '';
    }
    for (const start of [...this.open.values()].sort((a, b) => a.line - b.line)) {
      this.sink.add('W_GC_TRUNCATED', 'warning', `"start" of a generation ${start.generation} collection has no "stop" (the log ends first); kept without its results`, { line: start.line });
      this.emit(start, undefined);
    }
    this.open.clear();
    if (this.records === 0) {
      throw new InputError({ file: this.opts.file, line: 1 }, `expected gc.callbacks JSON lines (${EXPECTED}), found none in ${this.lineNo} lines`, 'E_NOT_GC_CALLBACKS');
    }
    this.collections.sort((a, b) => a.line! - b.line!);
    const log: GcLog = {
      format: 'gc-callbacks',
      versionRange: '>=3.3',
      collections: this.collections,
      collectable: {},
      uncollectableObjects: {},
      warnings: this.sink.finish(),
    };
    if (this.firstTime !== undefined && this.lastTime !== undefined) log.durationSeconds = this.lastTime - this.firstTime;
    return { log, lines: this.lineNo, records: this.records };
  }

  private line(raw: string): void {
    this.lineNo++;
    const n = this.lineNo;
    const t = raw.trim();
    if (t === '') return;
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      this.sink.add('W_GC_BAD_JSON', 'warning', `expected ${EXPECTED}, found ${showValue(t)} (not JSON)`, { line: n });
      return;
    }
    const rec = this.check(v, t, n);
    if (!rec) return;
    this.records++;
    if (rec.time !== undefined) {
      this.firstTime ??= rec.time;
      this.lastTime = rec.time;
    }
    const thread = rec.thread ?? 0;
    const start = this.open.get(thread);
    if (rec.phase === 'start') {
      if (start) {
        this.sink.add('W_GC_UNMATCHED_START', 'warning', `"start" of a generation ${start.generation} collection is followed by another "start" at line ${n}, not by its "stop"; kept without its results`, { line: start.line });
        this.emit(start, undefined);
      }
      this.open.set(thread, rec);
      return;
    }
    if (start && start.generation === rec.generation) {
      this.open.delete(thread);
      this.emit(start, rec);
      return;
    }
    if (start) {
      this.open.delete(thread);
      this.sink.add('W_GC_UNMATCHED_START', 'warning', `"start" of a generation ${start.generation} collection is followed by the "stop" of generation ${rec.generation} at line ${n}; kept without its results`, { line: start.line });
      this.emit(start, undefined);
    }
    this.sink.add('W_GC_UNMATCHED_STOP', 'warning', `"stop" of a generation ${rec.generation} collection without its "start"; kept without its time`, { line: n });
    this.emit(undefined, rec);
  }

  /** The fields of one record, checked; undefined (after a warning) when it cannot be used. */
  private check(v: unknown, t: string, n: number): Rec | undefined {
    if (!isObject(v) || (v.phase !== 'start' && v.phase !== 'stop') || !isCount(v.generation)) {
      this.sink.add('W_GC_BAD_RECORD', 'warning', `expected ${EXPECTED}, found ${showValue(t)}`, { line: n });
      return undefined;
    }
    const rec: Rec = { phase: v.phase, generation: v.generation, line: n };
    const bad = (key: string, what: string) =>
      this.sink.add('W_GC_BAD_FIELD', 'warning', `"${key}": expected ${what}, found ${showValue(JSON.stringify(v[key]) ?? 'undefined')}; ignored`, { line: n });
    for (const key of ['collected', 'uncollectable', 'record', 'calls', 'thread'] as const) {
      const x = v[key];
      if (x === undefined || x === null) continue;
      if (isCount(x)) rec[key] = x;
      else bad(key, 'a non-negative integer');
    }
    for (const key of SECONDS_KEYS) {
      const x = v[key];
      if (x === undefined || x === null) continue;
      if (typeof x === 'number' && Number.isFinite(x)) rec.time = x;
      else bad(key, 'a number of seconds');
      break;
    }
    if (rec.time === undefined) {
      for (const key of NS_KEYS) {
        const x = v[key];
        if (x === undefined || x === null) continue;
        if (typeof x === 'number' && Number.isFinite(x)) rec.time = x / 1e9;
        else bad(key, 'a number of nanoseconds');
        break;
      }
    }
    const counts = v.counts;
    if (counts !== undefined && counts !== null) {
      if (Array.isArray(counts) && counts.every(isCount)) rec.counts = counts;
      else bad('counts', 'a list of integers (gc.get_count())');
    }
    return rec;
  }

  private emit(start: Rec | undefined, stop: Rec | undefined): void {
    const first = (start ?? stop)!;
    const c: GcCollection = { generation: first.generation, line: first.line };
    if (stop) {
      if (stop.collected !== undefined && stop.uncollectable !== undefined) c.unreachable = stop.collected + stop.uncollectable;
      if (stop.collected !== undefined) c.collected = stop.collected;
      if (stop.uncollectable !== undefined) c.uncollectable = stop.uncollectable;
    } else {
      c.truncated = true;
    }
    if (start?.time !== undefined && stop?.time !== undefined) c.elapsedSeconds = stop.time - start.time;
    if (first.time !== undefined && this.firstTime !== undefined) c.timeSeconds = first.time - this.firstTime;
    if (start?.counts) c.countsAtStart = start.counts;
    if (first.record !== undefined) c.record = first.record;
    if (first.calls !== undefined) c.calls = first.calls;
    if (first.thread !== undefined) c.thread = first.thread;
    this.collections.push(c);
  }
}
