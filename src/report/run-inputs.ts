// The inputs of one report, as the user named them: files and capture bundles as they are, and with
// `recursive` the readable files and bundles under other directories, sorted by path so the same
// tree gives the same report everywhere. What a walk finds is kept only if some reader accepts it.

import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { readHead, SNIFF_CHARS, sniffEventFormat, sniffFormat } from '../ingest/index.js';
import { sniffTracemallocPickle } from '../ingest/tracemalloc-pickle.js';
import { InputError } from '../util/errors.js';

/** Names of files a walk looks at (gzip too); anything else under a directory is not an input. */
const WALKED = /\.(txt|log|pickle|jsonl|csv)(\.gz)?$/;

export interface RunInputs {
  /** Paths to read, relative to the working directory as the user spelled them. */
  names: string[];
  /** Files found by walking a directory that no reader accepts. */
  skipped: string[];
}

export function expandInputs(inputs: readonly string[], cwd: string, recursive: boolean): RunInputs {
  const out: RunInputs = { names: [], skipped: [] };
  for (const input of inputs) {
    const path = resolve(cwd, input);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new InputError({ file: input }, 'no such file or directory', 'E_READ');
    }
    if (!isDir || sniffEventFormat(path) === 'events-bundle') {
      out.names.push(input);
      continue;
    }
    if (!recursive) throw new InputError({ file: input }, 'expected a file or a capture bundle (a directory with manifest.json), found a directory (pass --recursive to read the files under it)', 'E_IS_DIRECTORY');
    for (const p of walk(path).sort(comparePaths)) {
      const name = join(input, relative(path, p)).split(sep).join('/');
      (readable(p) ? out.names : out.skipped).push(name);
    }
  }
  return out;
}

/** Files and capture bundles under a directory (a bundle is not walked into). */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(sniffEventFormat(p) === 'events-bundle' ? [p] : walk(p)));
    else if (entry.isFile() && WALKED.test(entry.name)) out.push(p);
  }
  return out;
}

/** Some reader accepts the path: an event stream, a tracemalloc pickle or a text format (sniffed on its head, as readInputFile does). */
function readable(path: string): boolean {
  if (sniffEventFormat(path)) return true;
  const head = readHead(path, SNIFF_CHARS);
  if (sniffTracemallocPickle(head)) return true;
  return !head.includes(0) && sniffFormat(new TextDecoder().decode(head)) !== undefined;
}

/** Plain code-unit order, not the locale's. */
function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
