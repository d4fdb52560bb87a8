// The recorder is shipped as C source and compiled on demand against the target interpreter's own
// headers, once per interpreter: the result is cached under $CPYMEM_CACHE_DIR, $XDG_CACHE_HOME/cpymem
// or ~/.cache/cpymem, keyed by interpreter path, version, headers and the source's hash.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CpymemError } from '../util/errors.js';
import type { PythonInfo } from './interpreter.js';

// src/capture/*.ts and dist/capture/*.js are both two levels below the package root.
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RECORDER_SOURCE = join(PACKAGE_ROOT, 'src', 'capture', 'recorder', 'cpymem_recorder.c');
export const HELPER_DIR = join(PACKAGE_ROOT, 'src', 'capture', 'python');

export interface RecorderBuild {
  library: string;
  sourceSha256: string;
  /** Compiled with Py_BUILD_CORE and the internal headers (young counter, 3.12+ allocated blocks). */
  internalHeaders: boolean;
  /** Served from the cache (no compiler run). */
  cached: boolean;
  /** Why the internal headers were not used, when they were not. */
  note?: string;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CPYMEM_CACHE_DIR) return env.CPYMEM_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'cpymem');
}

const BASE_FLAGS = ['-O2', '-std=gnu11', '-fPIC', '-shared', '-fvisibility=hidden', '-ftls-model=initial-exec', '-Wall', '-Wl,-z,now'];

function compile(cc: string[], py: PythonInfo, out: string, internal: boolean): { ok: boolean; stderr: string } {
  const incs = [...new Set([py.include, py.platinclude])].flatMap((d) => ['-I', d]);
  const args = [...cc.slice(1), ...BASE_FLAGS, ...(internal ? ['-DCPYMEM_INTERNAL'] : []), ...incs, '-o', out, RECORDER_SOURCE, '-ldl', '-lpthread'];
  const r = spawnSync(cc[0]!, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new CpymemError(`cannot build the recorder: ${code === 'ENOENT' ? `no C compiler "${cc[0]}" (install gcc, or set CC)` : r.error.message}`, 2, 'E_CAPTURE_BUILD');
  }
  return { ok: r.status === 0 && existsSync(out), stderr: r.stderr ?? '' };
}

/** The recorder library for this interpreter, from the cache or freshly compiled. */
export function buildRecorder(py: PythonInfo, env: NodeJS.ProcessEnv = process.env): RecorderBuild {
  const source = readFileSync(RECORDER_SOURCE);
  const sourceSha256 = createHash('sha256').update(source).digest('hex');
  const cc = (env.CC || 'gcc').trim().split(/\s+/);
  const headerStamp = (() => {
    try {
      return statSync(join(py.include, 'patchlevel.h')).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const key = createHash('sha256')
    .update(JSON.stringify({ sourceSha256, exe: py.binary, version: py.version, hex: py.hexversion, include: py.include, headerStamp, cc, flags: BASE_FLAGS }))
    .digest('hex')
    .slice(0, 16);
  const dir = join(cacheDir(env), 'recorder');
  const library = join(dir, `cpymem_recorder-${py.version}-${key}.so`);
  const infoFile = `${library}.json`;
  if (existsSync(library) && existsSync(infoFile)) {
    try {
      const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { internalHeaders: boolean; note?: string };
      return { library, sourceSha256, internalHeaders: info.internalHeaders, cached: true, note: info.note };
    } catch {
      // a damaged cache entry is rebuilt
    }
  }
  mkdirSync(dir, { recursive: true });
  // Compile beside the final name and rename, so concurrent captures never load a half-written file.
  const tmp = `${library}.${process.pid}.${Date.now()}.tmp`;
  let internalHeaders = true;
  let note: string | undefined;
  try {
    let r = compile(cc, py, tmp, true);
    if (!r.ok) {
      internalHeaders = false;
      note = `the internal headers did not compile (${r.stderr.trim().split('\n').find((l) => /error/.test(l)) ?? 'error'}); no young-generation counter${py.params.exitDump === 'before-finalize' ? ', no allocated-blocks counts at count markers' : ''}`;
      r = compile(cc, py, tmp, false);
      if (!r.ok) throw new CpymemError(`cannot build the recorder against ${py.include}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`, 2, 'E_CAPTURE_BUILD');
    }
    renameSync(tmp, library);
    writeFileSync(`${infoFile}.${process.pid}.tmp`, JSON.stringify({ internalHeaders, note, python: py.executable, version: py.version, sourceSha256 }));
    renameSync(`${infoFile}.${process.pid}.tmp`, infoFile);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { library, sourceSha256, internalHeaders, cached: false, note };
}

/**
 * The Python helper (sitecustomize + cpymem_capture), copied into the cache: Python writes
 * __pycache__ beside the modules it imports, and that must not happen inside the installed package.
 */
export function helperDir(env: NodeJS.ProcessEnv = process.env): string {
  const names = readdirSync(HELPER_DIR).filter((f) => f.endsWith('.py')).sort();
  const hash = createHash('sha256');
  for (const n of names) hash.update(n).update(readFileSync(join(HELPER_DIR, n)));
  const dir = join(cacheDir(env), `helper-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(join(dir, 'sitecustomize.py'))) return dir;
  const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
  mkdirSync(tmp, { recursive: true });
  for (const n of names) cpSync(join(HELPER_DIR, n), join(tmp, n));
  try {
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // another capture published the same helper first
    if (!existsSync(join(dir, 'sitecustomize.py'))) throw err;
  }
  return dir;
}
