// Options shared by `cpymem top` and `cpymem diff`: grouping, filters (tracemalloc.Filter /
// DomainFilter), Traceback.format() options, where source lines come from, and which CPython's
// semantics to print with.
import type { Argv } from 'yargs';
import { GROUP_BY, type GroupBy, type TraceFilter } from '../analysis/tracemalloc-stats.js';
import { readInputFile } from '../ingest/index.js';
import { tracemallocParams, tracemallocRowsForFields, TRACEMALLOC_PARAMS, type TracemallocParams } from '../model/params.js';
import type { ReadWarning, TracemallocSnapshot } from '../model/types.js';
import { warningCounts } from '../ingest/warnings.js';
import { CpymemError, InputError } from '../util/errors.js';
import type { CliIo } from '../util/io.js';
import { LineCache } from '../util/linecache.js';

export interface TracemallocArgs {
  groupBy?: GroupBy;
  cumulative?: boolean;
  limit?: number;
  json?: boolean;
  include?: string[];
  exclude?: string[];
  allFrames?: boolean;
  domain?: number[];
  excludeDomain?: number[];
  tracebackLimit?: number;
  mostRecentFirst?: boolean;
  source?: boolean;
  sourceMap?: string[];
  python?: string;
  quiet?: boolean;
  strict?: boolean;
}

export const DEFAULT_LIMIT = 10;

export function tracemallocOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('group-by', { choices: GROUP_BY, default: 'lineno' as GroupBy, describe: "statistics' key_type: lineno, filename or traceback" })
    .option('cumulative', { type: 'boolean', describe: 'count a trace at every frame of its traceback (lineno and filename only)' })
    .option('limit', { type: 'number', default: DEFAULT_LIMIT, describe: 'print the first N statistics ([:N]); 0 prints all' })
    .option('json', { type: 'boolean', describe: 'print JSON (schema 1, docs/tracemalloc.md) instead of CPython\'s text' })
    .option('include', { type: 'string', array: true, describe: 'tracemalloc.Filter(True, PATTERN[, lineno]): keep traces whose most recent frame matches PATTERN (fnmatch) or PATTERN:LINENO; repeatable' })
    .option('exclude', { type: 'string', array: true, describe: 'tracemalloc.Filter(False, PATTERN[, lineno]): drop traces whose most recent frame matches; repeatable' })
    .option('all-frames', { type: 'boolean', describe: 'filters look at every frame of the traceback (Filter(all_frames=True))' })
    .option('domain', { type: 'number', array: true, describe: 'DomainFilter(True, N): keep traces of address-space domain N (0 = Python allocators); repeatable' })
    .option('exclude-domain', { type: 'number', array: true, describe: 'DomainFilter(False, N): drop traces of domain N; repeatable' })
    .option('traceback-limit', { type: 'number', describe: 'with --group-by traceback: Traceback.format(limit=N)' })
    .option('most-recent-first', { type: 'boolean', describe: 'with --group-by traceback: Traceback.format(most_recent_first=True) (3.7+)' })
    .option('source', { type: 'boolean', default: true, describe: 'read source lines for Traceback.format() from the files, as linecache does (--no-source: none)' })
    .option('source-map', { type: 'string', array: true, describe: 'FROM=TO: read the source of files under FROM from under TO (a snapshot from another machine); repeatable' }) as unknown as Argv<T>;
}

function usage(msg: string): never {
  throw new CpymemError(msg, 2, 'E_USAGE');
}

/** --include/--exclude/--domain/--exclude-domain → the filters, in CPython's terms. */
export function parseFilters(args: TracemallocArgs, p: TracemallocParams): TraceFilter[] {
  const filters: TraceFilter[] = [];
  const filename = (inclusive: boolean, spec: string): TraceFilter => {
    const m = /^(.*):(\d+)$/s.exec(spec);
    const [pattern, lineno] = m && m[1] ? [m[1], Number(m[2])] : [spec, null];
    if (!pattern) usage(`--${inclusive ? 'include' : 'exclude'}: expected PATTERN or PATTERN:LINENO, found ${JSON.stringify(spec)}`);
    return { kind: 'filename', inclusive, pattern, lineno, allFrames: Boolean(args.allFrames), domain: null };
  };
  for (const s of args.include ?? []) filters.push(filename(true, String(s)));
  for (const s of args.exclude ?? []) filters.push(filename(false, String(s)));
  const domains = [...(args.domain ?? []).map((d) => [true, d] as const), ...(args.excludeDomain ?? []).map((d) => [false, d] as const)];
  for (const [inclusive, d] of domains) {
    if (!Number.isInteger(d) || d < 0) usage(`--${inclusive ? '' : 'exclude-'}domain: expected a domain number ≥ 0, found ${d}`);
    if (!p.domains) usage(`--${inclusive ? '' : 'exclude-'}domain: CPython ${p.min}–${p.max} traces have no domain (DomainFilter appeared in 3.6)`);
    filters.push({ kind: 'domain', inclusive, domain: d });
  }
  return filters;
}

