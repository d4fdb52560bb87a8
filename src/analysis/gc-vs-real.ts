// The GC model against a recorded run, and what the same run would do under other thresholds or
// another version's collector: the shared pipeline of `cpymem replay` and `cpymem compare`.
//
// The model is driven by a capture bundle's young counter and collecting flag (src/model/gc-events.ts)
// and its gc.jsonl. It rides on a pass the caller makes anyway (teeGcEvents: the pymalloc replay's
// batches) or makes its own (gcReplayRun).

import { existsSync, readFileSync } from 'node:fs';
import type { EventSource } from '../ingest/events-bundle.js';
import type { GcFault, Thresholds } from '../model/gc.js';
import { GcReplay, parseGcJsonl, type GcLogLine, type GcReplayResult } from '../model/gc-replay.js';
import { gcParams, type GcParams } from '../model/params.js';
import type { EventBatch } from '../model/types.js';
import { formatInt, formatPercent } from '../report/format.js';

export interface GcWhatIfRequest {
  /** Another version's collector and default thresholds (replay --as-python). */
  python?: string;
  /** Thresholds in force from the script's start (replay --gc-threshold); the program's own set_threshold calls are then ignored. */
  thresholds?: Thresholds;
  /** 3.12+ collectors: records from becoming due to the collection where the recording shows no eval-breaker check (default 0). */
  evalBreakerDelay?: number;
}

export interface GcRunOptions {
  whatIf?: GcWhatIfRequest;
  fault?: GcFault;
}

export interface GcRun {
  version: string;
  params: GcParams;
  /** The what-if's collector, when one was asked for. */
  whatIfParams?: GcParams;
  whatIf?: GcWhatIfRequest;
  result: GcReplayResult;
}

/** Why a source cannot drive the GC model, or undefined when it can. */
export function gcUnavailable(source: EventSource): string | undefined {
  const m = source.manifest;
  if (!m) return 'an events CSV has no young counter (the GC model needs a capture bundle)';
  if (!m.recorder.youngCount) return 'the recorder could not read the young counter (no internal headers)';
  if (!m.recorder.gcState) return 'the bundle was recorded before the recorder logged the GC state (collecting flag, gc calls): capture it again';
  return undefined;
}

/** Parse "2000,10,10" (or "2000" / "2000,10"): missing values keep the version's defaults. */
export function parseThresholds(text: string, defaults: readonly number[]): Thresholds | undefined {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length < 1 || parts.length > 3 || !parts.every((p) => /^\d+$/.test(p))) return undefined;
  const t = [...defaults] as Thresholds;
  parts.forEach((p, i) => (t[i] = Number(p)));
  return t;
}

function readLines(source: EventSource): GcLogLine[] {
  const file = source.resolveLabel('gc.jsonl');
  return existsSync(file) ? parseGcJsonl(readFileSync(file, 'utf8')) : [];
}

/** A GcReplay for this source (undefined when it cannot drive the model), and what it needs to finish. */
export function createGcRun(source: EventSource, version: string, opts: GcRunOptions = {}, freeListRefill?: number): { replay: GcReplay; finish(): GcRun } | undefined {
  if (gcUnavailable(source)) return undefined;
  const m = source.manifest!;
  const params = gcParams(version);
  const lines = readLines(source);
  const w = opts.whatIf;
  const whatIfParams = w ? gcParams(w.python ?? version) : undefined;
  const replay = new GcReplay({
    params,
    lines,
    collectingFlag: Boolean(m.recorder.gcState),
    fault: opts.fault,
    whatIf: w
      ? {
          params: whatIfParams!,
          thresholds: w.thresholds,
          // "as if the script began with gc.set_threshold(…)": the interpreter's start-up keeps its defaults
          from: w.thresholds ? (m.hooks.attachRecord ?? 0) : 0,
          evalBreakerDelay: w.evalBreakerDelay,
          freeListRefill,
        }
      : undefined,
  });
  return { replay, finish: () => ({ version, params, whatIfParams, whatIf: w, result: replay.end() }) };
}

/** The source with every column batch shown to `onBatch` on its way (one pass, two models). */
export function teeGcEvents(source: EventSource, onBatch: (b: EventBatch) => void): EventSource {
  return {
    ...source,
    columns: async function* () {
      for await (const b of source.columns()) {
        onBatch(b);
        yield b;
      }
    },
  };
}

/**
 * The GC model over a source in a pass of its own. A what-if on a recording whose gc.jsonl does not
 * count the free lists (3.8, 3.9) first measures them on the recording's own full collections.
 */
export async function gcReplayRun(source: EventSource, version: string, opts: GcRunOptions = {}): Promise<GcRun | undefined> {
  let refill: number | undefined;
  if (opts.whatIf && !readLines(source).some((l) => (l.free_lists ?? -1) >= 0)) {
    const pre = await gcReplayRun(source, version, { fault: opts.fault });
    refill = pre?.result.freeLists.median;
  }
  const run = createGcRun(source, version, opts, refill);
  if (!run) return undefined;
  for await (const b of source.columns()) run.replay.pushBatch(b);
  return run.finish();
}

