// `cpymem diff OLD NEW`: what `for stat in new.compare_to(old, group_by, cumulative)[:N]:
// print(stat)` prints in CPython, byte for byte, after the same filters on both snapshots.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { compareTo, filterGroups } from '../analysis/tracemalloc-stats.js';
import { formatStatisticDiff, tracebackFrame } from '../model/tracemalloc-text.js';
import type { StatisticDiff } from '../model/types.js';
import type { CliIo } from '../util/io.js';
import { checkGrouping, chooseParams, loadSnapshot, makeLineCache, parseFilters, reportWarnings, tracemallocOptions, type TracemallocArgs } from './tracemalloc-options.js';
import { framesJson, tracebackLines } from './top.js';

export interface DiffArgs extends TracemallocArgs {
  old: string;
  new: string;
}

export function runDiff(args: DiffArgs, io: CliIo): number {
  const before = loadSnapshot(args.old, args);
  const now = loadSnapshot(args.new, args);
  const groupBy = args.groupBy ?? 'lineno';
  // The new snapshot's shape decides (compare_to is a method of the new one).
  const p = chooseParams([now, before], args, io, groupBy === 'traceback');
  checkGrouping({ ...args, groupBy }, p);
  const filters = parseFilters(args, p);
  reportWarnings([before, now], args, io);
  const oldGroups = filterGroups(before.snapshot.groups, filters, p);
  const newGroups = filterGroups(now.snapshot.groups, filters, p);
  let diffs: StatisticDiff[] = compareTo(newGroups, oldGroups, groupBy, Boolean(args.cumulative), p);
  const total = diffs.length;
  const limit = args.limit ?? 10;
  if (limit > 0) diffs = diffs.slice(0, limit);
  const cache = makeLineCache(args, io);
  const withFrames = groupBy === 'traceback';

  if (args.json) {
    const sum = (gs: typeof oldGroups, k: 'size' | 'count') => gs.reduce((a, g) => a + g[k], 0);
    const out = {
      schema: 1,
      command: 'diff',
      old: args.old,
      new: args.new,
      python: `${p.min}–${p.max}`,
      groupBy,
      cumulative: Boolean(args.cumulative),
      limit,
      filters,
      traces: { old: sum(oldGroups, 'count'), new: sum(newGroups, 'count') },
      size: { old: sum(oldGroups, 'size'), new: sum(newGroups, 'size') },
      statistics: total,
      top: diffs.map((s) => ({
        text: formatStatisticDiff(s, p),
        frame: framesJson([tracebackFrame(s.traceback, p)])[0],
        frames: framesJson(s.traceback),
        size: s.size,
        sizeDiff: s.sizeDiff,
        count: s.count,
        countDiff: s.countDiff,
        average: s.count ? s.size / s.count : null,
        ...(withFrames ? { format: tracebackLines(s.traceback, p, args, cache) } : {}),
      })),
      warnings: { old: before.warnings, new: now.warnings },
    };
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  const lines: string[] = [];
  for (const s of diffs) {
    lines.push(formatStatisticDiff(s, p));
    if (withFrames) lines.push(...tracebackLines(s.traceback, p, args, cache));
  }
  io.stdout(lines.length ? `${lines.join('\n')}\n` : '');
  return 0;
}

const command: CommandModule<object, DiffArgs> = {
  command: 'diff <old> <new>',
  describe: "Print what changed between two tracemalloc snapshots exactly as CPython's print(stat) does (new.compare_to(old))",
  builder: (y: Argv) =>
    tracemallocOptions(
      y
        .positional('old', { type: 'string', demandOption: true, describe: 'the earlier Snapshot.dump() file' })
        .positional('new', { type: 'string', demandOption: true, describe: 'the later Snapshot.dump() file' }),
    ) as unknown as Argv<DiffArgs>,
  handler: (argv: ArgumentsCamelCase<DiffArgs>) => {
    process.exitCode = runDiff(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
