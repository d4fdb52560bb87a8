// `cpymem top SNAPSHOT`: what `for stat in snapshot.statistics(group_by, cumulative)[:N]:
// print(stat)` prints in CPython, byte for byte (with --group-by traceback, each statistic's
// Traceback.format() lines follow it), after the filters of Snapshot.filter_traces().
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { filterGroups, statistics } from '../analysis/tracemalloc-stats.js';
import { formatStatistic, formatTraceback, tracebackFrame } from '../model/tracemalloc-text.js';
import type { TracemallocParams } from '../model/params.js';
import type { Statistic, TraceFrame } from '../model/types.js';
import type { CliIo } from '../util/io.js';
import { pyStrip, type LineCache } from '../util/linecache.js';
import { checkGrouping, chooseParams, loadSnapshot, makeLineCache, parseFilters, reportWarnings, tracemallocOptions, type TracemallocArgs } from './tracemalloc-options.js';

export interface TopArgs extends TracemallocArgs {
  snapshot: string;
}

/** The JSON of one frame list: most recent first, as _tracemalloc records them. */
export function framesJson(frames: readonly TraceFrame[]): { filename: string; lineno: number }[] {
  return frames.map((f) => ({ filename: f.filename, lineno: f.lineno }));
}

/** Traceback.format() lines of a statistic, for --group-by traceback. */
export function tracebackLines(frames: readonly TraceFrame[], p: TracemallocParams, args: TracemallocArgs, cache: LineCache): string[] {
  return formatTraceback(frames, p, (f, l) => pyStrip(cache.getline(f, l)), { limit: args.tracebackLimit, mostRecentFirst: args.mostRecentFirst });
}

export function runTop(args: TopArgs, io: CliIo): number {
  const loaded = loadSnapshot(args.snapshot, args);
  const groupBy = args.groupBy ?? 'lineno';
  const p = chooseParams([loaded], args, io, groupBy === 'traceback');
  checkGrouping({ ...args, groupBy }, p);
  const filters = parseFilters(args, p);
  reportWarnings([loaded], args, io);
  const groups = filterGroups(loaded.snapshot.groups, filters, p);
  let stats: Statistic[] = statistics(groups, groupBy, Boolean(args.cumulative), p);
  const total = stats.length;
  const limit = args.limit ?? 10;
  if (limit > 0) stats = stats.slice(0, limit);
  const cache = makeLineCache(args, io);
  const withFrames = groupBy === 'traceback';

  if (args.json) {
    const traces = groups.reduce((a, g) => a + g.count, 0);
    const size = groups.reduce((a, g) => a + g.size, 0);
    const out = {
      schema: 1,
      command: 'top',
      file: args.snapshot,
      python: `${p.min}–${p.max}`,
      groupBy,
      cumulative: Boolean(args.cumulative),
      limit,
      filters,
      traces,
      size,
      statistics: total,
      top: stats.map((s) => ({
        text: formatStatistic(s, p),
        frame: framesJson([tracebackFrame(s.traceback, p)])[0],
        frames: framesJson(s.traceback),
        size: s.size,
        count: s.count,
        average: s.count ? s.size / s.count : null,
        ...(withFrames ? { format: tracebackLines(s.traceback, p, args, cache) } : {}),
      })),
      warnings: loaded.warnings,
    };
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  const lines: string[] = [];
  for (const s of stats) {
    lines.push(formatStatistic(s, p));
    if (withFrames) lines.push(...tracebackLines(s.traceback, p, args, cache));
  }
  io.stdout(lines.length ? `${lines.join('\n')}\n` : '');
  return 0;
}

const command: CommandModule<object, TopArgs> = {
  command: 'top <snapshot>',
  describe: "Print a tracemalloc snapshot's statistics exactly as CPython's print(stat) does (Snapshot.statistics)",
  builder: (y: Argv) =>
    tracemallocOptions(y.positional('snapshot', { type: 'string', demandOption: true, describe: 'a Snapshot.dump() file (.gz too)' })) as unknown as Argv<TopArgs>,
  handler: (argv: ArgumentsCamelCase<TopArgs>) => {
    process.exitCode = runTop(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
