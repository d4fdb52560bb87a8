// One pass of a capture bundle's GC-relevant events (src/model/gc-events.ts) through the GC model
// (src/model/gc.ts): the follow world checks the model against the recording one collection at a
// time (src/model/gc-follow.ts); an optional what-if world runs the same program under other
// thresholds or another version's collector (src/model/gc-whatif.ts). Both emit GcCollection
// records, the type the GC-log ingesters produce, and so do the recorded collections read here
// from the bundle's gc.jsonl.

import type { GcFault } from './gc.js';
import { GcEventExtractor, type GcEventSink, type GcEventStats, type GcLogLine } from './gc-events.js';
import { GcFollowWorld, type GcAgreement } from './gc-follow.js';
import { GcWhatIfWorld, type GcWhatIf } from './gc-whatif.js';
import { median, type GcWorldResult } from './gc-world.js';
import type { GcParams } from './params.js';
import type { EventBatch, GcCollection } from './types.js';
import { FLAG_YOUNG, OP_NOTE } from './types.js';

export type { GcAgreement, GcComparison } from './gc-follow.js';
export type { GcWhatIf } from './gc-whatif.js';
export type { GcWorldResult } from './gc-world.js';
export type { GcLogLine } from './gc-events.js';

export interface GcReplayOptions {
  /** The recorded version's GC. */
  params: GcParams;
  /** The bundle's gc.jsonl lines. */
  lines: readonly GcLogLine[];
  /** The records carry the recorder's "collecting" flag (manifest recorder.gcState). */
  collectingFlag: boolean;
  whatIf?: GcWhatIf;
  /** A deliberately wrong model (negative controls), in both worlds. */
  fault?: GcFault;
  /** Keep at most this many mismatches (default 20). */
  maxMismatches?: number;
}

export interface GcReplayResult {
  /** The recording's collections with callbacks logged (gc.jsonl), classified automatic or explicit. */
  recorded: GcCollection[];
  agreement: GcAgreement;
  /** The follow world: the model's account of every collection, logged or not. */
  model: GcWorldResult;
  whatIf?: GcWorldResult & { forkedAt: number | null; ignoredSetThreshold: number; evalBreakerDelay: number };
  /** GC objects each logged full collection freed beyond its garbage (the free lists it emptied), and their median. */
  freeLists: { cleared: number[]; median: number };
  events: GcEventStats;
}

/** A bundle's gc.jsonl (docs/capture.md); a line cut by a killed process is skipped. */
export function parseGcJsonl(text: string): GcLogLine[] {
  const out: GcLogLine[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    try {
      const o = JSON.parse(t) as GcLogLine;
      if ((o.phase === 'start' || o.phase === 'stop') && typeof o.record === 'number') out.push(o);
    } catch {
      // the rest is still usable
    }
  }
  return out;
}

/** The logged collections of a bundle as GcCollection records: each "start" line with its "stop". */
export function recordedCollections(lines: readonly GcLogLine[], windowStarts?: ReadonlyMap<number, number>, triggers?: ReadonlyMap<number, 'automatic' | 'explicit'>): GcCollection[] {
  const out: GcCollection[] = [];
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i]!;
    if (s.phase !== 'start') continue;
    const e = lines[i + 1]?.phase === 'stop' ? lines[i + 1] : undefined;
    const c: GcCollection = { generation: s.generation, record: s.record };
    const trigger = triggers?.get(s.record);
    if (trigger) c.trigger = trigger;
    if (s.calls !== undefined) c.calls = s.calls;
    if (s.thread !== undefined) c.thread = s.thread;
    if (s.counts) c.countsAtStart = [...s.counts];
    if (s.objects && s.objects.every((n) => n !== null)) c.objects = s.objects as number[];
    if (s.permanent !== undefined && s.permanent !== null) c.permanent = s.permanent;
    if (s.t_ns !== undefined) c.timeSeconds = s.t_ns / 1e9;
    const start = windowStarts?.get(s.record);
    if (start !== undefined) c.startRecord = start;
    if (e) {
      c.collected = e.collected;
      c.uncollectable = e.uncollectable;
      c.unreachable = e.collected + e.uncollectable;
      if (e.t_ns !== undefined && s.t_ns !== undefined) c.elapsedSeconds = (e.t_ns - s.t_ns) / 1e9;
      if (e.long_lived_total !== undefined && e.long_lived_pending !== undefined) c.longLived = { total: e.long_lived_total, pending: e.long_lived_pending };
    } else c.truncated = true;
    out.push(c);
  }
  return out;
}

