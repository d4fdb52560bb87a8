// Real captures for the tests: the interpreters installed here, a shared recorder cache, and checks
// of a log against what CPython itself returned (sys.getallocatedblocks() read around each dump).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCapture } from '../../src/cli/capture.js';
import { eventsOf, openEventsBundle } from '../../src/ingest/events-bundle.js';
import type { Event, Recording } from '../../src/model/types.js';
import { memoryIo } from '../../src/util/io.js';

/** One recorder cache for every test file: each interpreter's recorder is compiled once. */
export const CACHE_DIR = join(tmpdir(), 'cpymem-test-cache');
mkdirSync(CACHE_DIR, { recursive: true });

export const PYENV = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv');

export interface Interpreter {
  version: string;
  exe: string;
}

/** Every pyenv CPython of a minor version the capture supports, newest patch first. */
export function pyenvInterpreter(minor: string): Interpreter | undefined {
  const dir = join(PYENV, 'versions');
  if (!existsSync(dir)) return undefined;
  const found = readdirSync(dir)
    .filter((v) => v.startsWith(`${minor}.`) && /^\d+\.\d+\.\d+$/.test(v))
    .sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]))
    .map((v) => ({ version: v, exe: join(dir, v, 'bin', `python${minor}`) }))
    .find((i) => existsSync(i.exe));
  return found;
}

export const MINORS = ['3.8', '3.9', '3.10', '3.11', '3.12', '3.13'];

export function scratch(prefix = 'cpymem-capture-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeScript(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

export interface CaptureRun {
  code: number;
  out: string;
  err: string;
  dir: string;
  manifest?: Recording;
}

/** Run `cpymem capture` in-process; the script's output comes back in out/err. */
export async function capture(python: string, command: string[], opts: { out: string; force?: boolean; statsAt?: string; statsEvery?: number; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<CaptureRun> {
  const io = memoryIo(opts.cwd ?? tmpdir());
  const env: NodeJS.ProcessEnv = { ...process.env, CPYMEM_CACHE_DIR: CACHE_DIR, PYTHONHASHSEED: '0', PYTHONDONTWRITEBYTECODE: '1', ...opts.env };
  for (const k of ['PYTHONMALLOC', 'PYTHONDEVMODE', 'PYTHONPATH', 'PYTHONSTARTUP']) if (!opts.env || !(k in opts.env)) delete env[k];
  let code: number;
  try {
    code = await runCapture({ python, argv: [], '--': command, out: opts.out, force: opts.force, statsAt: opts.statsAt, statsEvery: opts.statsEvery, quiet: true, childStdio: 'io', env }, io);
  } catch (err) {
    const e = err as { exitCode?: number; message: string };
    if (e.exitCode === undefined) throw err;
    io.stderr(`cpymem: ${e.message}\n`);
    code = e.exitCode;
  }
  const mf = join(opts.out, 'manifest.json');
  const manifest = existsSync(mf) ? (JSON.parse(readFileSync(mf, 'utf8')) as Recording) : undefined;
  return { code, out: io.out, err: io.err, dir: opts.out, manifest };
}

export async function readEvents(dir: string): Promise<Event[]> {
  const out: Event[] = [];
  for await (const e of eventsOf(openEventsBundle(dir))) out.push(e);
  return out;
}

/**
 * A set of pointers. Not a JS Set: V8's ordered hash tables keep deleted entries in their bucket
 * chains until the next rehash, and pymalloc hands the same address out again and again (LIFO free
 * lists), so add/delete churn on a Set<number> of addresses gets quadratic (seconds for 500 k
 * events). Open addressing with backward-shift deletion leaves no tombstones.
 */
export class PointerSet {
  private keys = new Float64Array(1 << 16);
  private mask = (1 << 16) - 1;
  size = 0;

  private slot(p: number): number {
    // p is a multiple of 8 or 16 below 2^53: mix the bits above the alignment
    const lo = (p / 16) >>> 0;
    const hi = (p / 4294967296) >>> 0;
    return Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0;
  }

  has(p: number): boolean {
    for (let i = this.slot(p) & this.mask; ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === p) return true;
      if (k === 0) return false;
    }
  }

  add(p: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    for (let i = this.slot(p) & this.mask; ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === p) return;
      if (k === 0) {
        this.keys[i] = p;
        this.size++;
        return;
      }
    }
  }

  delete(p: number): boolean {
    let i = this.slot(p) & this.mask;
    for (; ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === 0) return false;
      if (k === p) break;
    }
    // backward-shift: move later members of the run into the hole when their home allows it
    let hole = i;
    for (let j = (i + 1) & this.mask; this.keys[j] !== 0; j = (j + 1) & this.mask) {
      const home = this.slot(this.keys[j]!) & this.mask;
      if ((j - home) & this.mask) {
        if (((j - home) & this.mask) >= ((j - hole) & this.mask)) {
          this.keys[hole] = this.keys[j]!;
          hole = j;
        }
      }
    }
    this.keys[hole] = 0;
    this.size--;
    return true;
  }

  private grow(): void {
    const old = this.keys;
    this.keys = new Float64Array(old.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (const k of old) if (k !== 0) this.add(k);
  }
}

export interface Consistency {
  /** Frees or reallocs of a pointer that was not live, mallocs returning a pointer already live. */
  errors: string[];
  /** Live MEM/OBJ blocks (pymalloc's and raw fallbacks') at each stats record, in order. */
  liveAtStats: number[];
  /** Records per thread. */
  perThread: Map<number, number>;
}

/**
 * Replays the pointer bookkeeping of a log: every pointer returned by malloc/calloc/realloc is live
 * until freed or realloc'ed away. For a complete log of a run whose hooks were installed before the
 * first call, no free can name an unknown pointer and the live count at every marker equals what
 * sys.getallocatedblocks() returned then.
 */
export function checkConsistency(events: Event[]): Consistency {
  const live = new PointerSet();
  const errors: string[] = [];
  const liveAtStats: number[] = [];
  const perThread = new Map<number, number>();
  events.forEach((e, i) => {
    perThread.set(e.thread, (perThread.get(e.thread) ?? 0) + 1);
    const bad = (what: string) => {
      if (errors.length < 20) errors.push(`record ${i}: ${e.op} ${what}`);
    };
    switch (e.op) {
      case 'malloc':
      case 'calloc':
        if (e.result) {
          if (live.has(e.result)) bad(`returned live 0x${e.result.toString(16)}`);
          live.add(e.result);
        }
        break;
      case 'realloc':
        if (e.result) {
          if (e.ptr) {
            if (!live.has(e.ptr)) bad(`of unknown 0x${e.ptr.toString(16)}`);
            live.delete(e.ptr);
          }
          if (live.has(e.result)) bad(`returned live 0x${e.result.toString(16)}`);
          live.add(e.result);
        }
        break;
      case 'free':
        if (e.ptr) {
          if (!live.has(e.ptr)) bad(`of unknown 0x${e.ptr.toString(16)}`);
          live.delete(e.ptr);
        }
        break;
      case 'stats':
        liveAtStats.push(live.size);
        break;
      default:
        break;
    }
  });
  return { errors, liveAtStats, perThread };
}

/** A printone() value of a real dump, by its label: "# arenas allocated current = 4" → 4. */
export function printedValue(dump: string, label: string): number | undefined {
  const line = dump.split('\n').find((l) => l.startsWith(label) && l.includes('='));
  return line ? Number(line.split('=')[1]!.trim().replace(/,/g, '')) : undefined;
}
