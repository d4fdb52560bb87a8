// Everything a run left behind, read once: any mix of malloc-stats dumps, tracemalloc snapshots or
// printed statistics, GC logs and recorded event streams (bundles, events CSV), each sniffed by its
// content. `cpymem check` and `cpymem report` both start here, so they always read the same way.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseGcCallbacks } from '../ingest/gc-callbacks.js';
import { isGcLogInput, openEventInput, readInputFile, sniffEventFormat, type Input, type ReadOptions } from '../ingest/index.js';
import type { GcLog, ReadWarning } from '../model/types.js';
import { asSpelled, InputError } from '../util/errors.js';
import { replayRun, versionOf, type ReplayRun } from './model-vs-real.js';

export interface Evidence {
  /** Text and pickle inputs, in the order given. */
  inputs: Input[];
  /** Event streams replayed through the pymalloc model (compared with their real dumps). */
  replays: ReplayRun[];
  /** Every GC log: the text/JSON-lines inputs, and each bundle's gc.jsonl. */
  gcLogs: GcEvidence[];
}

export interface GcEvidence {
  file: string;
  log: GcLog;
  /** Run time the log covers: the bundle's duration, else the log's first-to-last time. */
  durationSeconds?: number;
}

export interface GatherOptions extends ReadOptions {
  cwd: string;
  onProgress?(done: number, total: number, file: string): void;
  onReplayProgress?(events: number): void;
}

/**
 * A capture bundle's gc.jsonl (the collections its recorder saw through gc.callbacks), with the
 * bundle's run time; undefined when the bundle has none.
 */
export function bundleGcLog(path: string, name: string, durationMs: number, strict?: boolean): GcEvidence | undefined {
  const gcFile = join(path, 'gc.jsonl');
  if (!existsSync(gcFile)) return undefined;
  const file = join(name, 'gc.jsonl');
  return { file, log: parseGcCallbacks(readFileSync(gcFile, 'utf8'), { file, strict }).log, durationSeconds: durationMs / 1000 };
}

/** Read every path: event streams are replayed, everything else is read in its sniffed format. */
export async function gatherEvidence(paths: readonly string[], opts: GatherOptions): Promise<Evidence> {
  if (paths.length === 0) throw new InputError({}, 'expected at least one input, found none', 'E_NO_INPUT');
  const evidence: Evidence = { inputs: [], replays: [], gcLogs: [] };
  for (const [i, name] of paths.entries()) {
    opts.onProgress?.(i, paths.length, name);
    const path = resolve(opts.cwd, name);
    try {
      await gatherOne(evidence, path, name, opts);
    } catch (err) {
      throw asSpelled(err, path, name);
    }
  }
  return evidence;
}

async function gatherOne(evidence: Evidence, path: string, name: string, opts: GatherOptions): Promise<void> {
  const eventFormat = sniffEventFormat(path);
  if (eventFormat) {
    const version = versionOf(openEventInput(path, eventFormat), opts.python);
    if (!version) throw new InputError({ file: name }, 'expected the CPython version of these events: an events CSV does not say it; pass --python (e.g. --python 3.11)', 'E_USAGE');
    const source = openEventInput(path, eventFormat);
    const run = await replayRun(source, version, { onProgress: opts.onReplayProgress });
    evidence.replays.push({ ...run, file: name });
    const gc = source.manifest ? bundleGcLog(path, name, source.manifest.durationMs, opts.strict) : undefined;
    if (gc) evidence.gcLogs.push(gc);
    return;
  }
  const input = readInputFile(path, opts);
  evidence.inputs.push({ ...input, file: name });
  if (isGcLogInput(input)) evidence.gcLogs.push({ file: name, log: input.log, durationSeconds: input.log.durationSeconds });
}

/** Every warning met while reading, with the file it came from. */
export function evidenceWarnings(e: Evidence): (ReadWarning & { file: string })[] {
  return e.inputs.flatMap((i) => i.warnings.map((w) => ({ ...w, file: i.file })));
}
