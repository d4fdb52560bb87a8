// The one ordered list of input formats. A file's format is decided by its content (each format's
// sniff() is cheap and never throws); --format overrides. gzip input is read transparently.

import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import type { GcLog, MallocStats, PrintedTracemalloc, ReadWarning, TracemallocSnapshot } from '../model/types.js';
import { InputError } from '../util/errors.js';
import { parseMallocStats, sniffMallocStats } from './malloc-stats.js';
import { readTracemallocSnapshotFile, sniffTracemallocPickle } from './tracemalloc-pickle.js';
import { parseTracemallocText, sniffTracemallocText } from './tracemalloc-text.js';
import { openEventsBundle, sniffEventsBundle, type EventSource } from './events-bundle.js';
import { CSV_HEADER, openEventsCsv, sniffEventsCsv } from './events-csv.js';
import { parseGcDebugStats, sniffGcDebugStats } from './gc-debug-stats.js';
import { parseGcCallbacks, sniffGcCallbacks } from './gc-callbacks.js';

export const FORMATS = ['malloc-stats', 'tracemalloc-snapshot', 'tracemalloc-text', 'gc-debug-stats', 'gc-callbacks'] as const;
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

/** A `tracemalloc.Snapshot.dump()` file, reduced to its trace groups (src/ingest/tracemalloc-pickle.ts). */
export interface TracemallocSnapshotInput {
  file: string;
  format: 'tracemalloc-snapshot';
  snapshot: TracemallocSnapshot;
  warnings: ReadWarning[];
}

/** Printed tracemalloc statistics (src/ingest/tracemalloc-text.ts). */
export interface TracemallocTextInput {
  file: string;
  format: 'tracemalloc-text';
  printed: PrintedTracemalloc;
  warnings: ReadWarning[];
}

/** A cyclic-GC log: gc.DEBUG_STATS output or gc.callbacks JSON lines (docs/gc-logs.md). */
export interface GcLogInput {
  file: string;
  format: 'gc-debug-stats' | 'gc-callbacks';
  log: GcLog;
  warnings: ReadWarning[];
}

export type Input = MallocStatsInput | TracemallocSnapshotInput | TracemallocTextInput | GcLogInput;

export function isGcLogInput(input: Input): input is GcLogInput {
  return input.format === 'gc-debug-stats' || input.format === 'gc-callbacks';
}

interface FormatEntry {
  name: Format;
  sniff(text: string): boolean;
  read(text: string, file: string, opts: ReadOptions): Input;
}

/** A binary format: sniffed on the file's first bytes (gunzipped) and read from the file itself. */
interface BinaryFormatEntry {
  name: Format;
  sniffBytes(head: Uint8Array): boolean;
  readFile(path: string, opts: ReadOptions): Input;
}

const BINARY_REGISTRY: readonly BinaryFormatEntry[] = [
  {
    name: 'tracemalloc-snapshot',
    sniffBytes: sniffTracemallocPickle,
    readFile: (path, opts) => {
      const r = readTracemallocSnapshotFile(path, { file: path, strict: opts.strict, python: opts.python });
      return { file: path, format: 'tracemalloc-snapshot', snapshot: r.snapshot, warnings: r.warnings };
    },
  },
];

/** The first bytes of a file (of its gunzipped content for .gz), or an empty array if unreadable. */
export function readHead(file: string, bytes = 4096): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(Math.max(bytes, 1024));
    const n = readSync(fd, buf, 0, buf.length, 0);
    const head = buf.subarray(0, n);
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      try {
        return gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(0, bytes);
      } catch {
        return new Uint8Array(0);
      }
    }
    return head;
  } catch {
    return new Uint8Array(0);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const REGISTRY: readonly FormatEntry[] = [
  {
    // First: its sniff is the strictest (the first non-blank line is a JSON gc record).
    name: 'gc-callbacks',
    sniff: sniffGcCallbacks,
    read: (text, file, opts) => {
      const r = parseGcCallbacks(text, { file, strict: opts.strict });
      return { file, format: 'gc-callbacks', log: r.log, warnings: r.log.warnings };
    },
  },
  {
    name: 'malloc-stats',
    sniff: sniffMallocStats,
    read: (text, file, opts) => {
      const r = parseMallocStats(text, { file, strict: opts.strict, python: opts.python });
      return { file, format: 'malloc-stats', dumps: r.dumps, warnings: r.warnings };
    },
  },
  {
    name: 'tracemalloc-text',
    sniff: sniffTracemallocText,
    read: (text, file, opts) => {
      const r = parseTracemallocText(text, { file, strict: opts.strict });
      return { file, format: 'tracemalloc-text', printed: r.printed, warnings: r.warnings };
    },
  },
  {
    name: 'gc-debug-stats',
    sniff: sniffGcDebugStats,
    read: (text, file, opts) => {
      const r = parseGcDebugStats(text, { file, strict: opts.strict });
      return { file, format: 'gc-debug-stats', log: r.log, warnings: r.log.warnings };
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
  const binary = BINARY_REGISTRY.find((f) => (opts.format ? f.name === opts.format : !isDirectory(file) && f.sniffBytes(readHead(file))));
  if (binary) return binary.readFile(file, opts);
  const text = readText(file);
  const format = opts.format ?? sniffFormat(text);
  if (!format) {
    throw new InputError(
      { file, line: 1 },
      `expected one of the formats cpymem reads (${FORMATS.join(', ')}), found none: the text has no "Small block threshold = …" header, no free-list lines, no tracemalloc statistics, no "gc: collecting generation N..." lines and no gc.callbacks JSON lines, and is no pickle`,
      'E_UNKNOWN_FORMAT',
    );
  }
  return REGISTRY.find((f) => f.name === format)!.read(text, file, opts);
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

// ---- Event streams (cpymem capture): read by path, streamed, never loaded whole. Sniffed by content
// too: a directory whose manifest.json says "cpymem-capture", or a file whose first line is the
// events CSV header (gzip or not).

export const EVENT_FORMATS = ['events-bundle', 'events-csv'] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

const EVENT_REGISTRY: readonly { name: EventFormat; sniff(path: string): boolean; open(path: string): EventSource }[] = [
  { name: 'events-bundle', sniff: sniffEventsBundle, open: openEventsBundle },
  { name: 'events-csv', sniff: sniffEventsCsv, open: openEventsCsv },
];

/** Which event format a path holds, or undefined (then it may be a text format above). */
export function sniffEventFormat(path: string): EventFormat | undefined {
  return EVENT_REGISTRY.find((f) => f.sniff(path))?.name;
}

/** Open an event stream (bundle directory or events CSV). Bad input throws InputError. */
export function openEventInput(path: string, format: EventFormat | undefined = sniffEventFormat(path)): EventSource {
  if (!format) {
    throw new InputError(
      { file: path, line: 1 },
      `expected a capture bundle (a directory with manifest.json) or an events CSV (first line ${CSV_HEADER}), found neither`,
      'E_UNKNOWN_FORMAT',
    );
  }
  return EVENT_REGISTRY.find((f) => f.name === format)!.open(path);
}
