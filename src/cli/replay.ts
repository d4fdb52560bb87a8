// `cpymem replay EVENTS`: one pass of a recorded run through the pymalloc model. Writes the model's
// `_PyObject_DebugMallocStats` text at every marker (--dump-dir), a summary (text or --json), and
// answers "what if": the same requests under another geometry (--arena-size, --pool-size,
// --as-python), side by side with the real geometry. On capture bundles the cyclic GC model rides
// on the same pass (docs/gc-model.md): the recorded collections, the model's, and what other
// thresholds (--gc-threshold) or another version's collector (--as-python) would have done.
import { basename, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { bundleGcLog } from '../analysis/evidence.js';
import { analyseDump } from '../analysis/fragmentation.js';
import { describeGc, gcSummaryJson, gcUnavailable, parseThresholds, prepareGcRun, type GcRun, type GcRunOptions } from '../analysis/gc-vs-real.js';
import { replayRun, versionOf, type MarkerResult, type ReplayRun } from '../analysis/model-vs-real.js';
import { EVENT_FORMATS, openEventInput, type EventFormat } from '../ingest/index.js';
import { gcParams, pymallocParams, type PymallocParams } from '../model/params.js';
import { formatBytes, formatInt, formatPercent } from '../report/format.js';
import type { GcModelInput, GcReportInput } from '../report/gc-data.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { CpymemError } from '../util/errors.js';
import type { CliIo } from '../util/io.js';
import { Progress } from '../util/progress.js';
import { parseSize } from '../util/size.js';
import { VERSION } from '../version.js';

export interface ReplayArgs {
  events: string;
  python?: string;
  dumpDir?: string;
  json?: boolean;
  arenaSize?: string;
  poolSize?: string;
  asPython?: string;
  inputFormat?: EventFormat;
  quiet?: boolean;
  output?: string;
  /** What if: GC thresholds "T0[,T1[,T2]]" from the script's start. */
  gcThreshold?: string;
}

/** The GC what-if of the arguments (--gc-threshold, --as-python), checked. */
export function gcWhatIf(version: string, args: Pick<ReplayArgs, 'gcThreshold' | 'asPython'>): GcRunOptions {
  if (!args.gcThreshold && !args.asPython) return {};
  let target;
  try {
    target = gcParams(args.asPython ?? version);
  } catch (err) {
    throw new CpymemError(`--as-python: ${(err as Error).message}`, 2, 'E_USAGE');
  }
  let thresholds;
  if (args.gcThreshold !== undefined) {
    thresholds = parseThresholds(args.gcThreshold, target.thresholds);
    if (!thresholds) throw new CpymemError(`--gc-threshold: expected up to three non-negative integers like 2000,10,10, found ${JSON.stringify(args.gcThreshold)}`, 2, 'E_USAGE');
  }
  return { whatIf: { python: args.asPython, thresholds } };
}

/** The geometry of a what-if, or undefined when none was asked for. */
export function whatIfParams(base: PymallocParams, args: Pick<ReplayArgs, 'arenaSize' | 'poolSize' | 'asPython'>): PymallocParams | undefined {
  if (!args.arenaSize && !args.poolSize && !args.asPython) return undefined;
  let p: PymallocParams = args.asPython ? pymallocParams(args.asPython, base.pointerSize) : { ...base };
  const size = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = parseSize(v);
    if (n === undefined || n <= 0 || (n & (n - 1)) !== 0) throw new CpymemError(`${flag}: expected a power of two like 256KiB or 16384, found ${JSON.stringify(v)}`, 2, 'E_USAGE');
    return n;
  };
  const arenaSize = size('--arena-size', args.arenaSize);
  const poolSize = size('--pool-size', args.poolSize);
  p = { ...p, arenaSize: arenaSize ?? p.arenaSize, poolSize: poolSize ?? p.poolSize };
  if (p.poolSize > p.arenaSize) throw new CpymemError(`--pool-size ${p.poolSize} is larger than the arena size ${p.arenaSize}`, 2, 'E_USAGE');
  if (p.poolSize - p.poolOverhead < p.smallRequestThreshold) throw new CpymemError(`--pool-size ${p.poolSize} cannot hold one ${p.smallRequestThreshold}-byte block after its ${p.poolOverhead}-byte header`, 2, 'E_USAGE');
  // The arena map's node sizes depend on the real address layout; a what-if has synthetic addresses.
  const { arenaMap: _dropped, ...rest } = p;
  return rest;
}

