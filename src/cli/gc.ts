// `cpymem gc INPUT… [--json] [-o report.html]`: how often the cyclic GC ran, which generation, how
// long the pauses were, what it found, and the share of the run spent collecting — from
// gc.DEBUG_STATS logs, gc.callbacks JSON lines, or a capture bundle's gc.jsonl. On a capture bundle
// the GC model (docs/gc-model.md) runs too, and its collections per generation stand beside the
// recorded ones.
import { basename, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { summariseGc, type GcSummary } from '../analysis/gc-stats.js';
import { describeGc, gcReplayRun, gcSummaryJson, gcUnavailable, type GcRun as GcModelRun } from '../analysis/gc-vs-real.js';
import { bundleGcLog } from '../analysis/evidence.js';
import { versionOf } from '../analysis/model-vs-real.js';
import { warningCounts } from '../ingest/warnings.js';
import { isGcLogInput, openEventInput, readInputFile, sniffEventFormat } from '../ingest/index.js';
import type { GcLog } from '../model/types.js';
import { formatInt, formatPercent } from '../util/format.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { asSpelled, InputError } from '../util/errors.js';
import type { CliIo } from '../util/io.js';
import { VERSION } from '../version.js';
import { topTypes } from './inspect-gc.js';

export interface GcArgs {
  inputs: string[];
  json?: boolean;
  strict?: boolean;
  /** Write an HTML report of the logs (and the model of each bundle) to this file. */
  output?: string;
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
  /** Capture bundles: the GC model over the recorded run, or why it could not run. */
  model?: GcModelRun;
  modelUnavailable?: string;
}

/** The GC model over a capture bundle, or why it cannot run there. */
async function bundleModel(path: string): Promise<{ model?: GcModelRun; modelUnavailable?: string }> {
  const source = openEventInput(path, 'events-bundle');
  const version = versionOf(source);
  const why = gcUnavailable(source) ?? (version ? undefined : 'the bundle does not say which CPython recorded it');
  if (why) return { modelUnavailable: why };
  try {
    const model = await gcReplayRun(source, version!);
    return model ? { model } : { modelUnavailable: 'the bundle cannot drive the GC model' };
  } catch (err) {
    // Damaged events are bad input like any other (exit 2); a version without a GC model row
    // (params.ts) only leaves the model out.
    if (err instanceof InputError) throw err;
    return { modelUnavailable: (err as Error).message };
  }
}

/** A GC log file, or a capture bundle's gc.jsonl with the bundle's run time and the GC model's run. */
export async function readGcRun(name: string, cwd: string, strict?: boolean): Promise<GcRun> {
  const path = resolve(cwd, name);
  const manifest = sniffEventFormat(path) === 'events-bundle' ? openEventInput(path, 'events-bundle').manifest : undefined;
  let log: GcLog;
  let format: string;
  let durationSeconds: number | undefined;
  let model: Awaited<ReturnType<typeof bundleModel>> = {};
  if (manifest) {
    const gc = bundleGcLog(path, name, manifest.durationMs, strict);
    if (!gc) throw new InputError({ file: name }, 'expected gc.jsonl in the capture bundle (the GC callbacks it recorded), found none', 'E_NO_GC_LOG');
    log = gc.log;
    format = 'capture bundle gc.jsonl';
    durationSeconds = gc.durationSeconds;
    model = await bundleModel(path);
  } else {
    const input = readInputFile(path, { strict });
    if (!isGcLogInput(input)) throw new InputError({ file: name }, `expected a GC log (gc.DEBUG_STATS output, gc.callbacks JSON lines) or a capture bundle, found ${input.format}`, 'E_UNSUPPORTED_INPUT');
    log = input.log;
    format = input.format;
    durationSeconds = log.durationSeconds;
  }
  const summary = summariseGc(log.collections, { durationSeconds });
  const paused = summary.all.elapsed?.total;
  return { file: name, format, log, durationSeconds, summary, timeShare: paused !== undefined && durationSeconds ? paused / durationSeconds : null, ...model };
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
  else lines.push('  time in GC: unknown (the log has no run time; a capture bundle, a timed callbacks log or log-collector timestamps on the lines give it)');
  // DEBUG_COLLECTABLE / DEBUG_UNCOLLECTABLE name what was found: the types say what leaks in cycles.
  if (Object.keys(r.log.collectable).length) lines.push(`  collectable objects listed (DEBUG_COLLECTABLE): ${topTypes(r.log.collectable)}`);
  if (Object.keys(r.log.uncollectableObjects).length) lines.push(`  uncollectable objects listed (DEBUG_UNCOLLECTABLE): ${topTypes(r.log.uncollectableObjects)}`);
  if (r.log.uncollectableAtShutdown !== undefined) lines.push(`  at shutdown: ${formatInt(r.log.uncollectableAtShutdown)} uncollectable objects in gc.garbage`);
  const warnings = warningCounts(r.log.warnings);
  lines.push(`  warnings while reading: ${warnings ? `${warnings} (cpymem inspect lists them)` : 'none'}`);
  if (r.model) lines.push(...describeGc(r.model).map((l) => `  ${l}`));
  else if (r.modelUnavailable) lines.push(`  GC model: not run (${r.modelUnavailable})`);
  return lines;
}

/** The GC-only HTML page: the GC sections in the report's page shell (src/report/page.ts). */
async function gcReport(runs: readonly GcRun[]): Promise<string> {
  const { renderShell, partFromSection } = await import('../report/page.js');
  const { renderChart } = await import('../report/render.js');
  const { buildGcReportData } = await import('../report/gc-data.js');
  const { renderGcSections } = await import('../report/gc-section.js');
  const gc = buildGcReportData(
    runs.map((r) => ({ file: r.file, log: r.log, durationSeconds: r.durationSeconds })),
    runs.flatMap((r) => (r.model ? [{ file: r.file, run: r.model }] : [])),
  );
  const collections = runs.reduce((n, r) => n + r.summary.all.collections, 0);
  return renderShell({
    title: runs.length === 1 ? `cpymem report: cyclic GC of ${basename(runs[0]!.file)}` : 'cpymem report: cyclic GC',
    lede: `${formatInt(collections)} collections in ${runs.length} log${runs.length === 1 ? '' : 's'}: ${runs.map((r) => r.file).join(', ')}.`,
    parts: renderGcSections(gc, renderChart).map(partFromSection),
    footer:
      'Numbers are the collections the logs recorded (<code>gc.DEBUG_STATS</code> lines, <code>gc.callbacks</code> records); the model columns come from replaying a capture bundle through the GC model (docs/gc-model.md).',
    data: { gc },
    generator: `cpymem ${VERSION}`,
  });
}

export async function runGc(args: GcArgs, io: CliIo): Promise<number> {
  if (!args.inputs?.length) throw new InputError({}, 'expected at least one GC log or capture bundle, found none', 'E_NO_INPUT');
  const runs: GcRun[] = [];
  for (const name of args.inputs) {
    try {
      runs.push(await readGcRun(name, io.cwd, args.strict));
    } catch (err) {
      throw asSpelled(err, resolve(io.cwd, name), name);
    }
  }
  if (args.output) {
    const output = resolve(io.cwd, args.output);
    writeFileAtomic(output, await gcReport(runs));
    if (!args.json) io.stderr(`wrote ${output}\n`);
  }
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
      collectableByType: r.log.collectable,
      uncollectableByType: r.log.uncollectableObjects,
      uncollectableAtShutdown: r.log.uncollectableAtShutdown ?? null,
      model: r.model ? gcSummaryJson(r.model) : null,
      modelUnavailable: r.modelUnavailable ?? null,
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
      .option('json', { type: 'boolean', describe: 'print the summary as JSON' })
      .option('output', { alias: 'o', type: 'string', describe: 'write an HTML report (collections over time, pauses, collected, model vs recorded) to this file' }) as unknown as Argv<GcArgs>,
  handler: async (argv: ArgumentsCamelCase<GcArgs>) => {
    process.exitCode = await runGc(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
