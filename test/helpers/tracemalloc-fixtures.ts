// The real tracemalloc fixtures (fixtures/tracemalloc/<version>-<platform>/) and the ground truth
// their own interpreter wrote beside them (truth.json, see fixtures/gen/tracemalloc_worker.py).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { FIXTURES, ROOT } from './fixtures.js';

export interface FilterSpec {
  type: 'filename' | 'domain';
  inclusive: boolean;
  pattern?: string;
  lineno?: number;
  all_frames?: boolean;
  domain?: number;
}

export interface OutputSpec {
  file: string;
  kind: 'statistics' | 'compare_to' | 'recipe' | 'display_top';
  snapshot: string;
  old?: string;
  group_by?: 'lineno' | 'filename' | 'traceback';
  cumulative?: boolean;
  limit: number | null;
  filters?: FilterSpec[];
  traceback_format?: { limit: number | null; most_recent_first?: boolean };
  source?: 'linecache' | 'none';
  header?: string;
  /** statistics: [lineno, size, count]; compare_to: [lineno, size, size_diff, count, count_diff]. */
  values: number[][];
}

export interface SnapshotTruth {
  file: string;
  traces: number;
  size: number;
  traceback_limit: number;
  trace_fields: number | null;
  domains: [number, number][];
  distinct_tracebacks: number;
  max_frames: number;
  max_total_nframe: number | null;
}

export interface TracemallocTruth {
  python: { version: string; version_info: [number, number, number, string, number]; pointer_size: number; machine: string; platform: string };
  set: 'full' | 'core';
  workdir: string;
  workload_lines: Record<string, number>;
  snapshots: Record<string, SnapshotTruth>;
  protocols: { protocol: number; file: string }[];
  outputs: OutputSpec[];
}

export interface TracemallocFixture {
  /** e.g. "3.11.7-linux-x86_64" */
  name: string;
  dir: string;
  truth: TracemallocTruth;
  /** "3.11" */
  minor: string;
}

export const GEN = join(ROOT, 'fixtures', 'gen');

export function tracemallocFixtures(): TracemallocFixture[] {
  const base = join(FIXTURES, 'tracemalloc');
  return readdirSync(base)
    .sort()
    .filter((d) => existsSync(join(base, d, 'truth.json')))
    .map((d) => {
      const truth = JSON.parse(readFileSync(join(base, d, 'truth.json'), 'utf8')) as TracemallocTruth;
      return { name: d, dir: join(base, d), truth, minor: `${truth.python.version_info[0]}.${truth.python.version_info[1]}` };
    });
}

/** The cpymem arguments that reproduce one printed output of the worker. */
export function cliArgs(f: TracemallocFixture, o: OutputSpec, snapshotFile: (key: string) => string): string[] {
  const args = o.kind === 'compare_to' ? ['diff', snapshotFile(o.old!), snapshotFile(o.snapshot)] : ['top', snapshotFile(o.snapshot)];
  args.push('--group-by', o.group_by ?? 'lineno', '--limit', String(o.limit ?? 0));
  if (o.cumulative) args.push('--cumulative');
  for (const flt of o.filters ?? []) {
    if (flt.type === 'domain') args.push(flt.inclusive ? '--domain' : '--exclude-domain', String(flt.domain));
    else args.push(flt.inclusive ? '--include' : '--exclude', flt.lineno !== undefined ? `${flt.pattern}:${flt.lineno}` : flt.pattern!);
    if (flt.all_frames) args.push('--all-frames');
  }
  const tf = o.traceback_format;
  if (tf && tf.limit !== null && tf.limit !== undefined) args.push('--traceback-limit', String(tf.limit));
  if (tf?.most_recent_first) args.push('--most-recent-first');
  if (o.source === 'none') args.push('--no-source');
  else args.push('--source-map', `${f.truth.workdir}=${GEN}`);
  // Trace tuples of 3 fields are written by 3.6 and by 3.7–3.8, which order tracebacks differently.
  if (f.minor === '3.6') args.push('--python', '3.6');
  args.push('--quiet');
  return args;
}

/**
 * Files whose source lines CPython printed but which are not on this machine (the stdlib of an
 * interpreter that is not installed here): a --source comparison is only meaningful without them.
 */
export function missingSources(f: TracemallocFixture, expected: string): string[] {
  const missing = new Set<string>();
  const lines = expected.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^ {2}File "(.*)", line \d+$/.exec(lines[i]!);
    if (!m || !lines[i + 1]?.startsWith('    ')) continue;
    // Relative names (3.6–3.8 record the script as it was run) are read from the working
    // directory, which was the workload's: tests run cpymem with GEN as theirs.
    const name = m[1]!.startsWith(f.truth.workdir) ? join(GEN, m[1]!.slice(f.truth.workdir.length)) : isAbsolute(m[1]!) ? m[1]! : join(GEN, m[1]!);
    if (!existsSync(name)) missing.add(m[1]!);
  }
  return [...missing];
}