function summaryJson(run: ReplayRun) {
  const s = run.summary;
  return {
    python: run.version,
    geometry: { arenaSize: run.params.arenaSize, poolSize: run.params.poolSize, alignment: run.params.alignment },
    syntheticAddresses: s.syntheticAddresses,
    events: s.events,
    arenas: s.arenas,
    peakReservedBytes: s.arenas.highwater * run.params.arenaSize,
    addresses: { checked: s.addressesChecked, predicted: s.addressesPredicted },
    markers: run.markers.map((m) => ({
      index: m.index,
      event: m.event,
      label: m.label ?? null,
      allocatedBlocks: m.modelAllocatedBlocks,
      arenas: m.model.arenas,
      totals: m.model.totals,
      fragmentation: analyseDump(m.model).overallFragmentation,
    })),
  };
}

function describe(run: ReplayRun, title: string): string[] {
  const s = run.summary;
  const last = run.markers.at(-1);
  const frag = last ? analyseDump(last.model).overallFragmentation : null;
  return [
    `${title}: ${formatBytes(run.params.arenaSize)} arenas, ${formatBytes(run.params.poolSize)} pools${s.syntheticAddresses ? ' (synthetic arena addresses)' : ''}`,
    `  arenas: ${formatInt(s.arenas.allocatedTotal)} allocated, ${formatInt(s.arenas.reclaimed)} reclaimed, highwater ${formatInt(s.arenas.highwater)} (${formatBytes(s.arenas.highwater * run.params.arenaSize)} peak reserved), ${formatInt(s.arenas.final)} at the end`,
    s.syntheticAddresses ? '  addresses: not comparable (another geometry)' : `  addresses: ${formatInt(s.addressesPredicted)} / ${formatInt(s.addressesChecked)} predicted`,
    `  markers: ${run.markers.length}${frag !== null ? `; fragmentation at the last one ${formatPercent(frag)}` : ''}`,
  ];
}

