// The interchange CSV of allocation events (docs/capture.md): one row per record in recorded order,
// a header row, exactly the columns below. Read with csv-parse as a stream (.csv.gz through zlib);
// written by formatEventCsvRow, so reading and writing share one definition of the schema.

import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { constants as zc, createGunzip, gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse';
import type { Event, EventBatch, EventOp } from '../model/types.js';
import { batchOfEvents } from './event-batch.js';
import { InputError, showValue } from '../util/errors.js';
import type { EventSource } from './events-bundle.js';
import { gzipError } from './text-file.js';

export const CSV_COLUMNS = ['op', 'domain', 'thread', 'size', 'ptr', 'result', 'nested', 'generation', 'collected', 'uncollectable', 'label'] as const;
export const CSV_HEADER = CSV_COLUMNS.join(',');

const OPS: readonly EventOp[] = ['malloc', 'calloc', 'realloc', 'free', 'arena_alloc', 'arena_free', 'gc_start', 'gc_stop', 'stats', 'note'];
const OP_SET = new Set<string>(OPS);

/** Which columns each op fills: r = required, o = optional (empty allowed), absent = must be empty. */
type Need = 'r' | 'o';
const SCHEMA: Record<EventOp, Partial<Record<(typeof CSV_COLUMNS)[number], Need>>> = {
  malloc: { domain: 'r', size: 'r', result: 'r' },
  calloc: { domain: 'r', size: 'r', result: 'r' },
  realloc: { domain: 'r', size: 'r', ptr: 'r', result: 'r' },
  free: { domain: 'r', ptr: 'r' },
  arena_alloc: { size: 'r', result: 'r', nested: 'r' },
  arena_free: { size: 'r', ptr: 'r', nested: 'r' },
  gc_start: { generation: 'o', collected: 'o', uncollectable: 'o' },
  gc_stop: { generation: 'o', collected: 'o', uncollectable: 'o' },
  stats: { size: 'o', label: 'o' },
  note: { label: 'o' },
};

const hex = (n: number) => `0x${n.toString(16)}`;
const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** One CSV line (with its newline) for an event; `label` overrides the event's (a path made relative to the CSV). */
export function formatEventCsvRow(e: Event, label: string | undefined = e.label): string {
  const s = SCHEMA[e.op];
  const num = (v: number | undefined) => (v === undefined || v < 0 ? '' : String(v));
  return [
    e.op,
    s.domain ? (e.domain ?? '') : '',
    String(e.thread),
    s.size ? num(e.size) : '',
    s.ptr ? hex(e.ptr) : '',
    s.result ? hex(e.result) : '',
    s.nested ? (e.nested ? '1' : '0') : '',
    s.generation ? num(e.generation) : '',
    s.collected ? num(e.collected) : '',
    s.uncollectable ? num(e.uncollectable) : '',
    s.label ? quote(label ?? '') : '',
  ].join(',') + '\n';
}

/** The first bytes of a file, gunzipped if it is gzip; never throws. */
function headText(path: string, bytes = 65536): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    let head = buf.subarray(0, n);
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) head = gunzipSync(head, { finishFlush: zc.Z_SYNC_FLUSH });
    return head.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Cheap: does the file start with the events CSV header? Never throws. */
export function sniffEventsCsv(path: string): boolean {
  const text = headText(path, 4096).replace(/^\uFEFF/, '');
  const nl = text.indexOf('\n');
  const first = (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, '');
  return first === CSV_HEADER;
}

/** Per op, what each column needs, by column index (0 = must be empty). */
const NEEDS: Record<EventOp, readonly (Need | 0)[]> = Object.fromEntries(
  OPS.map((op) => [op, CSV_COLUMNS.map((c) => (c === 'op' || c === 'thread' ? 'r' : (SCHEMA[op][c] ?? 0)))]),
) as Record<EventOp, (Need | 0)[]>;

/** A non-negative decimal integer below 2^53, or -1. */
function decimal(v: string): number {
  const n = v.length;
  if (n === 0 || n > 16 || (n > 1 && v.charCodeAt(0) === 48)) return -1;
  let x = 0;
  for (let i = 0; i < n; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    x = x * 10 + d;
  }
  return x <= Number.MAX_SAFE_INTEGER ? x : -1;
}

/** 0x + 1–14 hex digits below 2^53, or -1. */
function hexPointer(v: string): number {
  const n = v.length;
  if (n < 3 || n > 16 || v.charCodeAt(0) !== 48 || (v.charCodeAt(1) | 32) !== 120) return -1;
  let x = 0;
  for (let i = 2; i < n; i++) {
    const c = v.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : (c | 32) >= 97 && (c | 32) <= 102 ? (c | 32) - 87 : -1;
    if (d < 0) return -1;
    x = x * 16 + d;
  }
  return x <= Number.MAX_SAFE_INTEGER ? x : -1;
}

class RowReader {
  constructor(private readonly file: string) {}

  fail(line: number, col: number, found: string, expected: string): never {
    throw new InputError({ file: this.file, line }, `column ${col + 1} (${CSV_COLUMNS[col]}): expected ${expected}, found ${found === '' ? 'an empty field' : showValue(found)}`, 'E_CSV_SCHEMA');
  }

