// A capture bundle (docs/capture.md): manifest.json + events.bin[.gz] + stats/NNN.txt + gc.jsonl.
// The events are streamed, never loaded whole: a long run is tens of millions of 32-byte records.
//
// events.bin is what src/capture/recorder/cpymem_recorder.c writes: a 64-byte header, then fixed
// 32-byte little-endian records {u8 op, u8 flags, u16 thread, i32 young, u64 size, u64 ptr,
// u64 result}; `young` is a delta from the previous record that carried one.

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Event, EventDomain, EventOp, Recording } from '../model/types.js';
import { InputError } from '../util/errors.js';

export const BUNDLE_FORMAT = 'cpymem-capture';
export const EVENTS_MAGIC = 'CPYMEMEV';
export const EVENTS_HEADER_SIZE = 64;
export const RECORD_SIZE = 32;

/** Op codes of events.bin, index = code. */
export const OP_CODES: readonly (EventOp | undefined)[] = [
  undefined, 'malloc', 'calloc', 'realloc', 'free', 'arena_alloc', 'arena_free', 'gc_start', 'gc_stop', 'stats', 'note',
];
const DOMAINS: readonly (EventDomain | undefined)[] = [undefined, 'mem', 'obj', undefined];
const FLAG_NESTED = 0x04;
const FLAG_YOUNG = 0x08;
const TWO32 = 2 ** 32;
/** Above this a u64 no longer fits a JS number exactly (2^53). */
const MAX_HI = 2 ** 21;

export interface EventsHeader {
  formatVersion: number;
  recordSize: number;
  hexversion: number;
  pid: number;
  features: number;
  startRealtimeNs: bigint;
  pointerSize: number;
}

export interface EventSource {
  format: 'events-bundle' | 'events-csv';
  /** The path given (bundle directory or CSV file). */
  file: string;
  /** Present for bundles. */
  manifest?: Recording;
  /** A stats label (relative dump path) as a path on disk. */
  resolveLabel(label: string): string;
  /** The events in recorded order, in batches (cheaper than one await per event). */
  batches(): AsyncIterable<Event[]>;
}

/** Every event of a source, one at a time. */
export async function* eventsOf(source: EventSource): AsyncIterable<Event> {
  for await (const batch of source.batches()) yield* batch;
}

/** Cheap: is this path a capture bundle directory (or its manifest.json)? Never throws. */
export function sniffEventsBundle(path: string): boolean {
  try {
    const dir = statSync(path).isDirectory() ? path : undefined;
    const manifest = dir ? join(dir, 'manifest.json') : path.endsWith('manifest.json') ? path : undefined;
    if (!manifest || !existsSync(manifest)) return false;
    // The whole manifest: its keys are sorted, so "format" can come after a long "counts" or "files".
    if (statSync(manifest).size > 64 * 1024 * 1024) return false;
    return readFileSync(manifest, 'utf8').includes(`"format": "${BUNDLE_FORMAT}"`);
  } catch {
    return false;
  }
}

function bundleDir(path: string): string {
  try {
    return statSync(path).isDirectory() ? path : join(path, '..');
  } catch {
    throw new InputError({ file: path }, 'no such file or directory', 'E_READ');
  }
}

/** Read and check a bundle's manifest. */
export function readBundleManifest(path: string): Recording {
  const dir = bundleDir(path);
  const file = join(dir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError({ file }, code === 'ENOENT' ? 'no such file (not a capture bundle?)' : `cannot read: ${(err as Error).message}`, 'E_READ');
  }
  let m: Recording;
  try {
    m = JSON.parse(text) as Recording;
  } catch (err) {
    throw new InputError({ file }, `expected JSON, found a syntax error (${(err as Error).message})`, 'E_BUNDLE_MANIFEST');
  }
  if (m === null || typeof m !== 'object' || m.format !== BUNDLE_FORMAT) {
    throw new InputError({ file }, `expected "format": "${BUNDLE_FORMAT}", found ${JSON.stringify((m as { format?: unknown } | null)?.format ?? null)}`, 'E_BUNDLE_MANIFEST');
  }
  if (m.schema !== 1) throw new InputError({ file }, `expected "schema": 1, found ${JSON.stringify(m.schema)}`, 'E_BUNDLE_MANIFEST');
  if (!Array.isArray(m.markers) || !Array.isArray(m.notes)) throw new InputError({ file }, 'expected "markers" and "notes" arrays', 'E_BUNDLE_MANIFEST');
  return m;
}

