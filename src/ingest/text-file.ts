// Reading a text input in bounded memory: the file is read in 1 MiB pieces, gunzipped on the way
// when it starts with the gzip magic, decoded as UTF-8 and handed to a push-based reader, so a
// multi-gigabyte PYTHONMALLOCSTATS stream or GC log costs the reader's live state, not the file's
// size (and is not stopped by V8's limit of about 512 MiB on one string).
//
// Callers are synchronous (readInputFile) and Node has no synchronous streaming gunzip: gunzipSync
// wants the whole input, a zlib stream needs the event loop. A worker thread gunzips instead and
// hands the pieces over through shared memory while this thread waits on Atomics.wait, so the next
// piece is being inflated while this one is parsed.
//
// Errors keep the precedence of reading the whole file first: a damaged gzip stream, then a NUL
// byte anywhere, then what the reader found. So when the reader (or the sniff) fails early, the rest
// is still read, unparsed, to look for the other two.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Worker } from 'node:worker_threads';
import { InputError } from '../util/errors.js';

/** Bytes per piece read or inflated. */
export const PIECE_BYTES = 1 << 20;

// Shared state of the hand-over: [state, length of the piece in `data`].
const EMPTY = 0;
const READY = 1;
const END = 2;
const FAILED = 3;
const STOP = 4;

// CommonJS, run with `eval: true`, so the same code serves the sources under test and dist/.
const GUNZIP_WORKER = `
const { workerData } = require('node:worker_threads');
const { createReadStream } = require('node:fs');
const { createGunzip } = require('node:zlib');
const { pipeline } = require('node:stream');
const ctl = new Int32Array(workerData.control);
const data = new Uint8Array(workerData.data);
/** Wait until the main thread took the last piece; false when it asked to stop. */
function free() {
  for (;;) {
    const s = Atomics.load(ctl, 0);
    if (s === ${EMPTY}) return true;
    if (s === ${STOP}) return false;
    Atomics.wait(ctl, 0, s);
  }
}
function post(state, bytes) {
  data.set(bytes);
  ctl[1] = bytes.length;
  if (Atomics.compareExchange(ctl, 0, ${EMPTY}, state) !== ${EMPTY}) return false;
  Atomics.notify(ctl, 0);
  return true;
}
(async () => {
  const src = pipeline(createReadStream(workerData.file, { highWaterMark: ${PIECE_BYTES} }), createGunzip({ chunkSize: 1 << 16 }), () => {});
  try {
    for await (const chunk of src) {
      for (let at = 0; at < chunk.length; at += data.length) {
        if (!free() || !post(${READY}, chunk.subarray(at, at + data.length))) return src.destroy();
      }
    }
    if (free()) post(${END}, new Uint8Array(0));
  } catch (err) {
    const text = JSON.stringify({ code: String((err && err.code) || ''), message: String((err && err.message) || err) });
    if (free()) post(${FAILED}, Buffer.from(text).subarray(0, data.length));
  }
})();
`;

function readError(file: string, err: unknown): InputError {
  if (err instanceof InputError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new InputError({ file }, code === 'ENOENT' ? 'no such file' : `cannot read: ${(err as Error).message}`, 'E_READ');
}

/**
 * A gzip file zlib could not inflate (every reader of gzip input says it this way). Cut short, the
 * stream ends at the end of the file, which is where it is reported; zlib does not say where other
 * damage lies, so no offset is made up for it.
 */
export function gzipError(file: string, message: string): InputError {
  if (/unexpected end of file/.test(message)) {
    let size: number | undefined;
    try {
      size = statSync(file).size;
    } catch {
      // gone meanwhile: no offset
    }
    return new InputError({ file, offset: size }, `expected a complete gzip stream, found it cut short at the end of the file (${message})`, 'E_GZIP');
  }
  if (/incorrect header check|unknown compression method/.test(message)) return new InputError({ file, offset: 0 }, `expected a gzip stream, found no gzip header (${message})`, 'E_GZIP');
  return new InputError({ file }, `expected a gzip stream, found damaged compressed data (${message})`, 'E_GZIP');
}

/** Hand the file's bytes to `onBytes` piece by piece until it returns false or the file ends. */
function readPieces(file: string, fd: number, onBytes: (piece: Buffer) => boolean): void {
  const buf = Buffer.alloc(PIECE_BYTES);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      throw readError(file, err);
    }
    if (n === 0 || !onBytes(buf.subarray(0, n))) return;
  }
}

