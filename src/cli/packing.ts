// `cpymem packing SNAPSHOT [--malloc-stats DUMP]`: the fewest pymalloc pools and arenas that could
// hold a snapshot's live small requests (src/analysis/packing.ts), and, given a real
// _debugmallocstats() dump of the same process, how far the real arenas exceed that minimum.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { impliedPacking, packingGeometry, type Packing } from '../analysis/packing.js';
import { readInputFile } from '../ingest/index.js';
import { pymallocParams } from '../model/params.js';
import type { MallocStats, TracemallocSnapshot } from '../model/types.js';
import { formatBytes, formatInt, formatPercent } from '../report/format.js';
import { CpymemError, InputError } from '../util/errors.js';
import type { CliIo } from '../util/io.js';
import { loadSnapshot } from './tracemalloc-options.js';

export interface PackingArgs {
  snapshot: string;
  mallocStats?: string;
  dump?: number;
  json?: boolean;
  python?: string;
  strict?: boolean;
  quiet?: boolean;
}

function pickDump(file: string, n: number | undefined, args: PackingArgs): MallocStats {
  const input = readInputFile(file, { strict: args.strict, python: args.python });
  if (input.format !== 'malloc-stats') throw new InputError({ file }, `expected a malloc-stats dump (sys._debugmallocstats()), found ${input.format}`, 'E_NOT_MALLOC_STATS');
  const pym = input.dumps.filter((d) => d.allocator === 'pymalloc' && d.classes);
  if (n !== undefined) {
    const d = input.dumps[n - 1];
    if (!d || d.allocator !== 'pymalloc') throw new InputError({ file }, `--dump ${n}: expected a pymalloc dump there, found ${d ? `a ${d.allocator} one` : `only ${input.dumps.length} dumps`}`, 'E_NO_DUMP');
    return d;
  }
  const last = pym.at(-1);
  if (!last) throw new InputError({ file }, 'expected a dump with the pymalloc section (take it after tracemalloc.stop(): tracemalloc hides it), found none', 'E_NO_DUMP');
  return last;
}

export function formatPacking(p: Packing, file: string): string {
  const g = p.geometry;
  const lines = [
    `${file}: implied pymalloc packing of ${formatInt(p.blocks)} live traced requests of 1–512 bytes (${formatBytes(p.requestedBytes)} requested, ${formatBytes(p.blockBytes)} in blocks)`,
    `geometry: ${g.alignment}-byte classes, ${formatBytes(g.poolSize)} pools (${g.poolOverhead}-byte header), ${formatBytes(g.arenaSize)} arenas — ${g.source}`,
    '',
    ` class  size      blocks  per pool  min pools${p.real ? '  real pools  real blocks' : ''}`,
  ];
  for (const c of p.classes) {
    let row = `${String(c.index).padStart(6)}  ${String(c.size).padStart(4)}  ${formatInt(c.blocks).padStart(10)}  ${String(c.blocksPerPool).padStart(8)}  ${formatInt(c.minPools).padStart(9)}`;
    if (p.real) row += `  ${formatInt(c.realPools ?? 0).padStart(10)}  ${formatInt(c.realBlocks ?? 0).padStart(11)}`;
    lines.push(row);
  }
  lines.push('');
  lines.push(`minimum: ${formatInt(p.minPools)} pools → ${formatInt(p.minArenas)} arenas of ${p.poolsPerArena} pools (${formatInt(p.minArenasMisaligned)} if each arena loses a pool to alignment)`);
  if (p.real) {
    const r = p.real;
    lines.push(`real:    ${formatInt(r.pools)} pools in use, ${formatInt(r.arenas)} arenas; ${formatInt(r.excessArenas)} arenas (${r.arenaRatio === null ? '–' : `${r.arenaRatio.toFixed(2)}×`}) and ${formatInt(r.excessPools)} pools beyond the minimum`);
    lines.push(`         blocks in use ${formatInt(r.blocks)} vs ${formatInt(p.blocks)} traced (${formatPercent(r.blocks ? p.blocks / r.blocks : null)}; the rest were allocated before tracing started)`);
  }
  lines.push(`not packed: ${formatInt(p.zeroSizeTraces)} requests of 0 bytes and ${formatInt(p.largeTraces)} of more than 512 bytes (served by malloc)`);
  return `${lines.join('\n')}\n`;
}

export function runPacking(args: PackingArgs, io: CliIo): number {
  const loaded = loadSnapshot(args.snapshot, args);
  const dump = args.mallocStats ? pickDump(args.mallocStats, args.dump, args) : undefined;
  const { g, source } = packingGeometry(loaded.snapshot, args.python, dump);
  const p = impliedPacking(loaded.snapshot, g, source, dump);
  if (args.json) io.stdout(`${JSON.stringify({ schema: 1, command: 'packing', file: args.snapshot, mallocStats: args.mallocStats ?? null, ...p }, null, 2)}\n`);
  else io.stdout(formatPacking(p, args.snapshot));
  return 0;
}

const command: CommandModule<object, PackingArgs> = {
  command: 'packing <snapshot>',
  describe: "The fewest pymalloc pools and arenas a snapshot's live small blocks need, and how far a real dump's arenas exceed it",
  builder: (y: Argv) =>
    y
      .positional('snapshot', { type: 'string', demandOption: true, describe: 'a Snapshot.dump() file (.gz too)' })
      .option('malloc-stats', { type: 'string', describe: 'a sys._debugmallocstats() dump of the same process (taken after tracemalloc.stop())' })
      .option('dump', { type: 'number', describe: 'which dump of that file (1-based; default: its last pymalloc dump)' })
      .option('json', { type: 'boolean', describe: 'print JSON (schema 1, docs/tracemalloc.md)' }) as unknown as Argv<PackingArgs>,
  handler: (argv: ArgumentsCamelCase<PackingArgs>) => {
    process.exitCode = runPacking(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
