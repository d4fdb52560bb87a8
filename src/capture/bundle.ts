// Turning the recorder's working directory into a bundle (docs/capture.md): events.bin gzipped as
// it is counted, the recorder's side files (markers, notes, status) folded into manifest.json,
// every file hashed. The directory is renamed into place only when complete.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { EVENTS_HEADER_SIZE, OP_CODES, RECORD_SIZE, parseEventsHeader } from '../ingest/events-bundle.js';
import type { CaptureMarker, CaptureMarkerReason, EventDomain, EventOp, Recording } from '../model/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { CpymemError } from '../util/errors.js';
import { VERSION } from '../version.js';
import type { PythonInfo } from './interpreter.js';
import type { RecorderBuild } from './recorder-build.js';

export interface RecorderStatus {
  records: number;
  calls: number;
  markers: number;
  notes: number;
  gc_events: number;
  threads: number;
  helper_attached: boolean;
  /** Records appended before the helper attached (-1: never); older recorders do not write it. */
  attach_record?: number;
  hooks_at_attach: boolean | null;
  hooks_at_end: boolean;
  hooks_lost: boolean;
  allocator_at_end: string | null;
  exit_path: 'exit' | '_exit';
  finalized: boolean;
  t_ns: number;
}

export interface BundleInput {
  work: string;
  python: PythonInfo;
  recorder: RecorderBuild;
  command: string[];
  startTime: Date;
  durationMs: number;
  exit: { status: number | null; signal: string | null };
  statsAt: number[];
  statsEvery: number | null;
  env: Record<string, string | null>;
  warnings: string[];
  gzipLevel?: number;
  onProgress?(bytes: number, total: number): void;
}

type Counts = Recording['counts'];

function emptyCounts(): Counts {
  const byOp = Object.fromEntries(OP_CODES.filter((o): o is EventOp => !!o).map((o) => [o, 0])) as Record<EventOp, number>;
  return {
    records: 0,
    calls: 0,
    byOp,
    byDomain: { mem: 0, obj: 0 } as Record<EventDomain, number>,
    arenas: { allocated: 0, freed: 0, nestedAllocated: 0, nestedFreed: 0 },
    threads: 0,
    markers: 0,
    gcCollections: [],
  };
}

/** Counts straight from the record bytes (no Event objects: a bundle can hold tens of millions). */
class RawCounter {
  readonly counts = emptyCounts();
  private carry = Buffer.alloc(0);
  private header = false;
  private maxThread = -1;

  constructor(private readonly file: string) {}

  push(chunk: Buffer): void {
    let buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let pos = 0;
    if (!this.header) {
      if (buf.length < EVENTS_HEADER_SIZE) {
        this.carry = Buffer.from(buf);
        return;
      }
      parseEventsHeader(buf.subarray(0, EVENTS_HEADER_SIZE), this.file);
      this.header = true;
      pos = EVENTS_HEADER_SIZE;
    }
    const c = this.counts;
    for (; pos + RECORD_SIZE <= buf.length; pos += RECORD_SIZE) {
      const op = OP_CODES[buf[pos]!];
      if (!op) throw new CpymemError(`${this.file}: byte ${pos}: the recorder wrote an unknown op code ${buf[pos]}`, 2, 'E_CAPTURE_EVENTS');
      const flags = buf[pos + 1]!;
      const thread = buf.readUInt16LE(pos + 2);
      if (thread > this.maxThread) this.maxThread = thread;
      c.records++;
      c.byOp[op]++;
      switch (op) {
        case 'malloc':
        case 'calloc':
        case 'realloc':
        case 'free':
          c.calls++;
          if ((flags & 3) === 1) c.byDomain.mem++;
          else if ((flags & 3) === 2) c.byDomain.obj++;
          break;
        case 'arena_alloc':
          c.arenas.allocated++;
          if (flags & 4) c.arenas.nestedAllocated++;
          break;
        case 'arena_free':
          c.arenas.freed++;
          if (flags & 4) c.arenas.nestedFreed++;
          break;
        case 'gc_stop': {
          const g = buf.readUInt32LE(pos + 8);
          if (g < 16) {
            while (c.gcCollections.length <= g) c.gcCollections.push(0);
            c.gcCollections[g]!++;
          }
          break;
        }
        case 'stats':
          c.markers++;
          break;
        default:
          break;
      }
    }
    this.carry = pos < buf.length ? Buffer.from(buf.subarray(pos)) : Buffer.alloc(0);
    buf = Buffer.alloc(0);
    this.counts.threads = this.maxThread + 1;
  }
}