/** Per-generation counts of a run for output: recorded, the model, the what-if. */
export function gcSummaryJson(run: GcRun) {
  const r = run.result;
  const a = r.agreement;
  const { mismatches, ...agreement } = a;
  const world = (w: GcReplayResult['model']) => ({ perGeneration: w.perGeneration, automatic: w.automatic, explicit: w.explicit, thresholds: w.thresholds, estimated: w.estimated });
  return {
    python: run.version,
    collector: { trigger: run.params.trigger, thresholds: run.params.thresholds },
    recorded: { automatic: a.recorded.automatic, explicit: a.recorded.explicit, unlogged: a.unlogged },
    model: world(r.model),
    agreement: { ...agreement, mismatches },
    whatIf: r.whatIf
      ? {
          python: run.whatIf?.python ?? run.version,
          trigger: run.whatIfParams!.trigger,
          pinned: Boolean(run.whatIf?.thresholds),
          forkedAtRecord: r.whatIf.forkedAt,
          ignoredSetThreshold: r.whatIf.ignoredSetThreshold,
          evalBreakerDelay: r.whatIf.evalBreakerDelay,
          ...world(r.whatIf),
        }
      : null,
    events: r.events,
    freeLists: r.freeLists,
  };
}

const gens = (v: readonly number[]) => v.map((n) => formatInt(n).padStart(7)).join('');

/** Text lines: collections per generation side by side, and how well the model agreed. */
export function describeGc(run: GcRun, whatIfTitle?: string): string[] {
  const r = run.result;
  const a = r.agreement;
  const lines = [`GC (${run.params.trigger === 'in-allocation' ? 'collects inside the allocation' : 'collects at the eval breaker'}, thresholds ${r.model.thresholds.join('/')}):`];
  lines.push(`  collections per generation        ${['gen 0', 'gen 1', 'gen 2'].map((g) => g.padStart(7)).join('')}`);
  const sum = (x: readonly number[], y: readonly number[]) => x.map((v, i) => v + y[i]!);
  lines.push(`    recorded (callbacks logged)     ${gens(sum(a.recorded.automatic, a.recorded.explicit))}${a.unlogged ? `   + ${a.unlogged} without callbacks (start-up, shutdown)` : ''}`);
  lines.push(`    model                           ${gens(r.model.perGeneration)}`);
  if (r.whatIf) lines.push(`    ${(whatIfTitle ?? 'what if').padEnd(32)}${gens(r.whatIf.perGeneration)}   (${r.whatIf.thresholds.join('/')}${r.whatIf.estimated ? `; ${r.whatIf.estimated} with estimated survivors` : ''})`);
  const auto = a.recorded.automatic.reduce((x, y) => x + y, 0);
  if (a.claimsExactness) {
    lines.push(`  model vs recorded: ${formatInt(a.matched)} / ${formatInt(auto)} automatic collections predicted to the record, generation included; missed ${a.missed}, unpredicted ${a.unpredicted}, other generation ${a.generationMismatch}`);
  } else {
    const d = a.delays;
    lines.push(`  model vs recorded: ${formatInt(a.matched)} / ${formatInt(auto)} automatic collections with the predicted generation (other generation ${a.generationMismatch}, unpredicted ${a.unpredicted})`);
    if (d.count) lines.push(`  eval breaker: ${formatInt(d.zero)} / ${formatInt(d.count)} ran right after becoming due (${formatPercent(d.zero / d.count)}); delay in records p50 ${formatInt(d.p50)}, p95 ${formatInt(d.p95)}, max ${formatInt(d.max)}`);
  }
  lines.push(`  counts of generations 1–2 at each logged start and stop: ${formatInt(a.counts.equal)} / ${formatInt(a.counts.compared)} equal`);
  const m = a.mismatches[0];
  if (m) lines.push(`  first mismatch: ${m.kind} at record ${formatInt(m.record ?? m.predictedRecord ?? 0)} (recorded generation ${m.recordedGeneration ?? '–'}, model ${m.predictedGeneration ?? '–'})`);
  if (r.whatIf?.ignoredSetThreshold) lines.push(`  what if: the program's own gc.set_threshold() was ignored ${r.whatIf.ignoredSetThreshold} time(s)`);
  return lines;
}

/**
 * Ready the GC model to ride on a pass the caller makes over `source` (the pymalloc replay): feed
 * it `tee(source)` instead of `source`, then `finish()`. Undefined when the source cannot drive it.
 */
export async function prepareGcRun(source: EventSource, version: string, opts: GcRunOptions = {}): Promise<{ tee(s: EventSource): EventSource; finish(): GcRun } | undefined> {
  if (gcUnavailable(source)) return undefined;
  let refill: number | undefined;
  if (opts.whatIf && !readLines(source).some((l) => (l.free_lists ?? -1) >= 0)) {
    const pre = await gcReplayRun(source, version, { fault: opts.fault });
    refill = pre?.result.freeLists.median;
  }
  const run = createGcRun(source, version, opts, refill)!;
  return { tee: (s) => teeGcEvents(s, (b) => run.replay.pushBatch(b)), finish: run.finish };
}

/** Exit-code verdict of `compare`: exact where the model claims it (3.8–3.11), agreement otherwise unless strict. */
export function gcVerdict(run: GcRun, strict = false): { ok: boolean; line: string } {
  const a = run.result.agreement;
  if (a.claimsExactness) return { ok: a.exact, line: a.exact ? 'gc: every collection predicted exactly (position and generation)' : 'gc: DIFFERENT: the model does not predict every collection' };
  const agree = a.generationMismatch === 0 && a.unpredicted === 0 && a.counts.equal === a.counts.compared;
  return {
    ok: !strict || agree,
    line: agree ? 'gc: every automatic collection with the predicted generation (3.12+: positions at the eval breaker, measured not claimed)' : `gc: ${strict ? 'DIFFERENT' : 'differences (not failing without --gc-strict)'}: generation ${a.generationMismatch}, unpredicted ${a.unpredicted}`,
  };
}