/** The events file of a bundle: events.bin.gz, or events.bin left uncompressed. */
export function bundleEventsFile(dir: string): string {
  for (const name of ['events.bin.gz', 'events.bin']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new InputError({ file: join(dir, 'events.bin.gz') }, 'no such file (the bundle has no events)', 'E_READ');
}

/** Parse the 64-byte header of events.bin. */
export function parseEventsHeader(buf: Buffer, file: string): EventsHeader {
  if (buf.length < EVENTS_HEADER_SIZE) throw new InputError({ file, offset: buf.length }, `expected a ${EVENTS_HEADER_SIZE}-byte header, found ${buf.length} bytes`, 'E_EVENTS_HEADER');
  if (buf.toString('latin1', 0, 8) !== EVENTS_MAGIC) throw new InputError({ file, offset: 0 }, `expected magic ${EVENTS_MAGIC}, found ${JSON.stringify(buf.toString('latin1', 0, 8))}`, 'E_EVENTS_HEADER');
  const formatVersion = buf.readUInt32LE(8);
  if (formatVersion !== 1) throw new InputError({ file, offset: 8 }, `expected format version 1, found ${formatVersion} (big-endian or newer recorder?)`, 'E_EVENTS_HEADER');
  const headerSize = buf.readUInt32LE(12);
  if (headerSize !== EVENTS_HEADER_SIZE) throw new InputError({ file, offset: 12 }, `expected header size ${EVENTS_HEADER_SIZE}, found ${headerSize}`, 'E_EVENTS_HEADER');
  const recordSize = buf.readUInt32LE(16);
  if (recordSize !== RECORD_SIZE) throw new InputError({ file, offset: 16 }, `expected record size ${RECORD_SIZE}, found ${recordSize}`, 'E_EVENTS_HEADER');
  return {
    formatVersion,
    recordSize,
    hexversion: buf.readUInt32LE(20),
    pid: buf.readUInt32LE(24),
    features: buf.readUInt32LE(28),
    startRealtimeNs: buf.readBigUInt64LE(32),
    pointerSize: buf.readUInt32LE(48),
  };
}

/**
 * Decodes events.bin bytes pushed in chunks of any size (csv-parse style: one push-based core for
 * whole-file and streaming use). Records are decoded in place; a record split across chunks is
 * carried over.
 */
export class EventsBinDecoder {
  header?: EventsHeader;
  /** Records decoded so far. */
  records = 0;
  private carry: Buffer = Buffer.alloc(0);
  private offset = 0;
  /** The young count carried so far: records store it as a delta from the previous one. */
  private young = 0;

  constructor(
    private readonly file: string,
    private readonly labelOf: (op: 'stats' | 'note', index: number, offset: number) => string | undefined = () => undefined,
  ) {}

  /** Decode what can be decoded of this chunk; returns the events. */
  push(chunk: Buffer): Event[] {
    let buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let pos = 0;
    if (!this.header) {
      if (buf.length < EVENTS_HEADER_SIZE) {
        this.carry = Buffer.from(buf);
        return [];
      }
      this.header = parseEventsHeader(buf.subarray(0, EVENTS_HEADER_SIZE), this.file);
      pos = EVENTS_HEADER_SIZE;
      this.offset = EVENTS_HEADER_SIZE;
    }
    const out: Event[] = [];
    const end = pos + Math.floor((buf.length - pos) / RECORD_SIZE) * RECORD_SIZE;
    for (; pos < end; pos += RECORD_SIZE) {
      out.push(this.decode(buf, pos, this.offset));
      this.offset += RECORD_SIZE;
    }
    this.records += out.length;
    this.carry = pos < buf.length ? Buffer.from(buf.subarray(pos)) : Buffer.alloc(0);
    buf = Buffer.alloc(0);
    return out;
  }

  /** Call at the end of input: a missing header or a trailing partial record is an error. */
  end(): void {
    if (!this.header) throw new InputError({ file: this.file, offset: this.carry.length }, `expected a ${EVENTS_HEADER_SIZE}-byte header, found ${this.carry.length} bytes`, 'E_EVENTS_HEADER');
    if (this.carry.length) {
      throw new InputError({ file: this.file, offset: this.offset }, `expected a whole ${RECORD_SIZE}-byte record, found ${this.carry.length} trailing bytes (truncated file?)`, 'E_EVENTS_TRUNCATED');
    }
  }

  private u64(buf: Buffer, at: number, offset: number, what: string, signedAllOnes: boolean): number {
    const lo = buf.readUInt32LE(at);
    const hi = buf.readUInt32LE(at + 4);
    if (hi >= MAX_HI) {
      if (signedAllOnes && hi === 0xffffffff && lo === 0xffffffff) return -1;
      throw new InputError({ file: this.file, offset }, `expected ${what} below 2^53, found 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`, 'E_EVENTS_VALUE');
    }
    return hi * TWO32 + lo;
  }

  private decode(buf: Buffer, at: number, offset: number): Event {
    const code = buf[at]!;
    const op = OP_CODES[code];
    if (!op) throw new InputError({ file: this.file, offset }, `expected an op code 1–${OP_CODES.length - 1}, found ${code}`, 'E_EVENTS_OP');
    const flags = buf[at + 1]!;
    const e: Event = { op, thread: buf.readUInt16LE(at + 2), size: 0, ptr: 0, result: 0 };
    const isGc = op === 'gc_start' || op === 'gc_stop';
    if (isGc) {
      e.generation = this.u64(buf, at + 8, offset, 'a generation', true);
      e.collected = this.u64(buf, at + 16, offset, 'a count', true);
      e.uncollectable = this.u64(buf, at + 24, offset, 'a count', true);
    } else {
      e.size = this.u64(buf, at + 8, offset, 'a size', op === 'stats');
      if (op === 'stats' || op === 'note') {
        const index = this.u64(buf, at + 16, offset, 'an index', false);
        const label = this.labelOf(op, index, offset);
        if (label !== undefined) e.label = label;
      } else {
        e.ptr = this.u64(buf, at + 16, offset, 'a pointer', false);
        e.result = this.u64(buf, at + 24, offset, 'a pointer', false);
      }
    }
    const domain = DOMAINS[flags & 3];
    if (domain && (op === 'malloc' || op === 'calloc' || op === 'realloc' || op === 'free')) e.domain = domain;
    if (op === 'arena_alloc' || op === 'arena_free') e.nested = (flags & FLAG_NESTED) !== 0;
    if (flags & FLAG_YOUNG) {
      this.young = (this.young + buf.readInt32LE(at + 4)) | 0;
      e.young = this.young;
    }
    return e;
  }
}

/** Stream the records of an events.bin or events.bin.gz file. */
export async function* readEventsBin(file: string, labelOf?: (op: 'stats' | 'note', index: number, offset: number) => string | undefined): AsyncIterable<Event[]> {
  const dec = new EventsBinDecoder(file, labelOf);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const gz = file.endsWith('.gz');
  const stream = gz ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw;
  if (gz) raw.on('error', (err) => stream.destroy(err));
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const events = dec.push(chunk);
      if (events.length) yield events;
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError({ file }, 'no such file', 'E_READ');
    if (gz && code?.startsWith('Z_')) throw new InputError({ file, offset: 0 }, `expected a complete gzip stream, found a damaged one (${(err as Error).message})`, 'E_GZIP');
    throw new InputError({ file }, `cannot read: ${(err as Error).message}`, 'E_READ');
  } finally {
    stream.destroy();
    raw.destroy();
  }
  dec.end();
}

/** Open a bundle for reading: the manifest now, the events as they are iterated. */
export function openEventsBundle(path: string): EventSource {
  const dir = bundleDir(path);
  const manifest = readBundleManifest(dir);
  const file = bundleEventsFile(dir);
  const labelOf = (op: 'stats' | 'note', index: number, offset: number): string => {
    const entry = op === 'stats' ? manifest.markers[index] : manifest.notes[index];
    if (!entry) throw new InputError({ file, offset }, `expected a ${op === 'stats' ? 'marker' : 'note'} index below ${op === 'stats' ? manifest.markers.length : manifest.notes.length} (manifest.json), found ${index}`, 'E_EVENTS_INDEX');
    return op === 'stats' ? ((entry as Recording['markers'][number]).file ?? '') : (entry as Recording['notes'][number]).text;
  };
  return {
    format: 'events-bundle',
    file: path,
    manifest,
    resolveLabel: (label) => join(dir, label),
    batches: () => readEventsBin(file, labelOf),
  };
}
