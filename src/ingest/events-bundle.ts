// A capture bundle (docs/capture.md): manifest.json + events.bin[.gz] + stats/NNN.txt + gc.jsonl.
// The events are streamed, never loaded whole: a long run is tens of millions of 32-byte records.
//
// events.bin is what src/capture/recorder/cpymem_recorder.c writes: a 64-byte header, then fixed
// 32-byte little-endian records {u8 op, u8 flags, u16 thread, i32 young, u64 size, u64 ptr,
// u64 result}; `young` is a delta from the previous record that carried one.

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { EVENT_OPS, FLAG_YOUNG, OP_ARENA_FREE, OP_GC_START, OP_GC_STOP, OP_NOTE, OP_STATS, type Event, type EventBatch, type EventOp, type Recording } from '../model/types.js';
import { InputError } from '../util/errors.js';
import { createEventBatch, eventsOfBatch } from './event-batch.js';
import { gzipError } from './text-file.js';

export const BUNDLE_FORMAT = 'cpymem-capture';
export const EVENTS_MAGIC = 'CPYMEMEV';
export const EVENTS_HEADER_SIZE = 64;
export const RECORD_SIZE = 32;

/** Op codes of events.bin, index = code. */
export const OP_CODES: readonly (EventOp | undefined)[] = EVENT_OPS;
const TWO32 = 2 ** 32;
/** Above this a u64 no longer fits a JS number exactly (2^53). */
const MAX_HI = 2 ** 21;
/** The bits of a high word at or above MAX_HI. */
const HI_OVERFLOW = ~(MAX_HI - 1);

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
  /** The same events as column batches, each valid until the next is asked for (EventBatch). */
  columns(): AsyncIterable<EventBatch>;
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
 * whole-file and streaming use). The bytes are copied into a 4-byte-aligned work buffer (a
 * decompressed chunk can start anywhere) and the records read as 32-bit words into the columns of
 * one EventBatch, reused from push to push: no object per record. A record split across chunks
 * stays in the work buffer until the rest arrives.
 */
export class EventsBinDecoder {
  header?: EventsHeader;
  /** Records decoded so far. */
  records = 0;
  private work = new Uint8Array(0);
  private words = new Uint32Array(0);
  /** Bytes waiting in `work`: the header, or less than one record. */
  private have = 0;
  /** File offset of work[0]. */
  private offset = 0;
  /** The young count carried so far: records store it as a delta from the previous one. */
  private young = 0;
  private batch = createEventBatch(0);

  constructor(
    private readonly file: string,
    private readonly labelOf: (op: 'stats' | 'note', index: number, offset: number) => string | undefined = () => undefined,
  ) {}

  /** Decode what can be decoded of this chunk; returns the events. */
  push(chunk: Uint8Array): Event[] {
    return eventsOfBatch(this.pushBatch(chunk));
  }

  /** Decode what can be decoded of this chunk into the decoder's batch (valid until the next push). */
  pushBatch(chunk: Uint8Array): EventBatch {
    const need = this.have + chunk.length;
    if (need > this.work.length) {
      // Room for the carried bytes and the chunk, in whole words; the stream's chunks are ≤ 1 MiB.
      const work = new Uint8Array(Math.max(need + 3, 2 * this.work.length, 1024) & ~3);
      work.set(this.work.subarray(0, this.have));
      this.work = work;
      this.words = new Uint32Array(work.buffer);
    }
    this.work.set(chunk, this.have);
    this.have = need;
    let pos = 0;
    if (!this.header) {
      if (this.have < EVENTS_HEADER_SIZE) return this.emptyBatch();
      this.header = parseEventsHeader(Buffer.from(this.work.buffer, 0, EVENTS_HEADER_SIZE), this.file);
      pos = EVENTS_HEADER_SIZE;
    }
    const n = Math.floor((this.have - pos) / RECORD_SIZE);
    const b = this.batchOf(n);
    this.decodeRecords(b, pos >> 2, n);
    pos += n * RECORD_SIZE;
    this.records += n;
    this.offset += pos;
    if (pos < this.have) this.work.copyWithin(0, pos, this.have);
    this.have -= pos;
    return b;
  }

  /** Call at the end of input: a missing header or a trailing partial record is an error. */
  end(): void {
    if (!this.header) throw new InputError({ file: this.file, offset: this.have }, `expected a ${EVENTS_HEADER_SIZE}-byte header, found ${this.have} bytes`, 'E_EVENTS_HEADER');
    if (this.have) {
      throw new InputError({ file: this.file, offset: this.offset }, `expected a whole ${RECORD_SIZE}-byte record, found ${this.have} trailing bytes (truncated file?)`, 'E_EVENTS_TRUNCATED');
    }
  }

  private emptyBatch(): EventBatch {
    this.batch.length = 0;
    this.batch.labels.clear();
    return this.batch;
  }

