// The one ordered list of input formats. A file's format is decided by its content (each format's
// sniff() is cheap, never throws and looks at the first SNIFF_CHARS characters only); --format
// overrides. gzip input is read transparently. Text formats are streamed through their push-based
// readers (src/ingest/text-file.ts): memory follows what the reader keeps, not the file's size.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import type { GcLog, MallocStats, PrintedTracemalloc, ReadWarning, TracemallocSnapshot } from '../model/types.js';
import { InputError } from '../util/errors.js';
import { formatBytes } from '../util/format.js';
import { MallocStatsReader, sniffMallocStats } from './malloc-stats.js';
import { readTracemallocSnapshotFile, sniffTracemallocPickle } from './tracemalloc-pickle.js';
import { sniffTracemallocText, TracemallocTextReader } from './tracemalloc-text.js';
import { openEventsBundle, sniffEventsBundle, type EventSource } from './events-bundle.js';
import { CSV_HEADER, openEventsCsv, sniffEventsCsv } from './events-csv.js';
import { GcDebugStatsReader, sniffGcDebugStats } from './gc-debug-stats.js';
import { GcCallbacksReader, sniffGcCallbacks } from './gc-callbacks.js';
import { forEachTextPiece } from './text-file.js';

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

/** A push-based reader of one text input: pieces of text in, the Input at the end. */
interface TextReader {
  push(text: string): void;
  end(): Input;
}

interface FormatEntry {
  name: Format;
  sniff(text: string): boolean;
  reader(file: string, opts: ReadOptions): TextReader;
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

/** A TextReader over one of the formats' reader classes: `toInput` turns its result into the Input. */
function textReader<R>(r: { push(text: string): void; end(): R }, toInput: (result: R) => Input): TextReader {
  return { push: (text) => r.push(text), end: () => toInput(r.end()) };
}

const REGISTRY: readonly FormatEntry[] = [
  {
    // First: its sniff is the strictest (the first non-blank line is a JSON gc record).
    name: 'gc-callbacks',
    sniff: sniffGcCallbacks,
    reader: (file, opts) => textReader(new GcCallbacksReader({ file, strict: opts.strict }), (r) => ({ file, format: 'gc-callbacks', log: r.log, warnings: r.log.warnings })),
  },
  {
    name: 'malloc-stats',
    sniff: sniffMallocStats,
    reader: (file, opts) =>
      textReader(new MallocStatsReader({ file, strict: opts.strict, python: opts.python }), (r) => ({ file, format: 'malloc-stats', dumps: r.dumps, warnings: r.warnings })),
  },
  {
    name: 'tracemalloc-text',
    sniff: sniffTracemallocText,
    reader: (file, opts) => textReader(new TracemallocTextReader({ file, strict: opts.strict }), (r) => ({ file, format: 'tracemalloc-text', printed: r.printed, warnings: r.warnings })),
  },
  {
    name: 'gc-debug-stats',
    sniff: sniffGcDebugStats,
    reader: (file, opts) => textReader(new GcDebugStatsReader({ file, strict: opts.strict }), (r) => ({ file, format: 'gc-debug-stats', log: r.log, warnings: r.log.warnings })),
  },
];

/** The sniffs look at this many characters from the start of a text, no more. */
export const SNIFF_CHARS = 65536;
/** How far into a file the sniff looks for the first line of a format (past program output). */
export const MAX_SNIFF_CHARS = 64 * 1024 * 1024;
/** Windows overlap by this much, so that no line is only ever seen cut in two. */
const SNIFF_OVERLAP = 4096;

/** Read a file's bytes as text, gunzipping when it starts with the gzip magic (whole: prefer readInputFile for big inputs). */
export function readText(file: string): string {
  const pieces: string[] = [];
  forEachTextPiece(file, (t) => pieces.push(t));
  return pieces.join('');
}

/** Which format a text is in, or undefined. */
export function sniffFormat(text: string): Format | undefined {
  return REGISTRY.find((f) => f.sniff(text))?.name;
}

/** Read one input file in its sniffed (or given) format. Bad input throws InputError. */
export function readInputFile(file: string, opts: ReadOptions = {}): Input {
  const binary = BINARY_REGISTRY.find((f) => (opts.format ? f.name === opts.format : !isDirectory(file) && f.sniffBytes(readHead(file))));
  if (binary) return binary.readFile(file, opts);
  // Streamed: the head is held until the sniff can decide, then it and every later piece go to the
  // format's reader. The sniff looks at windows of SNIFF_CHARS: the first one, and then, for a log
  // that begins with program output (a service's log with gc lines further down), every later
  // window up to MAX_SNIFF_CHARS.
  let head = '';
  let sniffed = 0;
  let reader: TextReader | undefined;
  const decide = (): Format | undefined => {
    if (opts.format) return opts.format;
    for (; sniffed < head.length; sniffed += SNIFF_CHARS - SNIFF_OVERLAP) {
      const format = sniffFormat(head.slice(sniffed, sniffed + SNIFF_CHARS));
      if (format) return format;
      if (sniffed + SNIFF_CHARS >= head.length) break; // the last window: sniffed again once it has grown
    }
    return undefined;
  };
  const start = (format: Format | undefined): TextReader => {
    if (!format && head.trim() === '') throw new InputError({ file }, `expected one of the formats cpymem reads (${FORMATS.join(', ')}), found ${head === '' ? 'an empty file' : 'only white space'}`, 'E_EMPTY');
    if (!format) {
      throw new InputError(
        { file, line: 1 },
        `expected one of the formats cpymem reads (${FORMATS.join(', ')}), found none${head.length > SNIFF_CHARS ? ` in the first ${formatBytes(head.length)}` : ''}: the text has no "Small block threshold = …" header, no free-list lines, no tracemalloc statistics, no "gc: collecting generation N..." lines and no gc.callbacks JSON lines, and is no pickle`,
        'E_UNKNOWN_FORMAT',
      );
    }
    const r = REGISTRY.find((f) => f.name === format)!.reader(file, opts);
    r.push(head);
    head = '';
    return r;
  };
  forEachTextPiece(file, (text) => {
    if (reader) return reader.push(text);
    head += text;
    if (!opts.format && head.length < SNIFF_CHARS) return;
    const format = decide();
    if (format || head.length >= MAX_SNIFF_CHARS) reader = start(format);
  });
  return (reader ?? start(decide())).end();
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