  int(line: number, col: number, v: string): number {
    const n = decimal(v);
    if (n < 0) this.fail(line, col, v, 'a non-negative decimal integer');
    return n;
  }

  pointer(line: number, col: number, v: string): number {
    const n = hexPointer(v);
    if (n < 0) this.fail(line, col, v, /^0x[0-9a-fA-F]+$/.test(v) ? 'a pointer below 2^53' : 'a pointer in hex (0x…)');
    return n;
  }

  row(rec: string[], line: number): Event {
    const opText = rec[0]!;
    const needs = OP_SET.has(opText) ? NEEDS[opText as EventOp] : this.fail(line, 0, opText, `an op (${OPS.join(', ')})`);
    const op = opText as EventOp;
    for (let c = 1; c < needs.length; c++) {
      const need = needs[c];
      const v = rec[c]!;
      if (need === 0) {
        if (v !== '') this.fail(line, c, v, `an empty field for ${op}`);
      } else if (need === 'r' && v === '') this.fail(line, c, v, `a value for ${op}`);
    }
    const e: Event = { op, thread: this.int(line, 2, rec[2]!), size: 0, ptr: 0, result: 0 };
    if (needs[1]) {
      const d = rec[1]!;
      if (d !== 'mem' && d !== 'obj') this.fail(line, 1, d, 'mem or obj');
      e.domain = d;
    }
    if (needs[3]) e.size = rec[3] === '' ? -1 : this.int(line, 3, rec[3]!);
    if (needs[4]) e.ptr = this.pointer(line, 4, rec[4]!);
    if (needs[5]) e.result = this.pointer(line, 5, rec[5]!);
    if (needs[6]) {
      const n = rec[6]!;
      if (n !== '0' && n !== '1') this.fail(line, 6, n, '0 or 1');
      e.nested = n === '1';
    }
    if (needs[7]) {
      e.generation = rec[7] === '' ? -1 : this.int(line, 7, rec[7]!);
      e.collected = rec[8] === '' ? -1 : this.int(line, 8, rec[8]!);
      e.uncollectable = rec[9] === '' ? -1 : this.int(line, 9, rec[9]!);
    }
    if (needs[10]) e.label = rec[10]!;
    return e;
  }
}

/** Line breaks inside a record's (quoted) fields. */
function breaksIn(rec: string[]): number {
  let n = 0;
  for (const f of rec) {
    if (f.length === 0) continue;
    for (let i = f.indexOf('\n'); i >= 0; i = f.indexOf('\n', i + 1)) n++;
  }
  return n;
}

/** Stream the events of a CSV (or .csv.gz) file in batches. Schema errors name the line and column. */
export async function* readEventsCsv(file: string, batchSize = 4096): AsyncIterable<Event[]> {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const gz = isGzip(file);
  const src = gz ? raw.pipe(createGunzip()) : raw;
  if (gz) raw.on('error', (err) => src.destroy(err));
  // No `info: true`: csv-parse then builds an object per record and reads 4× slower. The line of a
  // record is counted here instead (one per record plus the breaks inside quoted fields).
  const parser = src.pipe(parse({ bom: true, relax_quotes: false, skip_empty_lines: false }));
  src.on('error', (err: Error) => parser.destroy(err));
  const rows = new RowReader(file);
  let batch: Event[] = [];
  let header = false;
  let line = 1;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const start = line;
      line += 1 + breaksIn(record);
      if (!header) {
        const got = record.join(',');
        if (got !== CSV_HEADER) throw new InputError({ file, line: start }, `expected the header ${CSV_HEADER}, found ${showValue(got, 120)}`, 'E_CSV_HEADER');
        header = true;
        continue;
      }
      if (record.length !== CSV_COLUMNS.length) throw new InputError({ file, line: start }, `expected ${CSV_COLUMNS.length} columns, found ${record.length}`, 'E_CSV_SCHEMA');
      batch.push(rows.row(record, start));
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const e = err as Error & { code?: string; lines?: number };
    if (e.code === 'ENOENT') throw new InputError({ file }, 'no such file', 'E_READ');
    if (e.code?.startsWith('CSV_')) throw new InputError({ file, line: e.lines }, `expected CSV, found ${e.message.replace(/ on line \d+$/, '')} (${e.code})`, 'E_CSV');
    if (e.code?.startsWith('Z_')) throw gzipError(file, e.message);
    throw new InputError({ file }, `cannot read: ${e.message}`, 'E_READ');
  } finally {
    parser.destroy();
    raw.destroy();
  }
  if (!header) throw new InputError({ file, line: 1 }, `expected the header ${CSV_HEADER}, found an empty file`, 'E_CSV_HEADER');
  if (batch.length) yield batch;
}

function isGzip(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function* columnsOf(batches: AsyncIterable<Event[]>): AsyncIterable<EventBatch> {
  let into: EventBatch | undefined;
  for await (const events of batches) yield (into = batchOfEvents(events, into));
}

/** Open an events CSV: stats labels are paths relative to the CSV's directory. */
export function openEventsCsv(file: string): EventSource {
  const base = dirname(file);
  return {
    format: 'events-csv',
    file,
    resolveLabel: (label) => join(base, label),
    batches: () => readEventsCsv(file),
    columns: () => columnsOf(readEventsCsv(file)),
  };
}
