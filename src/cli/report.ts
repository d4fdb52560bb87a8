// `cpymem report <inputs..>`: one self-contained HTML page (and optionally its data as JSON) for any
// mix of inputs — malloc-stats dumps, tracemalloc snapshots and printed statistics, GC logs, capture
// bundles, events CSVs — sniffed by content (--format to read every file in one format). The work
// is buildRunReport (src/report/run-report.ts); this is its command line.
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { FORMATS, type Format } from '../ingest/index.js';
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
  /** Read every file in this format instead of sniffing (capture bundles and events CSVs are always sniffed). */
  format?: Format;
  quiet?: boolean;
  strict?: boolean;
  python?: string;
}

export const DEFAULT_OUTPUT = 'reports/report.html';

export async function runReport(args: ReportArgs, io: CliIo): Promise<number> {
  if (!args.inputs?.length) throw new InputError({}, 'expected at least one input file, directory or capture bundle, found none', 'E_NO_INPUT');
  // The page modules (Observable Plot, jsdom) take a second or two to load: they are imported when a
  // report is written, so that every other command starts fast.
  const { buildRunReport } = await import('../report/run-report.js');
  const { stableStringify } = await import('../report/json.js');
  const reading = new Progress(io, 'cpymem report: reading', args.quiet);
  const replaying = new Progress(io, 'cpymem report: replaying', args.quiet, { unit: 'events', rate: true });
  const report = await buildRunReport(args.inputs, {
    cwd: io.cwd,
    recursive: args.recursive,
    format: args.format,
    strict: args.strict,
    python: args.python,
    generator: `cpymem ${VERSION}`,
    onProgress: (i, n) => reading.update(i, n),
    onReplayProgress: (n) => replaying.update(n),
  });
  reading.done();
  replaying.done();
  if (report.data.sources.length === 0) {
    throw new InputError({ file: args.inputs.join(', ') }, `expected inputs cpymem reads under the directories, found none${report.skipped.length ? ` (${report.skipped.length} files were of no format cpymem reads)` : ''}`, 'E_NO_INPUT');
  }
  const output = resolve(io.cwd, args.output ?? DEFAULT_OUTPUT);
  const json = args.json ? resolve(io.cwd, args.json) : undefined;
  writeFileAtomic(output, report.html);
  if (json) writeFileAtomic(json, `${stableStringify(report.data, 2)}\n`);

  if (!args.quiet) {
    const skipped = report.skipped.length;
    if (skipped) io.stderr(`skipped ${skipped} file${skipped === 1 ? '' : 's'} of no format cpymem reads\n`);
    const warnings = report.data.summary.warnings;
    if (warnings) io.stderr(`${warnings} warning${warnings === 1 ? '' : 's'} while reading (listed in the report)\n`);
  }
  io.stdout(`${output}\n`);
  if (json) io.stdout(`${json}\n`);
  return 0;
}

const command: CommandModule<object, ReportArgs> = {
  command: 'report <inputs..>',
  describe: 'Write one self-contained HTML report of any mix of inputs: dumps, tracemalloc snapshots, GC logs, capture bundles',
  builder: (y: Argv) =>
    y
      .positional('inputs', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'malloc-stats dumps, tracemalloc snapshots or printed statistics, GC logs (.gz too), capture bundles, events CSVs; directories with --recursive',
      })
      .option('output', { alias: 'o', type: 'string', default: DEFAULT_OUTPUT, describe: 'HTML file to write' })
      .option('json', { type: 'string', describe: 'also write the report data as JSON to this file' })
      .option('format', { choices: FORMATS, describe: 'skip sniffing: read every file as this format (capture bundles and events CSVs are still recognised)' })
      .option('recursive', { type: 'boolean', describe: 'inputs may be directories: read every file and capture bundle under them that cpymem can read' }) as unknown as Argv<ReportArgs>,
  handler: async (argv: ArgumentsCamelCase<ReportArgs>) => {
    process.exitCode = await runReport(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