  private batchOf(n: number): EventBatch {
    if (n > this.batch.op.length) this.batch = createEventBatch(Math.max(n, 2 * this.batch.op.length));
    this.batch.length = n;
    this.batch.labels.clear();
    return this.batch;
  }

  /**
   * The hot loop: n records from word w0 of the work buffer. Word 0 of a record is op | flags << 8 |
   * thread << 16, word 1 the young delta, then size, ptr and result as (low, high) word pairs.
   * Allocator and arena records whose u64s fit 53 bits are stored straight; the rest (gc, stats,
   * note, anything out of range) take decodeOther().
   */
  private decodeRecords(b: EventBatch, w0: number, n: number): void {
    const words = this.words;
    const { op, flags, thread, young, size, ptr, result } = b;
    let yc = this.young;
    for (let i = 0, w = w0; i < n; i++, w += 8) {
      const head = words[w]!;
      const code = head & 0xff;
      const f = (head >>> 8) & 0xff;
      op[i] = code;
      flags[i] = f;
      thread[i] = head >>> 16;
      if (f & FLAG_YOUNG) yc = (yc + (words[w + 1]! | 0)) | 0;
      young[i] = yc;
      const sHi = words[w + 3]!;
      const pHi = words[w + 5]!;
      const rHi = words[w + 7]!;
      if (code !== 0 && code <= OP_ARENA_FREE && ((sHi | pHi | rHi) & HI_OVERFLOW) === 0) {
        size[i] = sHi * TWO32 + words[w + 2]!;
        ptr[i] = pHi * TWO32 + words[w + 4]!;
        result[i] = rHi * TWO32 + words[w + 6]!;
      } else {
        this.decodeOther(b, i, w, code, this.offset + 4 * w);
      }
    }
    this.young = yc;
  }

  private u64(at: number, offset: number, what: string, signedAllOnes: boolean): number {
    const lo = this.words[at]!;
    const hi = this.words[at + 1]!;
    if (hi >= MAX_HI) {
      if (signedAllOnes && hi === 0xffffffff && lo === 0xffffffff) return -1;
      throw new InputError({ file: this.file, offset }, `expected ${what} below 2^53, found 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`, 'E_EVENTS_VALUE');
    }
    return hi * TWO32 + lo;
  }

  /** The records the hot loop leaves: gc, stats and note records, and every error. */
  private decodeOther(b: EventBatch, i: number, w: number, code: number, offset: number): void {
    const op = OP_CODES[code];
    if (!op) throw new InputError({ file: this.file, offset }, `expected an op code 1–${OP_CODES.length - 1}, found ${code}`, 'E_EVENTS_OP');
    b.size[i] = 0;
    b.ptr[i] = 0;
    b.result[i] = 0;
    if (code === OP_GC_START || code === OP_GC_STOP) {
      b.size[i] = this.u64(w + 2, offset, 'a generation', true);
      b.ptr[i] = this.u64(w + 4, offset, 'a count', true);
      b.result[i] = this.u64(w + 6, offset, 'a count', true);
    } else {
      b.size[i] = this.u64(w + 2, offset, 'a size', code === OP_STATS);
      if (code === OP_STATS || code === OP_NOTE) {
        const index = this.u64(w + 4, offset, 'an index', false);
        const label = this.labelOf(op as 'stats' | 'note', index, offset);
        if (label !== undefined) b.labels.set(i, label);
      } else {
        b.ptr[i] = this.u64(w + 4, offset, 'a pointer', false);
        b.result[i] = this.u64(w + 6, offset, 'a pointer', false);
      }
    }
  }
}

/** Stream the records of an events.bin or events.bin.gz file, as column batches (see EventBatch). */
export async function* readEventsBinBatches(file: string, labelOf?: (op: 'stats' | 'note', index: number, offset: number) => string | undefined): AsyncIterable<EventBatch> {
  const dec = new EventsBinDecoder(file, labelOf);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const gz = file.endsWith('.gz');
  // zlib inflates on libuv's thread pool: while this thread decodes one chunk, the next is inflated.
  const stream = gz ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw;
  if (gz) raw.on('error', (err) => stream.destroy(err));
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const batch = dec.pushBatch(chunk);
      if (batch.length) yield batch;
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError({ file }, 'no such file', 'E_READ');
    if (gz && code?.startsWith('Z_')) throw gzipError(file, (err as Error).message);
    throw new InputError({ file }, `cannot read: ${(err as Error).message}`, 'E_READ');
  } finally {
    stream.destroy();
    raw.destroy();
  }
  dec.end();
}

/** Stream the records of an events.bin or events.bin.gz file, as Event objects. */
export async function* readEventsBin(file: string, labelOf?: (op: 'stats' | 'note', index: number, offset: number) => string | undefined): AsyncIterable<Event[]> {
  for await (const batch of readEventsBinBatches(file, labelOf)) yield eventsOfBatch(batch);
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
    columns: () => readEventsBinBatches(file, labelOf),
  };
}
