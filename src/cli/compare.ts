// `cpymem compare EVENTS`: replay a recorded run through the pymalloc model and hold every block
// address, every real dump and every allocated-blocks count against what CPython did. Exit 0 when
// all is identical, 1 otherwise, naming the first divergence. This is the check CI runs.
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { describeGc } from '../analysis/gc-vs-real.js';
import { versionOf } from '../analysis/model-vs-real.js';
import { compareRun, comparisonJson, verdict } from '../analysis/model-verdict.js';
import { EVENT_FORMATS, openEventInput, type EventFormat } from '../ingest/index.js';
import { formatInt } from '../report/format.js';
import { CpymemError } from '../util/errors.js';
import type { CliIo } from '../util/io.js';
import { Progress } from '../util/progress.js';

export interface CompareArgs {
  events: string;
  json?: boolean;
  python?: string;
  inputFormat?: EventFormat;
  quiet?: boolean;
  /** 3.12+: fail on GC disagreements too (generation, unpredicted collections); 3.8–3.11 always do. */
  gcStrict?: boolean;
}

export { verdict };

export async function runCompare(args: CompareArgs, io: CliIo): Promise<number> {
  const source = openEventInput(resolve(io.cwd, args.events), args.inputFormat);
  const version = versionOf(source, args.python);
  if (!version) throw new CpymemError(`${args.events}: the events do not say which CPython recorded them; pass --python (e.g. --python 3.11)`, 2, 'E_USAGE');
  const progress = new Progress(io, 'cpymem: replaying', args.quiet, { unit: 'events', rate: true });
  const total = source.manifest?.counts.records;
  const c = await compareRun(source, version, { gcStrict: args.gcStrict, onProgress: (n) => progress.update(n, total) });
  progress.done();
  if (args.json) {
    io.stdout(`${JSON.stringify(comparisonJson(c, args.events), null, 2)}\n`);
  } else {
    const gcLines = c.gc ? [...describeGc(c.gc), c.gcVerdict!.line] : [`gc: not compared: ${c.gcUnavailable}`];
    io.stdout(`${args.events}: CPython ${version}, ${formatInt(c.run.summary.events)} events\n${c.verdict.lines.map((l) => `  ${l}`).join('\n')}\n${c.verdict.identical ? 'identical: the model reproduces the run exactly' : 'DIFFERENT: the model does not reproduce the run'}\n${gcLines.join('\n')}\n`);
  }
  return c.ok ? 0 : 1;
}

const command: CommandModule<object, CompareArgs> = {
  command: 'compare <events>',
  describe: 'Replay a capture bundle or events CSV through the pymalloc model and check it against the real run (exit 1 on any difference)',
  builder: (y: Argv) =>
    y
      .positional('events', { type: 'string', demandOption: true, describe: 'a capture bundle directory or an events CSV (.csv, .csv.gz)' })
      .option('json', { type: 'boolean', describe: 'print the comparison as JSON' })
      .option('gc-strict', { type: 'boolean', describe: 'CPython 3.12+: exit 1 on GC disagreements too (3.8–3.11 always do: the model claims exactness there)' })
      .option('input-format', { choices: EVENT_FORMATS, describe: 'skip sniffing' }) as unknown as Argv<CompareArgs>,
  handler: async (argv: ArgumentsCamelCase<CompareArgs>) => {
    process.exitCode = await runCompare(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