/** The replay: feed records in order (push / pushBatch), then end(). */
export class GcReplay {
  private readonly follow: GcFollowWorld;
  private readonly whatIf?: GcWhatIfWorld;
  private readonly extractor: GcEventExtractor;
  private readonly windowStarts = new Map<number, number>();
  private readonly triggers = new Map<number, 'automatic' | 'explicit'>();
  private n = 0;

  constructor(private readonly opts: GcReplayOptions) {
    const f = (this.follow = new GcFollowWorld(opts.params, opts.fault, opts.maxMismatches ?? 20));
    const w = (this.whatIf = opts.whatIf ? new GcWhatIfWorld(opts.whatIf, f, opts.fault) : undefined);
    if (opts.lines.some((l) => l.objects?.[2] === null)) f.estimateOldest();
    const sink: GcEventSink = {
      alloc: (record, ptr, next) => {
        const before = f.model.counts[0];
        const collecting = f.model.collecting;
        f.alloc(record, ptr, next);
        w?.alloc(record, before, collecting);
      },
      free: (record, ptr) => {
        f.free(ptr);
        w?.free(record);
      },
      release: (record, ptr) => {
        f.release(ptr);
        w?.release(record);
      },
      move: (from, to) => f.moved(from, to),
      windowStart: (win) => {
        w?.beforeWindow(win);
        f.windowStart(win);
        if (win.startLine) {
          this.windowStarts.set(win.startLine.record, win.start);
          if (f.lastWindow) this.triggers.set(win.startLine.record, f.lastWindow.trigger);
        }
        w?.windowStart(win);
      },
      windowEnd: (win, record, young) => {
        f.windowEnd(win, young);
        w?.windowEnd(record);
      },
      call: (record, call) => {
        f.call(call);
        w?.call(record, call);
      },
      record: w ? (record) => w.runDue(record) : undefined,
    };
    this.extractor = new GcEventExtractor(sink, opts.lines, opts.collectingFlag, opts.params.trigger === 'in-allocation');
  }

  /** One record (the fields of an EventBatch row; `young` undefined when the record has none). */
  push(code: number, flags: number, young: number | undefined, ptr: number, result: number, label?: string): void {
    this.extractor.push(this.n++, code, flags, young, ptr, result, label);
  }

  pushBatch(b: EventBatch): void {
    const { op, flags, young, ptr, result } = b;
    const x = this.extractor;
    for (let i = 0; i < b.length; i++) {
      const code = op[i]!;
      const f = flags[i]!;
      x.push(this.n++, code, f, f & FLAG_YOUNG ? young[i]! : undefined, ptr[i]!, result[i]!, code === OP_NOTE ? b.labels.get(i) : undefined);
    }
  }

  end(): GcReplayResult {
    const f = this.follow;
    f.finish();
    const w = this.whatIf;
    let whatIf: GcReplayResult['whatIf'];
    if (w) {
      // never forked: it made exactly the follow world's collections
      const r = w.forked ? w.result() : { ...f.result(), collections: f.collections.map((c) => ({ ...c })), thresholds: [...w.model.thresholds] };
      whatIf = { ...r, forkedAt: w.forkedAt, ignoredSetThreshold: w.ignoredSetThreshold, evalBreakerDelay: w.spec.evalBreakerDelay ?? 0 };
    }
    return {
      recorded: recordedCollections(this.opts.lines, this.windowStarts, this.triggers),
      agreement: f.agreement,
      model: f.result(),
      whatIf,
      freeLists: { cleared: f.freeListCleared, median: median(f.freeListCleared) },
      events: this.extractor.stats,
    };
  }
}