function sha256File(path: string): { bytes: number; sha256: string } {
  const data = readFileSync(path);
  return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

interface RawMarker {
  index: number;
  record: number;
  calls: number;
  reason: CaptureMarkerReason;
  label: string;
  file: string;
  dumped: boolean;
  printed: number;
  bytes: number;
  allocated_blocks_before: number;
  allocated_blocks_after: number;
  allocated_blocks_source: string | null;
  python_allocated_blocks: number;
  hooks_installed: boolean;
  allocator: string | null;
  thread: number;
  t_ns: number;
}

const orNull = (n: number) => (n < 0 ? null : n);

function toMarker(m: RawMarker): CaptureMarker {
  const out: CaptureMarker = {
    index: m.index,
    record: m.record,
    calls: m.calls,
    reason: m.reason,
    bytes: Math.max(0, m.bytes),
    allocatedBlocksBefore: orNull(m.allocated_blocks_before),
    allocatedBlocksAfter: orNull(m.allocated_blocks_after),
    allocatedBlocksSource: m.allocated_blocks_source,
    pythonAllocatedBlocks: orNull(m.python_allocated_blocks),
    hooksInstalled: m.hooks_installed,
    allocator: m.allocator,
    thread: m.thread,
    tNs: m.t_ns,
  };
  if (m.label) out.label = m.label;
  if (m.dumped && m.file) out.file = m.file;
  return out;
}

/** JSON with keys sorted at every level, so that manifests diff cleanly. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/** Gzip events.bin into events.bin.gz while counting its records; returns the counts. */
async function packEvents(work: string, level: number, onProgress?: (bytes: number, total: number) => void): Promise<{ counts: Counts; trailing: number }> {
  const raw = join(work, 'events.bin');
  if (!existsSync(raw) || statSync(raw).size < EVENTS_HEADER_SIZE) {
    throw new CpymemError('the recorder did not start in the interpreter (no events were written: was LD_PRELOAD ignored?)', 2, 'E_CAPTURE_NO_EVENTS');
  }
  const size = statSync(raw).size;
  // A process killed in the middle of a write leaves a partial record: keep whole records only.
  const trailing = (size - EVENTS_HEADER_SIZE) % RECORD_SIZE;
  if (trailing) truncateSync(raw, size - trailing);
  const total = size - trailing;
  const counter = new RawCounter(raw);
  let seen = 0;
  await pipeline(
    createReadStream(raw, { highWaterMark: 1 << 20 }),
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        try {
          counter.push(chunk);
        } catch (err) {
          done(err as Error);
          return;
        }
        seen += chunk.length;
        onProgress?.(seen, total);
        done(null, chunk);
      },
    }),
    createGzip({ level, memLevel: 9 }),
    createWriteStream(join(work, 'events.bin.gz')),
  );
  rmSync(raw);
  return { counts: counter.counts, trailing };
}

