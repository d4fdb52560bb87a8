// `cpymem report <inputs..>`: one self-contained HTML page (and optionally its data as JSON) for
// malloc-stats dumps read from files, or from every *.txt under directories with --recursive.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { readHead, readInputFile, readText } from '../ingest/index.js';
import { sniffTracemallocPickle } from '../ingest/tracemalloc-pickle.js';
import { tracemallocRowsForFields, tracemallocParams, TRACEMALLOC_PARAMS } from '../model/params.js';
import type { MallocStats } from '../model/types.js';
import { buildTracemallocReportData, type TracemallocReportInput } from '../report/tracemalloc-data.js';
import { packingGeometry } from './packing.js';
import { parseMallocStats, sniffMallocStats } from '../ingest/malloc-stats.js';
// The page modules (Observable Plot, jsdom) take a second or two to load: they are imported when a
// report is written, so that every other command starts fast.
import type { ReportInput } from '../report/index.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { InputError } from '../util/errors.js';
import type { CliIo } from '../util/io.js';
import { Progress } from '../util/progress.js';
import { VERSION } from '../version.js';

export interface ReportArgs {
  inputs: string[];
  output?: string;
  json?: string;
  recursive?: boolean;
  quiet?: boolean;
  strict?: boolean;
  python?: string;
}

export const DEFAULT_OUTPUT = 'reports/report.html';

/** A file to read: its path on disk and the name the report shows (as the user spelled it). */
interface Source {
  path: string;
  name: string;
  /** Found by walking a directory: read only if it sniffs as malloc stats. */
  sniff: boolean;
}

export async function runReport(args: ReportArgs, io: CliIo): Promise<number> {
  if (!args.inputs?.length) throw new InputError({}, 'expected at least one input file or directory, found none', 'E_NO_INPUT');
  const sources = args.inputs.flatMap((input) => expand(input, io.cwd, args.recursive ?? false));
  const opts = { strict: args.strict, python: args.python };
  const inputs: ReportInput[] = [];
  const snapshots: TracemallocReportInput[] = [];
  const skipped: string[] = [];
  const progress = new Progress(io, 'reading', args.quiet);
  sources.forEach((src, i) => {
    progress.update(i, sources.length);
    if (src.sniff && sniffTracemallocPickle(readHead(src.path))) {
      const r = readInputFile(src.path, opts);
      if (r.format === 'tracemalloc-snapshot') snapshots.push({ file: src.name, snapshot: r.snapshot, warnings: r.warnings });
    } else if (src.sniff) {
      const text = readText(src.path);
      if (!sniffMallocStats(text)) {
        skipped.push(src.name);
        return;
      }
      const r = parseMallocStats(text, { file: src.name, ...opts });
      inputs.push({ file: src.name, dumps: r.dumps, warnings: r.warnings });
    } else {
      const r = readInputFile(src.path, opts);
      if (r.format === 'tracemalloc-snapshot') snapshots.push({ file: src.name, snapshot: r.snapshot, warnings: r.warnings });
      else if (r.format !== 'malloc-stats') throw new InputError({ file: src.name }, `expected malloc-stats dumps or tracemalloc snapshots, found ${r.format} (printed statistics are rounded: cpymem inspect reads them)`, 'E_UNSUPPORTED_INPUT');
      else inputs.push({ file: src.name, dumps: r.dumps, warnings: r.warnings });
    }
  });
  progress.done();
  if (inputs.length === 0 && snapshots.length === 0) {
    throw new InputError({ file: args.inputs.join(', ') }, `expected malloc-stats dumps in *.txt files, found none${skipped.length ? ` (${skipped.length} *.txt files did not look like malloc stats)` : ''}`, 'E_NO_INPUT');
  }

  const { buildReportData, renderReport, stableStringify } = await import('../report/index.js');
  const { renderChart } = await import('../report/render.js');
  const { renderTracemallocSections } = await import('../report/tracemalloc-section.js');
  const data = buildReportData(inputs);
  const output = resolve(io.cwd, args.output ?? DEFAULT_OUTPUT);
  const tm = snapshots.length ? tracemallocReport(snapshots, inputs, args.python) : null;
  const page = tm
    ? {
        generator: `cpymem ${VERSION}`,
        sections: renderTracemallocSections(tm, renderChart),
        extraData: { tracemalloc: tm },
        mallocStats: inputs.length > 0,
        ...(inputs.length ? {} : { title: 'cpymem report: tracemalloc snapshots', lede: `${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'}: ${snapshots.map((s) => s.file).join(', ')}.` }),
      }
    : { generator: `cpymem ${VERSION}` };
  writeFileAtomic(output, renderReport(data, page));
  if (args.json) writeFileAtomic(resolve(io.cwd, args.json), `${stableStringify(tm ? { ...data, tracemalloc: tm } : data, 2)}\n`);

  if (!args.quiet) {
    if (skipped.length) io.stderr(`skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'} that did not look like malloc stats\n`);
    if (data.summary.warnings) io.stderr(`${data.summary.warnings} warning${data.summary.warnings === 1 ? '' : 's'} while reading (listed in the report)\n`);
  }
  io.stdout(`${output}\n`);
  if (args.json) io.stdout(`${resolve(io.cwd, args.json)}\n`);
  return 0;
}