export function checkGrouping(args: TracemallocArgs, p: TracemallocParams): void {
  if (args.cumulative && args.groupBy === 'traceback') usage("--cumulative: CPython raises \"cumulative mode cannot by used with key type 'traceback'\"; use --group-by lineno or filename");
  if (args.limit !== undefined && (!Number.isInteger(args.limit) || args.limit < 0)) usage(`--limit: expected a whole number ≥ 0, found ${args.limit}`);
  if (args.tracebackLimit !== undefined && !Number.isInteger(args.tracebackLimit)) usage(`--traceback-limit: expected a whole number, found ${args.tracebackLimit}`);
  if (args.mostRecentFirst && p.formatLimit === 'head') usage(`--most-recent-first: Traceback.format() of CPython ${p.min}–${p.max} has no most_recent_first`);
}

export function makeLineCache(args: TracemallocArgs, io: CliIo): LineCache {
  const map = (args.sourceMap ?? []).map((spec) => {
    const i = String(spec).indexOf('=');
    if (i <= 0) usage(`--source-map: expected FROM=TO, found ${JSON.stringify(spec)}`);
    return { from: String(spec).slice(0, i), to: String(spec).slice(i + 1) };
  });
  return new LineCache({ disabled: args.source === false, cwd: io.cwd, map });
}

export interface LoadedSnapshot {
  file: string;
  snapshot: TracemallocSnapshot;
  warnings: ReadWarning[];
}

/** Read a Snapshot.dump() file; printed text is refused with a pointer to `inspect`. */
export function loadSnapshot(file: string, args: TracemallocArgs): LoadedSnapshot {
  const input = readInputFile(file, { strict: args.strict, python: args.python });
  if (input.format !== 'tracemalloc-snapshot') {
    throw new InputError(
      { file },
      `expected a tracemalloc snapshot (a Snapshot.dump() pickle), found ${input.format}${input.format === 'tracemalloc-text' ? ' (printed statistics are rounded; `cpymem inspect` reads them)' : ''}`,
      'E_NOT_SNAPSHOT',
    );
  }
  return { file, snapshot: input.snapshot, warnings: input.warnings };
}

function rangeText(rows: readonly TracemallocParams[]): string {
  const lo = rows.reduce((a, r) => (TRACEMALLOC_PARAMS.indexOf(r) < TRACEMALLOC_PARAMS.indexOf(a) ? r : a));
  const hi = rows.reduce((a, r) => (TRACEMALLOC_PARAMS.indexOf(r) > TRACEMALLOC_PARAMS.indexOf(a) ? r : a));
  return lo.min === hi.max ? lo.min : `${lo.min}–${hi.max}`;
}

/**
 * Which CPython's tracemalloc to print as: --python, else the newest version whose trace tuples
 * have the snapshot's shape. When the shape fits versions that print differently (3 fields: 3.6
 * vs 3.7–3.8 traceback order) and the output depends on it, say so on stderr.
 */
export function chooseParams(snapshots: readonly LoadedSnapshot[], args: TracemallocArgs, io: CliIo, orderMatters: boolean): TracemallocParams {
  const fields = snapshots.map((s) => s.snapshot.traceFields).find((f) => f !== null) ?? null;
  if (args.python) {
    let p: TracemallocParams;
    try {
      p = tracemallocParams(args.python);
    } catch (err) {
      usage(`--python: ${(err as Error).message}`);
    }
    if (fields !== null && fields !== p.traceFields && !args.quiet) {
      io.stderr(`cpymem: note: ${snapshots[0]!.file} has trace tuples of ${fields} fields, which CPython ${rangeText(tracemallocRowsForFields(fields))} writes, not ${args.python}\n`);
    }
    return p;
  }
  if (fields === null) return TRACEMALLOC_PARAMS[TRACEMALLOC_PARAMS.length - 1]!;
  const rows = tracemallocRowsForFields(fields);
  const chosen = rows[0]!;
  if (orderMatters && rows.some((r) => r.tracebackOldestFirst !== chosen.tracebackOldestFirst) && !args.quiet) {
    const other = rows.find((r) => r.tracebackOldestFirst !== chosen.tracebackOldestFirst)!;
    io.stderr(
      `cpymem: note: trace tuples of ${fields} fields come from CPython ${rangeText(rows)}; printing as ${chosen.min}–${chosen.max} does (pass --python ${other.min} for ${other.min}'s traceback order)\n`,
    );
  }
  return chosen;
}

/** Warnings met while reading, one line on stderr (they are in --json too). */
export function reportWarnings(loaded: readonly LoadedSnapshot[], args: TracemallocArgs, io: CliIo): void {
  if (args.quiet) return;
  for (const l of loaded) {
    const counts = warningCounts(l.warnings);
    if (counts) io.stderr(`cpymem: ${l.file}: ${counts}\n`);
  }
}
