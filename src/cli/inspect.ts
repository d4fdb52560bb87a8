// `cpymem inspect FILE`: what a file holds, as a short summary, as JSON, or re-printed as text.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { analyseDump } from '../analysis/fragmentation.js';
import { FORMATS, isGcLogInput, readInputFile, sniffEventFormat, type Format, type Input } from '../ingest/index.js';
import { inspectEvents } from './inspect-events.js';
import { warningCounts } from '../ingest/warnings.js';
import { formatMallocStats } from '../model/malloc-stats-text.js';
import type { MallocStats } from '../model/types.js';
import { formatBytes, formatInt, formatPercent } from '../report/format.js';
import type { CliIo } from '../util/io.js';
import { CpymemError } from '../util/errors.js';
import { summariseTracemalloc, tracemallocInspectJson } from './inspect-tracemalloc.js';
import { gcInspectJson, summariseGcLog } from './inspect-gc.js';

export interface InspectArgs {
  file: string;
  json?: boolean;
  format?: 'summary' | 'json' | 'text';
  inputFormat?: Format;
  strict?: boolean;
  python?: string;
}

export function runInspect(args: InspectArgs, io: CliIo): number | Promise<number> {
  // A capture bundle or an events CSV is streamed (it can be millions of records).
  if (!args.inputFormat && sniffEventFormat(args.file)) return inspectEvents(args, io);
  const input = readInputFile(args.file, { format: args.inputFormat, strict: args.strict, python: args.python });
  const mode = args.json ? 'json' : (args.format ?? 'summary');
  if (isGcLogInput(input)) {
    if (mode === 'text') throw new CpymemError(`--format text re-prints malloc-stats dumps; ${args.file} is ${input.format}`, 2, 'E_USAGE');
    io.stdout(mode === 'json' ? `${JSON.stringify(gcInspectJson(input), null, 2)}\n` : summariseGcLog(input));
    return 0;
  }
  if (input.format !== 'malloc-stats') {
    if (mode === 'text') throw new CpymemError(`--format text re-prints malloc-stats dumps; ${args.file} is ${input.format} (use cpymem top for CPython's statistics)`, 2, 'E_USAGE');
    io.stdout(mode === 'json' ? `${JSON.stringify(tracemallocInspectJson(input), null, 2)}\n` : summariseTracemalloc(input));
    return 0;
  }
  if (mode === 'json') io.stdout(`${JSON.stringify(inspectJson(input), null, 2)}\n`);
  else if (mode === 'text') io.stdout(input.dumps.map(formatMallocStats).join(''));
  else io.stdout(summarise(input));
  return 0;
}

/** The documented JSON of `inspect --json` (docs/inspect-json.md). */
export function inspectJson(input: Input): object {
  if (isGcLogInput(input)) return gcInspectJson(input);
  if (input.format !== 'malloc-stats') return tracemallocInspectJson(input);
  return { schema: 1, format: input.format, file: input.file, dumps: input.dumps, warnings: input.warnings };
}

function describePlatform(d: MallocStats): string {
  const p = d.platform;
  if (!p) return d.allocator === 'mimalloc' ? 'mimalloc' : 'no allocator section';
  const parts: string[] = [];
  const r = p.versionRange;
  if (r && r.min !== '?') parts.push(r.min === r.max ? `CPython ${r.min}` : `CPython ${r.min}–${r.max}`);
  if (p.pointerSize) parts.push(`${p.pointerSize * 8}-bit`);
  if (p.arenaSize) parts.push(`${formatBytes(p.arenaSize)} arenas`);
  if (p.poolSize) parts.push(`${formatBytes(p.poolSize)} pools`);
  return parts.join(', ');
}

function summarise(input: Input & { format: 'malloc-stats' }): string {
  const lines: string[] = [];
  lines.push(`${input.file}: ${input.dumps.length} dump${input.dumps.length === 1 ? '' : 's'} (${input.format})`);
  input.dumps.forEach((d, i) => {
    lines.push('');
    lines.push(`dump ${i + 1} at line ${d.line}${d.stampedAt !== undefined ? ` (stamped ${stampText(d.stampedAt)})` : ''}: ${describePlatform(d)}${d.truncated ? ' [truncated]' : ''}`);
    if (d.allocator === 'mimalloc') {
      const m = d.mimalloc ?? {};
      lines.push(`  mimalloc: ${formatInt(m.allocatedBlocks)} blocks, ${formatBytes(m.allocatedBytes)} allocated, ${formatBytes(m.bytesCommitted)} committed, ${formatBytes(m.bytesReserved)} reserved`);
    } else if (d.allocator === 'pymalloc') {
      const f = analyseDump(d);
      const a = d.arenas ?? {};
      lines.push(`  arenas: ${formatInt(a.current)} current, ${formatInt(a.highwater)} highwater, ${formatInt(a.allocatedTotal)} allocated in all, ${formatInt(a.reclaimed)} reclaimed`);
      const b = f.breakdown;
      if (b) {
        const used = b.parts.find((p) => p.part === 'usedBlocks')?.bytes ?? null;
        lines.push(`  reserved ${formatBytes(b.total)} in arenas, used ${formatBytes(used)} in blocks; fragmentation ${formatPercent(f.overallFragmentation)}`);
        lines.push(`  where the rest goes: ${b.parts.filter((p) => p.part !== 'usedBlocks').map((p) => `${p.label} ${formatBytes(p.bytes)}`).join(', ')}`);
      }
      if (f.ranking.length) {
        lines.push(`  size classes wasting the most: ${f.ranking.slice(0, 5).map((c) => `${c.size} B (${formatBytes(c.wastedBytes)}, ${formatPercent(c.fragmentation)} free)`).join(', ')}`);
      }
    } else {
      lines.push('  no allocator section (tracemalloc or another hook was on, PYTHONMALLOC=malloc, or a build without pymalloc)');
    }
    if (d.freeLists?.length) {
      const bytes = d.freeLists.reduce((s, f) => s + f.totalBytes, 0);
      const objs = d.freeLists.reduce((s, f) => s + f.count, 0);
      lines.push(`  free lists: ${formatInt(objs)} objects, ${formatBytes(bytes)}`);
    }
  });
  const counts = warningCounts(input.warnings);
  lines.push('');
  lines.push(counts ? `warnings: ${counts} (see --json)` : 'warnings: none');
  return `${lines.join('\n')}\n`;
}

const command: CommandModule<object, InspectArgs> = {
  command: 'inspect <file>',
  describe: 'Show what an input file holds (summary, --json, or --format text to re-print it as CPython did)',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'a malloc-stats dump, PYTHONMALLOCSTATS stream, tracemalloc snapshot (Snapshot.dump()), printed tracemalloc statistics, or a GC log (gc.DEBUG_STATS output, gc.callbacks JSON lines) (.gz too)' })
      .option('json', { type: 'boolean', describe: 'print the parsed data as JSON (schema 1)' })
      .option('format', { choices: ['summary', 'json', 'text'] as const, describe: 'output: summary (default), json, or text (CPython\'s own layout)' })
      .option('input-format', { choices: FORMATS, describe: 'skip sniffing: read the file as this format' }) as unknown as Argv<InspectArgs>,
  handler: async (argv: ArgumentsCamelCase<InspectArgs>) => {
    process.exitCode = await runInspect(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;

/** A collector's stamp as UTC ISO 8601; a syslog stamp has no year, so it is shown without one (MM-DDThh:mm:ss). */
function stampText(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return iso.startsWith('2000-') ? iso.slice(5) : iso; // line-time.ts dates a yearless stamp in 2000
}