/** The same for the gunzipped content of a gzip file, inflated by a worker thread. */
function gunzipPieces(file: string, onBytes: (piece: Buffer) => boolean): void {
  const control = new SharedArrayBuffer(8);
  const data = new SharedArrayBuffer(PIECE_BYTES);
  const ctl = new Int32Array(control);
  const worker = new Worker(GUNZIP_WORKER, { eval: true, workerData: { file, control, data } });
  worker.unref();
  let state = EMPTY;
  try {
    for (;;) {
      Atomics.wait(ctl, 0, EMPTY);
      state = Atomics.load(ctl, 0);
      if (state !== READY) break;
      const piece = Buffer.from(new Uint8Array(data, 0, ctl[1]!));
      Atomics.store(ctl, 0, EMPTY);
      Atomics.notify(ctl, 0);
      if (!onBytes(piece)) break;
    }
  } finally {
    if (state !== END && state !== FAILED) {
      Atomics.store(ctl, 0, STOP);
      Atomics.notify(ctl, 0);
    }
    void worker.terminate();
  }
  if (state === FAILED) {
    const { code, message } = JSON.parse(Buffer.from(new Uint8Array(data, 0, ctl[1]!)).toString('utf8')) as { code: string; message: string };
    throw code.startsWith('Z_') ? gzipError(file, message) : readError(file, Object.assign(new Error(message), { code }));
  }
}

/**
 * Read a text file (gunzipped when it starts with the gzip magic) and hand its text to `onText` in
 * pieces; a character is never split across pieces, a line may be. Throws InputError for a missing
 * file or a directory, a damaged gzip stream and a NUL byte, in that order of precedence, and
 * rethrows what `onText` threw.
 */
export function forEachTextPiece(file: string, onText: (text: string) => void): void {
  let fd: number;
  try {
    if (statSync(file).isDirectory()) throw new InputError({ file }, 'expected a file, found a directory (pass --recursive to read the files under it)', 'E_IS_DIRECTORY');
    fd = openSync(file, 'r');
  } catch (err) {
    throw readError(file, err);
  }
  const decoder = new StringDecoder('utf8');
  let gzip = false;
  let offset = 0;
  let nulAt = -1;
  let failure: { err: unknown } | undefined;
  const onBytes = (piece: Buffer): boolean => {
    if (nulAt < 0) {
      const i = piece.indexOf(0);
      if (i >= 0) nulAt = offset + i;
    }
    offset += piece.length;
    // After a NUL only a damaged gzip stream could still change the outcome.
    if (nulAt >= 0) return gzip;
    if (failure) return true;
    try {
      onText(decoder.write(piece));
    } catch (err) {
      failure = { err };
    }
    return true;
  };
  try {
    const magic = Buffer.alloc(2);
    let n: number;
    try {
      n = readSync(fd, magic, 0, 2, 0);
    } catch (err) {
      throw readError(file, err);
    }
    gzip = n === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    if (gzip) gunzipPieces(file, onBytes);
    else readPieces(file, fd, onBytes);
  } finally {
    closeSync(fd);
  }
  if (nulAt >= 0) throw new InputError({ file, offset: nulAt }, 'expected text, found a NUL byte (binary file?)', 'E_BINARY');
  if (failure) throw failure.err;
  const tail = decoder.end();
  if (tail) onText(tail);
}
