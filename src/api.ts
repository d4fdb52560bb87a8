// The library's entry points for the everyday questions (docs/api.md): read a GC log, a tracemalloc
// snapshot or a capture bundle; replay a recorded run through the models; compare it with what
// CPython did. Each is a thin, typed door onto the pipeline the CLI runs (ingest → model → analysis),
// so a library caller and `cpymem` always get the same numbers. parseMallocStats and renderReport are
// re-exported from their own modules by src/index.ts.

import { existsSync, readFileSync } from 'node:fs';
import { bundleGcLog, type GcEvidence } from './analysis/evidence.js';
import { compareRun, type Comparison, type CompareOptions } from './analysis/model-verdict.js';
import { replayRun, versionOf, type ReplayRun, type ReplayRunOptions } from './analysis/model-vs-real.js';
import type { EventSource } from './ingest/events-bundle.js';
import { parseGcCallbacks, sniffGcCallbacks } from './ingest/gc-callbacks.js';
import { parseGcDebugStats, sniffGcDebugStats } from './ingest/gc-debug-stats.js';
import { openEventInput, readText, type EventFormat } from './ingest/index.js';
import { parseMallocStats } from './ingest/malloc-stats.js';
import { readTracemallocSnapshotFile, type TracemallocPickleOptions, type TracemallocPickleResult } from './ingest/tracemalloc-pickle.js';
import type { CaptureMarker, GcLog, MallocStats, ReadWarning, Recording } from './model/types.js';
import { CpymemError, InputError } from './util/errors.js';

export interface GcLogOptions {
  /** File name used in warnings and errors (defaults to the path, or "<text>"). */
  file?: string;
  /** Warnings about the input become errors. */
  strict?: boolean;
  /** Skip sniffing. */
  format?: 'gc-debug-stats' | 'gc-callbacks';
}

/**
 * A cyclic-GC log, `gc.set_debug(gc.DEBUG_STATS)` output or `gc.callbacks` JSON lines (docs/gc-logs.md),
 * told apart by content. A string is the log's text; `{ path }` reads a file (gzip or not).
 * Throws InputError when the text is neither.
 */
export function parseGcLog(input: string | { path: string }, opts: GcLogOptions = {}): GcLog {
  const path = typeof input === 'string' ? undefined : input.path;
  const text = path === undefined ? (input as string) : readText(path);
  const file = opts.file ?? path ?? '<text>';
  const format = opts.format ?? (sniffGcCallbacks(text) ? 'gc-callbacks' : sniffGcDebugStats(text) ? 'gc-debug-stats' : undefined);
  if (format === 'gc-callbacks') return parseGcCallbacks(text, { file, strict: opts.strict }).log;
  if (format === 'gc-debug-stats') return parseGcDebugStats(text, { file, strict: opts.strict }).log;
  throw new InputError({ file, line: 1 }, 'expected a GC log, found neither "gc: collecting generation N..." lines (gc.DEBUG_STATS) nor gc.callbacks JSON lines', 'E_UNKNOWN_FORMAT');
}

/**
 * A `tracemalloc.Snapshot.dump()` file of CPython 3.4–3.14, read as data (nothing in the pickle is
 * executed), streamed in 1 MiB chunks: its trace groups, sizes and counts, and the warnings met.
 */
export function readSnapshot(path: string, opts: TracemallocPickleOptions = {}): TracemallocPickleResult {
  return readTracemallocSnapshotFile(path, opts);
}

/** One marker of a capture bundle and the dump CPython printed there. */
export interface BundleDump {
  marker: CaptureMarker;
  /** The dump file on disk (stats/NNN.txt). */
  file: string;
  /** The parsed dump; undefined when CPython printed nothing there (allocator hooks replaced). */
  stats?: MallocStats;
  warnings: ReadWarning[];
}

/** A capture bundle (docs/capture.md), opened: the manifest, the events (streamed), the real dumps, the GC log. */
export interface Bundle {
  path: string;
  manifest: Recording;
  /** The recorded events; iterated on demand, never loaded whole. Pass the bundle to replay()/compare(). */
  events: EventSource;
  /** Every marker's real `_PyObject_DebugMallocStats` dump, in marker order. */
  dumps: BundleDump[];
  /** The collections `gc.callbacks` saw (gc.jsonl), with the run's time; undefined when the bundle has none. */
  gc?: GcEvidence;
}

/** Open a capture bundle written by `cpymem capture`. Throws InputError when it is not one. */
export function readBundle(path: string, opts: { strict?: boolean } = {}): Bundle {
  const events = openEventInput(path, 'events-bundle');
  const manifest = events.manifest!;
  const dumps = manifest.markers.flatMap((marker): BundleDump[] => {
    if (!marker.file) return [];
    const file = events.resolveLabel(marker.file);
    const text = marker.bytes > 0 && existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (text.trim() === '') return [{ marker, file, warnings: [] }];
    const r = parseMallocStats(text, { file, strict: opts.strict, python: manifest.python.version });
    return [{ marker, file, stats: r.dumps[0], warnings: r.warnings }];
  });
  return { path, manifest, events, dumps, gc: bundleGcLog(path, path, manifest.durationMs, opts.strict) };
}

/** A recorded run: a capture bundle or events CSV by path, an opened EventSource, or a readBundle() result. */
export type EventInput = string | EventSource | Bundle;

function openSource(input: EventInput, format?: EventFormat): EventSource {
  if (typeof input === 'string') return openEventInput(input, format);
  return 'events' in input ? input.events : input;
}

function versionFor(source: EventSource, python?: string): string {
  const version = versionOf(source, python);
  if (!version) throw new CpymemError(`${source.file}: the events do not say which CPython recorded them; pass { python: '3.11' }`, 2, 'E_USAGE');
  return version;
}

export interface ReplayOptions extends ReplayRunOptions {
  /** Skip sniffing a path. */
  inputFormat?: EventFormat;
}

/**
 * One pass of a recorded run through the pymalloc model (`cpymem replay`): the model's dump at every
 * marker (MallocStats, and its text in CPython's layout), each compared with the real dump when the
 * bundle has one, the arena timeline and the summary. `params` replays under another geometry.
 */
export async function replay(input: EventInput, opts: ReplayOptions = {}): Promise<ReplayRun> {
  const source = openSource(input, opts.inputFormat);
  return replayRun(source, versionFor(source, opts.python), opts);
}

export interface CompareApiOptions extends CompareOptions {
  /** The CPython version, when the input does not say it (an events CSV). */
  python?: string;
  inputFormat?: EventFormat;
}

/**
 * `cpymem compare` without the printing: replay through the pymalloc and GC models and hold every
 * address, dump, allocated-blocks count and collection against the recording. `ok` is its exit verdict.
 */
export async function compare(input: EventInput, opts: CompareApiOptions = {}): Promise<Comparison> {
  const source = openSource(input, opts.inputFormat);
  return compareRun(source, versionFor(source, opts.python), opts);
}