/** Finish a bundle in its working directory: events.bin.gz, manifest.json; side files removed. */
export async function finishBundle(b: BundleInput): Promise<Recording> {
  const { work } = b;
  const warnings = [...b.warnings];
  const statusFile = join(work, 'status.json');
  const status: RecorderStatus | null = existsSync(statusFile) ? (JSON.parse(readFileSync(statusFile, 'utf8')) as RecorderStatus) : null;
  const { counts, trailing } = await packEvents(work, b.gzipLevel ?? 6, b.onProgress);
  const markers = readJsonLines<RawMarker>(join(work, 'markers.jsonl')).map(toMarker);
  const notes = readJsonLines<{ index: number; record: number; text: string }>(join(work, 'notes.jsonl'));

  if (!status) {
    warnings.push(
      `the interpreter ended without the recorder's exit handler (${b.exit.signal ? `killed by ${b.exit.signal}` : `exit status ${b.exit.status}`}): records after the last flush are lost`,
    );
  } else if (status.records !== counts.records) {
    warnings.push(`the recorder appended ${status.records} records but events.bin holds ${counts.records}`);
  }
  if (trailing) warnings.push(`events.bin ended in a partial record (${trailing} bytes dropped)`);
  if (status && !status.helper_attached) {
    warnings.push('the Python helper did not load (python -S, -E or -I?): no GC records, no script markers, no dump before finalisation');
  }
  const lost = markers.find((m) => !m.hooksInstalled);
  if (status?.hooks_lost || lost || status?.hooks_at_attach === false) {
    const who = lost?.allocator ?? status?.allocator_at_end ?? null;
    warnings.push(
      `the recorder's allocator hooks were replaced${who ? ` by "${who}"` : ''} (PYTHONMALLOC, PYTHONDEVMODE or -X dev re-install the allocators during start-up): ` +
        `only ${counts.calls} MEM/OBJ calls were recorded, and the log does not describe the run`,
    );
  }
  for (const m of markers) {
    if (m.allocatedBlocksBefore !== null && m.allocatedBlocksBefore !== m.allocatedBlocksAfter) {
      warnings.push(`marker ${m.index}: sys.getallocatedblocks() changed during the dump (${m.allocatedBlocksBefore} → ${m.allocatedBlocksAfter})`);
    }
  }

  for (const f of ['markers.jsonl', 'notes.jsonl', 'status.json']) rmSync(join(work, f), { force: true });
  const files: Record<string, { bytes: number; sha256: string }> = {};
  const addFile = (rel: string) => {
    files[rel] = sha256File(join(work, rel));
  };
  addFile('events.bin.gz');
  addFile('gc.jsonl');
  for (const f of readdirSync(join(work, 'stats')).sort()) addFile(`stats/${f}`);

  const py = b.python;
  const manifest: Recording = {
    format: 'cpymem-capture',
    schema: 1,
    producer: { name: 'cpymem', version: VERSION },
    python: {
      executable: py.executable,
      binary: py.binary,
      requested: py.requested,
      version: py.version,
      hexversion: py.hexversion,
      implementation: py.implementation,
      pointerSize: py.pointerSize,
      platform: py.platform,
      machine: py.machine,
      build: { pymalloc: py.pymalloc, debug: py.debug, freeThreaded: py.freeThreaded, shared: py.shared, abiflags: py.abiflags },
    },
    recorder: {
      sourceSha256: b.recorder.sourceSha256,
      internalHeaders: b.recorder.internalHeaders,
      youngCount: b.recorder.internalHeaders,
      gcState: b.recorder.internalHeaders,
      allocatedBlocks: markers.find((m) => m.allocatedBlocksSource)?.allocatedBlocksSource ?? null,
      exitDump: py.params.exitDump,
      statsAt: b.statsAt,
      statsEvery: b.statsEvery,
    },
    command: b.command,
    startTime: b.startTime.toISOString(),
    durationMs: Math.round(b.durationMs),
    exit: { status: b.exit.status, signal: b.exit.signal, path: status?.exit_path ?? null, finalized: status?.finalized ?? null },
    hooks: {
      helperAttached: status?.helper_attached ?? false,
      atAttach: status?.hooks_at_attach ?? null,
      attachRecord: status?.attach_record !== undefined && status.attach_record >= 0 ? status.attach_record : null,
      atEnd: status?.hooks_at_end ?? null,
      lost: Boolean(status?.hooks_lost || lost),
      env: b.env,
    },
    counts,
    markers,
    notes,
    files,
    warnings,
  };
  writeFileAtomic(join(work, 'manifest.json'), stableJson(manifest));
  return manifest;
}

/** Move a finished working directory to its final name; with force, replace what is there. */
export function publishBundle(work: string, out: string, force: boolean): void {
  if (existsSync(out)) {
    if (!force) throw new CpymemError(`${out}: already exists, will not overwrite without --force`, 2, 'E_EXISTS');
    const trash = `${work}.old`;
    renameSync(out, trash);
    try {
      renameSync(work, out);
    } catch (err) {
      renameSync(trash, out);
      throw err;
    }
    rmSync(trash, { recursive: true, force: true });
    return;
  }
  renameSync(work, out);
}
