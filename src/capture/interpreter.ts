// Which interpreter a capture runs: the one --python names (a path, a command on PATH, or a pyenv
// shim), asked for its sys.executable, because that real binary is where the recorder must be
// preloaded — pyenv's `python3` is a bash script, and preloading into it would record bash.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { captureParams, type CaptureParams } from '../model/params.js';
import { CpymemError } from '../util/errors.js';

export interface PythonInfo {
  requested: string;
  /**
   * sys.executable as the interpreter reports it: what is run. Not resolved through symlinks, since
   * a venv's bin/python finds its pyvenv.cfg from the path it is started by.
   */
  executable: string;
  /** The ELF binary behind it (symlinks resolved): what the recorder is preloaded into. */
  binary: string;
  version: string;
  hexversion: number;
  implementation: string;
  pointerSize: number;
  platform: string;
  machine: string;
  include: string;
  platinclude: string;
  pymalloc: boolean;
  debug: boolean;
  freeThreaded: boolean;
  shared: boolean;
  abiflags: string;
  params: CaptureParams;
}

// Runs under the target (3.8+ syntax, stdlib only); prints one JSON line.
const PROBE = `
import json, platform, struct, sys, sysconfig
cv = sysconfig.get_config_var
paths = sysconfig.get_paths()
print(json.dumps({
  "executable": sys.executable, "version": platform.python_version(), "hexversion": sys.hexversion,
  "implementation": sys.implementation.name, "pointer_size": struct.calcsize("P"),
  "platform": sys.platform, "machine": platform.machine(),
  "include": paths.get("include") or "", "platinclude": paths.get("platinclude") or "",
  "with_pymalloc": cv("WITH_PYMALLOC"), "py_debug": cv("Py_DEBUG"), "refcount_debug": hasattr(sys, "gettotalrefcount"),
  "gil_disabled": cv("Py_GIL_DISABLED"), "shared": cv("Py_ENABLE_SHARED"), "abiflags": getattr(sys, "abiflags", ""),
}))
`;

function cannot(python: string, why: string): never {
  throw new CpymemError(`cannot capture with ${python}: ${why}`, 2, 'E_CAPTURE_INTERPRETER');
}

function isElf(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === '\x7fELF';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Ask the interpreter about itself and check that the recorder can hook it; exit 2 otherwise. */
export function probePython(python: string, cwd: string, env: NodeJS.ProcessEnv = process.env): PythonInfo {
  // -I: the user's PYTHONSTARTUP, sitecustomize or PYTHONPATH must not break the probe.
  const r = spawnSync(python, ['-I', '-c', PROBE], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    cannot(python, code === 'ENOENT' ? 'no such interpreter (not a file, not on PATH)' : `it did not start (${r.error.message})`);
  }
  if (r.status !== 0) {
    const said = (r.stderr || '').trim().split('\n').map((l) => l.trim()).filter(Boolean).slice(-4).join(' | ');
    cannot(python, `it failed to describe itself (exit ${r.status})${said ? `: ${said}` : ''}`);
  }
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(r.stdout.trim().split('\n').slice(-1)[0] ?? '') as Record<string, unknown>;
  } catch {
    cannot(python, 'it is not a CPython 3 interpreter (its answer to a sysconfig query was not JSON)');
  }
  const version = String(j.version);
  const exe = String(j.executable || '');
  if (j.implementation !== 'cpython') cannot(python, `it is ${String(j.implementation)}, not CPython`);
  if (j.platform !== 'linux') cannot(python, `the recorder is preloaded with LD_PRELOAD, which needs Linux (this is ${String(j.platform)})`);
  const params = captureParams(version);
  if (!params) cannot(python, `CPython ${version} is not supported (capture supports 3.8–3.13)`);
  if (Number(j.gil_disabled) === 1) cannot(python, `CPython ${version} is a free-threaded build: its MEM/OBJ domains use mimalloc, not pymalloc`);
  if (Number(j.py_debug) === 1 || j.refcount_debug === true) cannot(python, `CPython ${version} is a debug build: debug hooks pad every request and change pymalloc's code paths`);
  if (Number(j.with_pymalloc) !== 1) cannot(python, `CPython ${version} was built without pymalloc (WITH_PYMALLOC is not 1)`);
  if (!exe) cannot(python, 'its sys.executable is empty (an embedded interpreter?)');
  let binary: string;
  try {
    binary = realpathSync(exe);
  } catch {
    cannot(python, `its sys.executable ${exe} does not exist`);
  }
  if (!isElf(binary)) cannot(python, `its sys.executable ${binary} is not an ELF binary (a launcher script?)`);
  const include = String(j.include);
  if (!include || !existsSync(join(include, 'Python.h'))) cannot(python, `its C headers are not installed (no Python.h in ${include || 'sysconfig include path'}; install the -dev package)`);
  return {
    requested: python,
    executable: exe,
    binary,
    version,
    hexversion: Number(j.hexversion),
    implementation: 'cpython',
    pointerSize: Number(j.pointer_size),
    platform: String(j.platform),
    machine: String(j.machine),
    include,
    platinclude: String(j.platinclude || include),
    pymalloc: true,
    debug: false,
    freeThreaded: false,
    shared: Number(j.shared) === 1,
    abiflags: String(j.abiflags ?? ''),
    params,
  };
}
