// Per-generation totals of a series of collections (an ingested GC log or the model's): how many,
// what they found, how long they took. The same numbers gc.get_stats() keeps (collections,
// collected, uncollectable per generation), plus the pause times that only a log has.

import type { GcCollection } from '../model/types.js';

export interface GcElapsedSummary {
  /** Sum of the collections' elapsed times, seconds. */
  total: number;
  /** Nearest-rank percentiles and the maximum of the individual times, seconds. */
  p50: number;
  p95: number;
  max: number;
  /** How many collections had a time. */
  measured: number;
}

export interface GcGenerationSummary {
  /** 0, 1, 2 (…); -1 for the all-generations row. */
  generation: number;
  collections: number;
  /** Collections whose results the log holds (the others are truncated: start without end). */
  completed: number;
  /** Sums over the completed collections. */
  collected: number;
  uncollectable: number;
  unreachable: number;
  /** Null when no collection had a time. */
  elapsed: GcElapsedSummary | null;
  /** collections / (durationSeconds / 60), when the duration is known and positive. */
  collectionsPerMinute?: number;
}

export interface GcSummary {
  /** One row per generation 0..2 (and any higher one seen), in order. */
  generations: GcGenerationSummary[];
  /** All generations together. */
  all: GcGenerationSummary;
  durationSeconds?: number;
}

/** Seconds summed from 4-decimal values: round away the binary noise (0.1 + 0.2). */
function roundSeconds(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/** Nearest-rank percentile of ascending values (p in 0..100). */
function percentile(sorted: readonly number[], p: number): number {
  const i = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.min(i, sorted.length - 1)]!;
}

function summariseGroup(generation: number, cs: readonly GcCollection[], durationSeconds: number | undefined): GcGenerationSummary {
  let completed = 0;
  let collected = 0;
  let uncollectable = 0;
  let unreachable = 0;
  const times: number[] = [];
  for (const c of cs) {
    if (!c.truncated) completed++;
    collected += c.collected ?? 0;
    uncollectable += c.uncollectable ?? 0;
    unreachable += c.unreachable ?? 0;
    if (c.elapsedSeconds !== undefined) times.push(c.elapsedSeconds);
  }
  times.sort((a, b) => a - b);
  const row: GcGenerationSummary = {
    generation,
    collections: cs.length,
    completed,
    collected,
    uncollectable,
    unreachable,
    elapsed: times.length
      ? {
          total: roundSeconds(times.reduce((a, b) => a + b, 0)),
          p50: percentile(times, 50),
          p95: percentile(times, 95),
          max: times[times.length - 1]!,
          measured: times.length,
        }
      : null,
  };
  if (durationSeconds !== undefined && durationSeconds > 0) row.collectionsPerMinute = cs.length / (durationSeconds / 60);
  return row;
}

/** Per-generation counts, results and elapsed-time statistics of `collections`. Pure. */
export function summariseGc(collections: readonly GcCollection[], opts: { durationSeconds?: number } = {}): GcSummary {
  const byGen = new Map<number, GcCollection[]>();
  for (const g of [0, 1, 2]) byGen.set(g, []);
  for (const c of collections) {
    let list = byGen.get(c.generation);
    if (!list) byGen.set(c.generation, (list = []));
    list.push(c);
  }
  const generations = [...byGen.keys()].sort((a, b) => a - b).map((g) => summariseGroup(g, byGen.get(g)!, opts.durationSeconds));
  const summary: GcSummary = { generations, all: summariseGroup(-1, collections, opts.durationSeconds) };
  if (opts.durationSeconds !== undefined) summary.durationSeconds = opts.durationSeconds;
  return summary;
}