export async function runReplay(args: ReplayArgs, io: CliIo): Promise<number> {
  const input = resolve(io.cwd, args.events);
  const source = openEventInput(input, args.inputFormat);
  const version = versionOf(source, args.python);
  if (!version) throw new CpymemError(`${args.events}: the events do not say which CPython recorded them; pass --python (e.g. --python 3.11)`, 2, 'E_USAGE');
  const base = pymallocParams(version);
  const whatIf = whatIfParams(base, args);
  const dumpDir = args.dumpDir ? resolve(io.cwd, args.dumpDir) : undefined;
  // A bar when the total is known (a bundle's manifest counts its records), the count otherwise.
  const total = source.manifest?.counts.records;
  const progress = (what: string) => {
    const p = new Progress(io, `cpymem: replaying${what}`, args.quiet, { unit: 'events', rate: true });
    return { onProgress: (n: number) => p.update(n, total), done: () => p.done() };
  };
  const writeDump = (m: MarkerResult) => {
    if (!dumpDir) return;
    const name = m.label ? basename(m.label) : `${String(m.index).padStart(3, '0')}.txt`;
    writeFileAtomic(resolve(dumpDir, name), m.modelText);
  };
  // The GC model rides on the recorded pass (capture bundles with the young counter).
  const gcOpts = gcWhatIf(version, args);
  if (args.gcThreshold !== undefined) {
    const why = gcUnavailable(source);
    if (why) throw new CpymemError(`${args.events}: --gc-threshold: ${why}`, 2, 'E_USAGE');
  }
  const gc = await prepareGcRun(source, version, gcOpts);
  const asRecorded = progress('');
  const run = await replayRun(gc ? gc.tee(source) : source, version, { skipReal: !args.output, onMarker: whatIf ? undefined : writeDump, onProgress: asRecorded.onProgress });
  asRecorded.done();
  const gcRun: GcRun | undefined = gc?.finish();
  const gcTitle = args.asPython ? `as CPython ${args.asPython}` : 'what if';
  const whatIfProgress = progress(' (what if)');
  const alt = whatIf
    ? await replayRun(openEventInput(input, args.inputFormat), version, { params: whatIf, onMarker: writeDump, onProgress: whatIfProgress.onProgress })
    : undefined;
  whatIfProgress.done();
  if (args.output) {
    const output = resolve(io.cwd, args.output);
    const gcLog = source.manifest ? bundleGcLog(input, args.events, source.manifest.durationMs) : undefined;
    const gcModel = gcRun ? { file: args.events, run: gcRun, whatIfTitle: gcTitle } : undefined;
    writeFileAtomic(output, await replayReport(args.events, run, alt, gcTitle, { log: gcLog, model: gcModel }));
    if (!args.json) io.stderr(`wrote ${output}\n`);
  }
  if (args.json) {
    io.stdout(`${JSON.stringify({ schema: 1, file: args.events, replay: summaryJson(run), whatIf: alt ? summaryJson(alt) : null, gc: gcRun ? gcSummaryJson(gcRun) : null }, null, 2)}\n`);
    return 0;
  }
  const lines = [`${args.events}: CPython ${version}, ${formatInt(run.summary.events)} events`, ...describe(run, 'as recorded')];
  if (alt) {
    lines.push(...describe(alt, args.asPython ? `as CPython ${args.asPython}` : 'what if'));
    const d = alt.summary.arenas.highwater * alt.params.arenaSize - run.summary.arenas.highwater * run.params.arenaSize;
    lines.push(`peak reserved would change by ${d >= 0 ? '+' : '−'}${formatBytes(Math.abs(d))}`);
  }
  if (gcRun) lines.push(...describeGc(gcRun, gcTitle));
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

/**
 * The HTML page of a replay: the replay sections (with the GC ones on capture bundles), then the
 * malloc-stats sections drawn from the model's dumps at the markers (fragmentation, size classes,
 * per-class fragmentation over time).
 */
async function replayReport(file: string, run: ReplayRun, alt: ReplayRun | undefined, whatIfTitle: string, gc: { log?: GcReportInput; model?: GcModelInput }): Promise<string> {
  const { buildReportData, renderReport } = await import('../report/index.js');
  const { renderChart } = await import('../report/render.js');
  const { renderReplaySections } = await import('../report/replay-section.js');
  const { buildReplayReportData } = await import('../report/replay-data.js');
  const replay = buildReplayReportData(file, run, alt, whatIfTitle, gc);
  const dumps = run.markers.map((m) => m.model);
  const data = buildReportData(dumps.length ? [{ file: `${file} (model dumps at the markers)`, dumps, warnings: [] }] : []);
  return renderReport(data, {
    title: `cpymem report: replay of ${basename(file)}`,
    generator: `cpymem ${VERSION}`,
    sections: renderReplaySections(replay, renderChart),
    extraData: { replay },
    mallocStats: dumps.length > 0,
    footer: 'Numbers are the pymalloc model\'s, replaying the recorded events; the input holds no real dump to set them beside.',
    lede: `${formatInt(run.summary.events)} recorded events replayed through the pymalloc model of CPython ${run.version}.`,
  });
}

const command: CommandModule<object, ReplayArgs> = {
  command: 'replay <events>',
  describe: 'Replay a capture bundle or events CSV through the pymalloc model (dumps, summary, what-if geometry)',
  builder: (y: Argv) =>
    y
      .positional('events', { type: 'string', demandOption: true, describe: 'a capture bundle directory or an events CSV (.csv, .csv.gz)' })
      .option('dump-dir', { type: 'string', describe: "write the model's _PyObject_DebugMallocStats text at every marker into DIR" })
      .option('json', { type: 'boolean', describe: 'print a JSON summary' })
      .option('output', { alias: 'o', type: 'string', describe: 'write an HTML report (arena timeline, pinned arenas, model vs real, fragmentation) to this file' })
      .option('arena-size', { type: 'string', describe: 'what if: another arena size (e.g. 256KiB)' })
      .option('pool-size', { type: 'string', describe: 'what if: another pool size (e.g. 4KiB)' })
      .option('as-python', { type: 'string', describe: "what if: another CPython version's geometry and cyclic GC (e.g. 3.9, 3.13)" })
      .option('gc-threshold', { type: 'string', describe: 'what if: GC thresholds T0[,T1[,T2]] from the start of the script (e.g. 2000,10,10)' })
      .option('input-format', { choices: EVENT_FORMATS, describe: 'skip sniffing' }) as unknown as Argv<ReplayArgs>,
  handler: async (argv: ArgumentsCamelCase<ReplayArgs>) => {
    process.exitCode = await runReplay(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
