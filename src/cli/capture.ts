// `cpymem capture [--python PATH] [--out DIR] -- script.py args…`: record every pymalloc call of a
// real Python run, with real dumps at markers, into a bundle directory (docs/capture.md).
import { basename } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { runCapture as capture } from '../capture/run.js';
import { CpymemError } from '../util/errors.js';
import type { CliIo } from '../util/io.js';

export interface CaptureArgs {
  python?: string;
  out?: string;
  force?: boolean;
  statsAt?: string;
  statsEvery?: number;
  c?: string;
  m?: string;
  argv?: string[];
  '--'?: string[];
  quiet?: boolean;
  /** Tests: the script's output goes through io instead of the terminal. */
  childStdio?: 'inherit' | 'io';
  env?: NodeJS.ProcessEnv;
}

function parseCounts(text: string | undefined): number[] {
  if (text === undefined || text === '') return [];
  return String(text)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      if (!/^[1-9][0-9]*$/.test(s)) throw new CpymemError(`--stats-at: expected positive event counts separated by commas, found ${JSON.stringify(s)}`, 2, 'E_USAGE');
      return Number(s);
    });
}

/** The interpreter arguments, and the default bundle name derived from them. */
function commandOf(args: CaptureArgs): { command: string[]; name: string } {
  const rest = [...(args.argv ?? []), ...(args['--'] ?? [])].map(String);
  if (args.c !== undefined && args.m !== undefined) throw new CpymemError('give either -c CODE or -m MODULE, not both', 2, 'E_USAGE');
  if (args.c !== undefined) return { command: ['-c', String(args.c), ...rest], name: 'c' };
  if (args.m !== undefined) return { command: ['-m', String(args.m), ...rest], name: String(args.m) };
  // The first argument that is not an interpreter option names the script (or -c / -m after options).
  let name = 'capture';
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '-c') {
      name = 'c';
      break;
    }
    if (a === '-m') {
      name = rest[i + 1] ?? 'm';
      break;
    }
    if (a === '-X' || a === '-W') {
      i++;
      continue;
    }
    if (!a.startsWith('-')) {
      name = basename(a).replace(/\.py$/, '');
      break;
    }
  }
  return { command: rest, name };
}

export async function runCapture(args: CaptureArgs, io: CliIo): Promise<number> {
  const { command, name } = commandOf(args);
  if (args.statsEvery !== undefined && (!Number.isInteger(args.statsEvery) || args.statsEvery <= 0)) {
    throw new CpymemError(`--stats-every: expected a positive number of events, found ${JSON.stringify(args.statsEvery)}`, 2, 'E_USAGE');
  }
  // "--python 3.12" names an interpreter the way the shell would: python3.12 on PATH.
  const python = args.python === undefined ? 'python3' : /^\d+\.\d+$/.test(String(args.python)) ? `python${args.python}` : String(args.python);
  const r = await capture(
    {
      python,
      out: args.out ?? `${name}.cpymem`,
      force: args.force,
      command,
      statsAt: parseCounts(args.statsAt),
      statsEvery: args.statsEvery,
      quiet: args.quiet,
      childStdio: args.childStdio,
      env: args.env,
    },
    io,
  );
  const m = r.manifest;
  for (const w of m.warnings) io.stderr(`cpymem: warning: ${w}\n`);
  if (io.isTTY && !args.quiet) {
    const c = m.counts;
    const gc = c.gcCollections.reduce((s, n) => s + n, 0);
    io.stderr(
      `cpymem: wrote ${r.out}: ${c.records.toLocaleString('en-US')} records (${c.calls.toLocaleString('en-US')} MEM/OBJ calls, ` +
        `${c.arenas.nestedAllocated} pymalloc arenas), ${m.markers.length} dumps, ${gc} collections\n`,
    );
  }
  if (m.exit.status !== 0) {
    io.stderr(`cpymem: the script ${m.exit.signal ? `was killed by ${m.exit.signal}` : `exited with status ${m.exit.status}`} (the bundle was written)\n`);
    return 1;
  }
  return 0;
}

const command: CommandModule<object, CaptureArgs> = {
  command: 'capture [argv..]',
  describe: 'Run a Python script under the recorder: every pymalloc call, real dumps at markers → a bundle directory',
  builder: (y: Argv) =>
    y
      .parserConfiguration({ 'populate--': true })
      .usage('cpymem capture [options] -- script.py [args…]   (or -c CODE, -m MODULE; interpreter options go after --)')
      .positional('argv', { type: 'string', array: true, describe: 'script and its arguments (use -- before anything that starts with -)' })
      .option('python', { type: 'string', describe: 'interpreter to record: a path, a command on PATH or a pyenv shim (default python3)', coerce: (v: unknown) => v })
      .option('out', { alias: 'o', type: 'string', describe: 'bundle directory to write (default <script>.cpymem)' })
      .option('force', { type: 'boolean', describe: 'replace an existing bundle' })
      .option('stats-at', { type: 'string', describe: 'take a real dump after these MEM/OBJ call counts, e.g. 20000,60000' })
      .option('stats-every', { type: 'number', describe: 'take a real dump every N MEM/OBJ calls' })
      .option('c', { type: 'string', describe: 'program passed in as a string (as python -c)' })
      .option('m', { type: 'string', describe: 'run a library module as a script (as python -m)' }) as unknown as Argv<CaptureArgs>,
  handler: async (argv: ArgumentsCamelCase<CaptureArgs>) => {
    process.exitCode = await runCapture(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
