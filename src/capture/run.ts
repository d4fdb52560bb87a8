// One capture: probe the interpreter, build (or reuse) the recorder, run the real binary with the
// recorder preloaded and the helper on PYTHONPATH, then finish and publish the bundle.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Recording } from '../model/types.js';
import { CpymemError } from '../util/errors.js';
import type { CliIo } from '../util/io.js';
import { Progress } from '../util/progress.js';
import { finishBundle, publishBundle } from './bundle.js';
import { probePython, type PythonInfo } from './interpreter.js';
import { buildRecorder, helperDir, type RecorderBuild } from './recorder-build.js';

export interface CaptureOptions {
  /** Interpreter to run: a path, a command on PATH, or a shim. */
  python: string;
  /** Bundle directory (absolute, or relative to io.cwd). */
  out: string;
  force?: boolean;
  /** Interpreter arguments: script and its arguments, or -c CODE / -m MOD …, options first. */
  command: string[];
  statsAt?: number[];
  statsEvery?: number;
  quiet?: boolean;
  /** 'inherit' (the CLI: the script keeps the terminal) or 'io' (tests: output goes through io). */
  childStdio?: 'inherit' | 'io';
  env?: NodeJS.ProcessEnv;
  gzipLevel?: number;
}

export interface CaptureResult {
  out: string;
  manifest: Recording;
  python: PythonInfo;
  recorder: RecorderBuild;
}

const WATCHED_ENV = ['PYTHONMALLOC', 'PYTHONDEVMODE', 'PYTHONMALLOCSTATS', 'PYTHONTRACEMALLOC'];

/** Interpreter options that stop site/PYTHONPATH, so the helper cannot load. */
function helperBlockers(command: string[]): string[] {
  const out: string[] = [];
  for (const a of command) {
    if (a === '-c' || a === '-m' || !a.startsWith('-') || a === '-') break;
    if (/^-[A-Za-z]+$/.test(a)) for (const f of 'ISE') if (a.includes(f)) out.push(`-${f}`);
  }
  return out;
}

function devModeArg(command: string[]): boolean {
  for (let i = 0; i < command.length; i++) {
    const a = command[i]!;
    if (a === '-c' || a === '-m' || !a.startsWith('-')) break;
    if ((a === '-X' && /^dev(=|$)/.test(command[i + 1] ?? '')) || /^-Xdev(=|$)/.test(a)) return true;
  }
  return false;
}

export async function runCapture(opts: CaptureOptions, io: CliIo): Promise<CaptureResult> {
  const env = opts.env ?? process.env;
  const out = opts.out.startsWith('/') ? opts.out : join(io.cwd, opts.out);
  if (existsSync(out) && !opts.force) throw new CpymemError(`${out}: already exists, will not overwrite without --force`, 2, 'E_EXISTS');
  if (opts.command.length === 0) throw new CpymemError('name what to run: cpymem capture -- script.py [args], -c CODE or -m MODULE', 2, 'E_USAGE');

  const python = probePython(opts.python, io.cwd, env);
  const recorder = buildRecorder(python, env);
  const status = (t: string) => {
    if (io.isTTY && !opts.quiet) io.stderr(t);
  };
  const warnings: string[] = [];
  if (recorder.note) warnings.push(recorder.note);
  const blockers = helperBlockers(opts.command);
  if (blockers.length) warnings.push(`${blockers.join(' ')} keeps the helper from loading: no GC records, no script markers, no dump before finalisation`);
  const watched: Record<string, string | null> = {};
  for (const k of WATCHED_ENV) watched[k] = env[k] ?? null;
  if (env.PYTHONMALLOC || env.PYTHONDEVMODE || devModeArg(opts.command)) {
    io.stderr(`cpymem: warning: ${env.PYTHONMALLOC ? `PYTHONMALLOC=${env.PYTHONMALLOC}` : env.PYTHONDEVMODE ? `PYTHONDEVMODE=${env.PYTHONDEVMODE}` : '-X dev'} re-installs the allocators during start-up and replaces the recorder's hooks\n`);
  }

  mkdirSync(dirname(out), { recursive: true });
  const work = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(join(work, 'stats'), { recursive: true });
  try {
    const childEnv: NodeJS.ProcessEnv = { ...env };
    const origPreload = env.LD_PRELOAD;
    childEnv.LD_PRELOAD = origPreload ? `${recorder.library}:${origPreload}` : recorder.library;
    if (origPreload) childEnv.CPYMEM_ORIG_LD_PRELOAD = origPreload;
    else delete childEnv.CPYMEM_ORIG_LD_PRELOAD;
    const origPath = env.PYTHONPATH;
    const helper = helperDir(env);
    childEnv.PYTHONPATH = origPath ? `${helper}:${origPath}` : helper;
    if (origPath) childEnv.CPYMEM_ORIG_PYTHONPATH = origPath;
    else delete childEnv.CPYMEM_ORIG_PYTHONPATH;
    childEnv.CPYMEM_CAPTURE_DIR = work;
    const statsAt = [...new Set(opts.statsAt ?? [])].sort((a, b) => a - b);
    if (statsAt.length) childEnv.CPYMEM_STATS_AT = statsAt.join(',');
    else delete childEnv.CPYMEM_STATS_AT;
    if (opts.statsEvery) childEnv.CPYMEM_STATS_EVERY = String(opts.statsEvery);
    else delete childEnv.CPYMEM_STATS_EVERY;
    childEnv.CPYMEM_EXIT_DUMP = python.params.exitDump;

    status(`cpymem: capturing ${python.executable} (CPython ${python.version}${recorder.cached ? '' : ', recorder compiled'})\n`);
    const startTime = new Date();
    const t0 = performance.now();
    const viaIo = opts.childStdio === 'io';
    const child = spawn(python.executable, opts.command, {
      cwd: io.cwd,
      env: childEnv,
      stdio: viaIo ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    if (viaIo) {
      child.stdout!.setEncoding('utf8').on('data', (t: string) => io.stdout(t));
      child.stderr!.setEncoding('utf8').on('data', (t: string) => io.stderr(t));
    }
    // Ctrl-C on a terminal reaches the script directly; the bundle is still written afterwards.
    const onInt = () => {
      if (!io.isTTY) child.kill('SIGINT');
    };
    const onTerm = () => child.kill('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const exit = await new Promise<{ status: number | null; signal: string | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ status: code, signal }));
    }).finally(() => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    });
    const durationMs = performance.now() - t0;

    const progress = new Progress(io, 'cpymem: packing events', opts.quiet);
    const manifest = await finishBundle({
      work,
      python,
      recorder,
      command: opts.command,
      startTime,
      durationMs,
      exit,
      statsAt,
      statsEvery: opts.statsEvery ?? null,
      env: watched,
      warnings,
      gzipLevel: opts.gzipLevel,
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.done();
    publishBundle(work, out, Boolean(opts.force));
    return { out, manifest, python, recorder };
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}
