#!/usr/bin/env node
// The cpymem command line: global flags, the commands, and errors → exit codes
// (0 ok, 1 a check or comparison failed, 2 bad input or usage).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { CpymemError } from './util/errors.js';
import { processIo, type CliIo } from './util/io.js';
import { VERSION } from './version.js';

// The commands, loaded on demand: a run loads the one it names (each pulls in its readers, models
// and report code, half of a short run's start-up when all were loaded); help, completion and
// unknown names load them all.
const COMMANDS: Record<string, () => Promise<{ default: CommandModule<any, any> }>> = {
  inspect: () => import('./cli/inspect.js'),
  capture: () => import('./cli/capture.js'),
  export: () => import('./cli/export.js'),
  report: () => import('./cli/report.js'),
  replay: () => import('./cli/replay.js'),
  compare: () => import('./cli/compare.js'),
  check: () => import('./cli/check.js'),
  gc: () => import('./cli/gc.js'),
  top: () => import('./cli/top.js'),
  diff: () => import('./cli/diff.js'),
  packing: () => import('./cli/packing.js'),
};

/** The modules of the command argv names (its first word that is a command), or of all of them. */
export async function loadCommands(argv: readonly string[]): Promise<CommandModule<any, any>[]> {
  const named = argv.find((a) => Object.hasOwn(COMMANDS, a));
  const wanted = named !== undefined && !argv.includes('--help') && !argv.includes('--get-yargs-completions') ? [named] : Object.keys(COMMANDS);
  return Promise.all(wanted.map(async (name) => (await COMMANDS[name]!()).default));
}

export function buildCli(argv: string[], io: CliIo, commands: readonly CommandModule<any, any>[]): Argv {
  return yargs(argv)
    .scriptName('cpymem')
    .usage('cpymem <command> [options]\n\nAnalyse real CPython memory logs: sys._debugmallocstats() dumps, PYTHONMALLOCSTATS streams.')
    .option('strict', { type: 'boolean', global: true, describe: 'treat warnings about the input as errors' })
    .option('python', {
      type: 'string',
      global: true,
      describe: 'CPython version that wrote the input (e.g. 3.11), when the layout leaves it open',
      coerce: (v: string | undefined) => {
        if (v !== undefined && !/^\d+\.\d+(\.\d+)?$/.test(v)) throw new CpymemError(`--python: expected a version like 3.11 or 3.11.7, found ${JSON.stringify(v)}`, 2, 'E_USAGE');
        return v;
      },
    })
    .option('quiet', { type: 'boolean', global: true, describe: 'no progress output' })
    .option('debug', { type: 'boolean', global: true, describe: 'show stack traces of errors' })
    .middleware((a) => {
      (a as Record<string, unknown>).io = io;
    })
    .command(commands as CommandModule<any, any>[])
    .demandCommand(1, 'name a command')
    .strict()
    .version(VERSION)
    .completion('completion', 'print a shell completion script')
    .help()
    .wrap(null)
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs wraps what a coerce() throws in its own error; ours is kept as the cause.
      const cause = (err as { cause?: unknown } | undefined)?.cause;
      if (cause instanceof CpymemError) throw cause;
      if (err && err.name === 'YError') throw new CpymemError(err.message, 2, 'E_USAGE');
      throw err ?? new CpymemError(msg, 2, 'E_USAGE');
    });
}

/** Run the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    process.exitCode = 0;
    await buildCli(argv, io, await loadCommands(argv)).parseAsync();
    const code = Number(process.exitCode ?? 0);
    process.exitCode = 0;
    return code;
  } catch (err) {
    process.exitCode = 0;
    if (err instanceof CpymemError) {
      io.stderr(`cpymem: ${err.message}\n`);
      if (debug && err.stack) io.stderr(`${err.stack}\n`);
      return err.exitCode;
    }
    io.stderr(`cpymem: internal error: ${(err as Error).message ?? String(err)}\n`);
    if (debug && (err as Error).stack) io.stderr(`${(err as Error).stack}\n`);
    else io.stderr('(run again with --debug for a stack trace; please report it)\n');
    return 3;
  }
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
