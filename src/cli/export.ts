// `cpymem export INPUT --csv [-o FILE]`: the events of a capture bundle (or of an events CSV) as the
// documented interchange CSV (docs/capture.md), streamed; -o writes atomically (.gz compresses).
import { dirname, relative, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { openEventInput, type EventFormat, EVENT_FORMATS } from '../ingest/index.js';
import { CSV_HEADER, formatEventCsvRow } from '../ingest/events-csv.js';
import type { EventSource } from '../ingest/events-bundle.js';
import { writeStreamAtomic } from '../util/atomic-stream.js';
import { CpymemError } from '../util/errors.js';
import type { CliIo } from '../util/io.js';
import { Progress } from '../util/progress.js';

export interface ExportArgs {
  input: string;
  csv?: boolean;
  output?: string;
  inputFormat?: EventFormat;
  quiet?: boolean;
}

/** Write every event of a source as CSV rows; stats labels become paths relative to `labelBase`. */
export async function writeEventsCsv(source: EventSource, labelBase: string, write: (chunk: string) => Promise<void>, onRows?: (n: number) => void): Promise<number> {
  await write(`${CSV_HEADER}\n`);
  let rows = 0;
  for await (const batch of source.batches()) {
    let chunk = '';
    for (const e of batch) {
      const label = e.op === 'stats' && e.label ? relative(labelBase, resolve(source.resolveLabel(e.label))) : e.label;
      chunk += formatEventCsvRow(e, label);
    }
    rows += batch.length;
    await write(chunk);
    onRows?.(rows);
  }
  return rows;
}

export async function runExport(args: ExportArgs, io: CliIo): Promise<number> {
  if (!args.csv) throw new CpymemError('name the output format: --csv (the only one for now)', 2, 'E_USAGE');
  const input = resolve(io.cwd, args.input);
  const source = openEventInput(input, args.inputFormat);
  const progress = new Progress(io, 'cpymem: exporting records', args.quiet);
  if (args.output) {
    const out = resolve(io.cwd, args.output);
    await writeStreamAtomic(out, async (write) => {
      await writeEventsCsv(source, dirname(out), write, (n) => progress.update(n));
    });
  } else {
    await writeEventsCsv(
      source,
      io.cwd,
      async (chunk) => {
        io.stdout(chunk);
        await io.stdoutDrain?.();
      },
      (n) => progress.update(n),
    );
  }
  progress.done();
  return 0;
}

const command: CommandModule<object, ExportArgs> = {
  command: 'export <input>',
  describe: 'Write the events of a capture bundle (or events CSV) as the interchange CSV',
  builder: (y: Argv) =>
    y
      .positional('input', { type: 'string', demandOption: true, describe: 'a capture bundle directory or an events CSV (.csv, .csv.gz)' })
      .option('csv', { type: 'boolean', describe: 'write CSV (docs/capture.md)' })
      .option('output', { alias: 'o', type: 'string', describe: 'file to write (atomically; .gz compresses); default stdout' })
      .option('input-format', { choices: EVENT_FORMATS, describe: 'skip sniffing: read the input as this format' }) as unknown as Argv<ExportArgs>,
  handler: async (argv: ArgumentsCamelCase<ExportArgs>) => {
    process.exitCode = await runExport(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
