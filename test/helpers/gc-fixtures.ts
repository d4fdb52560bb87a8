// The real GC-log fixtures (fixtures/gc/<version>-<platform>/) and what each process recorded about
// itself (ground-truth.json, written by fixtures/gen/gc_worker.py): gc.get_stats() before and after
// the logged window, a counting gc.callbacks entry, or on Python 2.7 a weakref sentinel.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GcCollection } from '../../src/model/types.js';
import { FIXTURES } from './fixtures.js';

export interface PerGeneration {
  collections: number[];
  collected: number[];
  uncollectable: number[];
}

export interface GcRunTruth {
  mode: 'debug-stats' | 'debug-collectable' | 'callbacks';
  bytes: number;
  lines: number;
  stats_diff: { collections: number; collected: number; uncollectable: number }[] | null;
  callbacks: (PerGeneration & { starts: number }) | null;
  sentinel?: { collections: number[] };
  explicit: [number, number][];
  freeze_count: number | null;
  garbage_len: number;
  garbage_types?: Record<string, number>;
  records?: number;
}

export interface GcTruth {
  python: { version: string; version_info: [number, number, number, string, number]; platform: string; pointer_size: number };
  threshold_default: number[];
  files: Record<string, GcRunTruth>;
  pyodide?: object;
}

export interface GcFixture {
  /** Folder name, e.g. 3.11.7-linux-x86_64. */
  name: string;
  dir: string;
  truth: GcTruth;
}

export const GC_FIXTURES = join(FIXTURES, 'gc');

export function gcFixtures(): GcFixture[] {
  return readdirSync(GC_FIXTURES)
    .filter((d) => statSync(join(GC_FIXTURES, d)).isDirectory())
    .sort()
    .map((name) => ({ name, dir: join(GC_FIXTURES, name), truth: JSON.parse(readFileSync(join(GC_FIXTURES, name, 'ground-truth.json'), 'utf8')) as GcTruth }));
}

/** 3.14.0–3.14.4: the incremental collector; gc.get_stats() does not count its marking-only increments. */
export function isIncremental(truth: GcTruth): boolean {
  const [major, minor, micro] = truth.python.version_info;
  return major === 3 && minor === 14 && micro <= 4;
}

/** Per-generation collections and result sums of parsed collections (counted here, plainly). */
export function perGeneration(collections: readonly GcCollection[]): PerGeneration {
  const out: PerGeneration = { collections: [0, 0, 0], collected: [0, 0, 0], uncollectable: [0, 0, 0] };
  for (const c of collections) {
    out.collections[c.generation]! += 1;
    out.collected[c.generation]! += c.collected ?? 0;
    out.uncollectable[c.generation]! += c.uncollectable ?? 0;
  }
  return out;
}

/**
 * Check parsed per-generation numbers against everything the process recorded: the counting
 * callback (3.3+), the gc.get_stats() difference (3.4+; on 3.14.0–3.14.4 generation 1 counts only
 * increments that collected, so the log may hold more) and the 2.7 sentinel. `minus` is taken off
 * the truth first (what a mangling removed).
 */
export function expectedTotals(t: GcRunTruth, truth: GcTruth, minus?: PerGeneration): { exact: Partial<PerGeneration>; statsCollections?: number[] } {
  const sub = (a: number[], key: keyof PerGeneration) => a.map((v, g) => v - (minus?.[key][g] ?? 0));
  const exact: Partial<PerGeneration> = {};
  let statsCollections: number[] | undefined;
  if (t.callbacks) {
    exact.collections = sub(t.callbacks.collections, 'collections');
    exact.collected = sub(t.callbacks.collected, 'collected');
    exact.uncollectable = sub(t.callbacks.uncollectable, 'uncollectable');
  } else if (t.sentinel) {
    exact.collections = sub(t.sentinel.collections, 'collections');
  }
  if (t.stats_diff) {
    const d = t.stats_diff;
    const collected = sub(d.map((g) => g.collected), 'collected');
    const uncollectable = sub(d.map((g) => g.uncollectable), 'uncollectable');
    if (exact.collected) {
      // the two CPython-recorded truths agree with each other
      if (JSON.stringify(exact.collected) !== JSON.stringify(collected) || JSON.stringify(exact.uncollectable) !== JSON.stringify(uncollectable)) {
        throw new Error(`ground truth disagrees with itself: callbacks ${JSON.stringify(exact)} vs get_stats ${JSON.stringify(d)}`);
      }
    }
    exact.collected = collected;
    exact.uncollectable = uncollectable;
    statsCollections = sub(d.map((g) => g.collections), 'collections');
    if (!isIncremental(truth)) exact.collections ??= statsCollections;
  }
  return { exact, statsCollections };
}