/**
 * Growth over the snapshots (in the order given) and the packing of the last one, beside the last
 * pymalloc dump of the malloc-stats inputs when there is one (taken to be of the same process).
 */
function tracemallocReport(snapshots: TracemallocReportInput[], inputs: ReportInput[], python: string | undefined) {
  const fields = snapshots.map((s) => s.snapshot.traceFields).find((f) => f !== null) ?? null;
  const p = python ? tracemallocParams(python) : fields !== null ? tracemallocRowsForFields(fields)[0]! : TRACEMALLOC_PARAMS[TRACEMALLOC_PARAMS.length - 1]!;
  let dump: { file: string; index: number; stats: MallocStats } | undefined;
  for (const input of inputs) input.dumps.forEach((d, index) => d.allocator === 'pymalloc' && d.classes && (dump = { file: input.file, index, stats: d }));
  const { g, source } = packingGeometry(snapshots.at(-1)!.snapshot, python, dump?.stats);
  return buildTracemallocReportData(snapshots, p, { geometry: g, source, dump });
}

/** One input argument → the files it names, sorted by path when it is a directory. */
function expand(input: string, cwd: string, recursive: boolean): Source[] {
  const path = resolve(cwd, input);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new InputError({ file: input }, 'no such file or directory', 'E_READ');
  }
  if (!isDir) return [{ path, name: input, sniff: false }];
  if (!recursive) throw new InputError({ file: input }, 'expected a file, found a directory (pass --recursive to read the *.txt files under it)', 'E_IS_DIRECTORY');
  return walk(path)
    .sort(comparePaths)
    .map((p) => ({ path: p, name: join(input, relative(path, p)).split(sep).join('/'), sniff: true }));
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else if (entry.isFile() && /\.(txt|pickle)(\.gz)?$/.test(entry.name)) out.push(p);
  }
  return out;
}

/** Plain code-unit order, not the locale's: the same tree gives the same report everywhere. */
function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const command: CommandModule<object, ReportArgs> = {
  command: 'report <inputs..>',
  describe: 'Write a self-contained HTML report of malloc-stats dumps (arenas, fragmentation, size classes, evolution)',
  builder: (y: Argv) =>
    y
      .positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'dump files (.gz too), or directories with --recursive' })
      .option('output', { alias: 'o', type: 'string', default: DEFAULT_OUTPUT, describe: 'HTML file to write' })
      .option('json', { type: 'string', describe: 'also write the report data as JSON to this file' })
      .option('recursive', { type: 'boolean', describe: 'inputs may be directories: read every *.txt under them that looks like malloc stats' }) as unknown as Argv<ReportArgs>,
  handler: async (argv: ArgumentsCamelCase<ReportArgs>) => {
    process.exitCode = await runReport(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
