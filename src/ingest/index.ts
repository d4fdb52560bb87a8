// The one ordered list of input formats. A file's format is decided by its content (each format's
// sniff() is cheap and never throws); --format overrides. gzip input is read transparently.

import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { MallocStats, ReadWarning } from '../model/types.js';
import { InputError } from '../util/errors.js';
import { parseMallocStats, sniffMallocStats } from './malloc-stats.js';

export const FORMATS = ['malloc-stats'] as const;
export type Format = (typeof FORMATS)[number];

export interface ReadOptions {
  format?: Format;
  strict?: boolean;
  python?: string;
}

export interface MallocStatsInput {
  file: string;
  format: 'malloc-stats';
  dumps: MallocStats[];
  warnings: ReadWarning[];
}

export type Input = MallocStatsInput;

interface FormatEntry {
  name: Format;
  sniff(text: string): boolean;
  read(text: string, file: string, opts: ReadOptions): Input;
}

const REGISTRY: readonly FormatEntry[] = [
  {
    name: 'malloc-stats',
    sniff: sniffMallocStats,
    read: (text, file, opts) => {
      const r = parseMallocStats(text, { file, strict: opts.strict, python: opts.python });
      return { file, format: 'malloc-stats', dumps: r.dumps, warnings: r.warnings };
    },
  },
];

/** Read a file's bytes as text, gunzipping when it starts with the gzip magic. */
export function readText(file: string): string {
  let buf: Buffer;
  try {
    if (statSync(file).isDirectory()) throw new InputError({ file }, 'expected a file, found a directory (pass --recursive to read the files under it)', 'E_IS_DIRECTORY');
    buf = readFileSync(file);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError({ file }, code === 'ENOENT' ? 'no such file' : `cannot read: ${(err as Error).message}`, 'E_READ');
  }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (err) {
      throw new InputError({ file, offset: 0 }, `expected a complete gzip stream, found a damaged one (${(err as Error).message})`, 'E_GZIP');
    }
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) {
    throw new InputError({ file, offset: nul }, 'expected text, found a NUL byte (binary file?)', 'E_BINARY');
  }
  return buf.toString('utf8');
}

/** Which format a text is in, or undefined. */
export function sniffFormat(text: string): Format | undefined {
  return REGISTRY.find((f) => f.sniff(text))?.name;
}

/** Read one input file in its sniffed (or given) format. Bad input throws InputError. */
export function readInputFile(file: string, opts: ReadOptions = {}): Input {
  const text = readText(file);
  const format = opts.format ?? sniffFormat(text);
  if (!format) {
    throw new InputError(
      { file, line: 1 },
      `expected one of the formats cpymem reads (${FORMATS.join(', ')}), found none: the text has no "Small block threshold = …" header and no free-list lines`,
      'E_UNKNOWN_FORMAT',
    );
  }
  return REGISTRY.find((f) => f.name === format)!.read(text, file, opts);
}
