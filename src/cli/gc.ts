// `cpymem gc INPUT… [--json]`: how often the cyclic GC ran, which generation, how long the pauses
// were, what it found, and the share of the run spent collecting — from gc.DEBUG_STATS logs,
// gc.callbacks JSON lines, or a capture bundle's gc.jsonl.
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { summariseGc, type GcSummary } from '../analysis/gc-stats.js';
import { bundleGcLog } from '../analysis/evidence.js';
import { isGcLogInput, openEventInput, readInputFile, sniffEventFormat } from '../ingest/index.js';
import type { GcLog } from '../model/types.js';
import { formatInt, formatPercent } from '../util/format.js';
import { InputError } from '../util/errors.js';
import type { CliIo } from '../util/io.js';

export interface GcArgs {
  inputs: string[];
  json?: boolean;
  strict?: boolean;
}

interface GcRun {
  file: string;
  format: string;
  log: GcLog;
  /** Run time the log covers: a bundle's duration, else first-to-last time of the log. */
  durationSeconds?: number;
  summary: GcSummary;
  /** Σ pauses ÷ run time, when both are known. */
  timeShare: number | null;
}

/** A GC log file, or a capture bundle's gc.jsonl with the bundle's run time. */
export function readGcRun(name: string, cwd: string, strict?: boolean): GcRun {
  const path = resolve(cwd, name);
  const manifest = sniffEventFormat(path) === 'events-bundle' ? openEventInput(path, 'events-bundle').manifest : undefined;
  let log: GcLog;
  let format: string;
  let durationSeconds: number | undefined;
  if (manifest) {
    const gc = bundleGcLog(path, name, manifest.durationMs, strict);
    if (!gc) throw new InputError({ file: name }, 'expected gc.jsonl in the capture bundle (the GC callbacks it recorded), found none', 'E_NO_GC_LOG');
    log = gc.log;
    format = 'capture bundle gc.jsonl';
    durationSeconds = gc.durationSeconds;
  } else {
    const input = readInputFile(path, { strict });
    if (!isGcLogInput(input)) throw new InputError({ file: name }, `expected a GC log (gc.DEBUG_STATS output, gc.callbacks JSON lines) or a capture bundle, found ${input.format}`, 'E_UNSUPPORTED_INPUT');
    log = input.log;
    format = input.format;
    durationSeconds = log.durationSeconds;
  }
  const summary = summariseGc(log.collections, { durationSeconds });
  const paused = summary.all.elapsed?.total;
  return { file: name, format, log, durationSeconds, summary, timeShare: paused !== undefined && durationSeconds ? paused / durationSeconds : null };
}

function ms(s: number): string {
  return `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
}

function describe(r: GcRun): string[] {
  const s = r.summary;
  const lines = [`${r.file}: ${r.format}${r.log.versionRange ? ` (CPython ${r.log.versionRange})` : ''}, ${formatInt(s.all.collections)} collections${r.durationSeconds ? ` over ${r.durationSeconds.toFixed(2)} s` : ''}`];
  const head = ['generation', 'collections', 'per minute', 'collected', 'uncollectable', 'pause p50', 'p95', 'max', 'total'];
  const rows = [...s.generations, s.all].map((g) => [
    g.generation < 0 ? 'all' : String(g.generation),
    formatInt(g.collections),
    g.collectionsPerMinute === undefined ? '–' : g.collectionsPerMinute.toFixed(1),
    formatInt(g.collected),
    formatInt(g.uncollectable),
    g.elapsed ? ms(g.elapsed.p50) : '–',
    g.elapsed ? ms(g.elapsed.p95) : '–',
    g.elapsed ? ms(g.elapsed.max) : '–',
    g.elapsed ? ms(g.elapsed.total) : '–',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  lines.push(fmt(head), ...rows.map(fmt));
  if (r.timeShare !== null) lines.push(`  time in GC: ${formatPercent(r.timeShare, 2)} of the run`);
  else lines.push('  time in GC: unknown (the log has no run time; a capture bundle or a timed callbacks log gives it)');
  return lines;
}

export async function runGc(args: GcArgs, io: CliIo): Promise<number> {
  if (!args.inputs?.length) throw new InputError({}, 'expected at least one GC log or capture bundle, found none', 'E_NO_INPUT');
  const runs = args.inputs.map((name) => readGcRun(name, io.cwd, args.strict));
  if (args.json) {
    const json = runs.map((r) => ({
      file: r.file,
      format: r.format,
      versionRange: r.log.versionRange ?? null,
      durationSeconds: r.durationSeconds ?? null,
      timeInGcShare: r.timeShare,
      generations: r.summary.generations,
      all: r.summary.all,
      warnings: r.log.warnings.length,
    }));
    io.stdout(`${JSON.stringify({ schema: 1, logs: json }, null, 2)}\n`);
  } else {
    io.stdout(`${runs.flatMap((r) => [...describe(r), '']).join('\n')}`);
  }
  return 0;
}

const command: CommandModule<object, GcArgs> = {
  command: 'gc <inputs..>',
  describe: 'Cyclic GC: collections per generation, frequency, pauses (p50/p95/max), objects found, time in GC',
  builder: (y: Argv) =>
    y
      .positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'gc.DEBUG_STATS logs, gc.callbacks JSON lines, capture bundles' })
      .option('json', { type: 'boolean', describe: 'print the summary as JSON' }) as unknown as Argv<GcArgs>,
  handler: async (argv: ArgumentsCamelCase<GcArgs>) => {
    process.exitCode = await runGc(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
