// Reader for `tracemalloc.Snapshot.dump()` files (Lib/tracemalloc.py: pickle.dump(snapshot, f,
// pickle.HIGHEST_PROTOCOL)) of CPython 3.4–3.14, and for snapshots pickled by hand with protocols
// 2–5. A pickle is a program for a stack machine; this reader runs only the data-building part of
// it: the opcodes CPython's pickler (Modules/_pickle.c) writes for a Snapshot, the builtin
// containers, and the five tracemalloc classes, whose constructors and attribute updates are
// emulated here as data. Any other global (os.system …), REDUCE of anything else, or any other
// opcode is an InputError naming its byte offset; nothing is ever executed or looked up.
//
// Why not an npm package: the candidates were evaluated (scratch install outside the repo) on a
// 55 MB, 4.5 M-trace snapshot of CPython 3.11 and on hostile pickles. jpickle 0.4.1 stops at
// protocol 5; unpickle 0.2.0 lacks STACK_GLOBAL. pickleparser 0.2.1 reads every protocol but took
// 9.7 s and 1.4 GB (CPython's own Snapshot.load: 2.2 s, 0.47 GB) because it materialises every
// trace tuple of a whole-file buffer; it accepts a REDUCE of os.system silently (a placeholder
// object), returns `undefined` for a pickle of a million unclosed MARKs, turns a `__proto__` dict
// key into a prototype change, and reports truncation without an offset. So this is a focused
// decoder.
//
// Streaming: bytes are pushed in chunks of any size. The `_traces` list of a `_Traces` object is
// recognised when it is created (the stack then reads `_Traces`, `{}`, `'_traces'`), and each
// trace tuple built directly into it is handed to the SnapshotBuilder at once and replaced by a
// placeholder, so neither the traces nor their memo entries are kept: memory follows the distinct
// frames and tracebacks (which pickle memoises and which the builder interns), not the file.

import { closeSync, openSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tracemallocParams, type TracemallocParams } from '../model/params.js';
import { SnapshotBuilder } from '../model/tracemalloc-builder.js';
import type { ReadWarning, TraceFrame, TracemallocSnapshot, TraceTraceback } from '../model/types.js';
import { InputError } from '../util/errors.js';
import { WarningSink } from './warnings.js';
import { gzipError } from './text-file.js';

export interface TracemallocPickleOptions {
  file?: string;
  strict?: boolean;
  /**
   * The CPython version that wrote the file. Only matters for Traceback *objects* (not the raw
   * tuples CPython writes): 3.7+ store their frames oldest first, 3.4–3.6 most recent first.
   */
  python?: string;
}

export interface TracemallocPickleResult {
  snapshot: TracemallocSnapshot;
  warnings: ReadWarning[];
}

// Opcodes (Lib/pickletools.py names). Only these are accepted.
const OP = {
  MARK: 0x28, STOP: 0x2e, EMPTY_TUPLE: 0x29, TUPLE: 0x74, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87,
  EMPTY_LIST: 0x5d, APPEND: 0x61, APPENDS: 0x65, EMPTY_DICT: 0x7d, SETITEM: 0x73, SETITEMS: 0x75,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, LONG4: 0x8b, NONE: 0x4e, NEWTRUE: 0x88,
  NEWFALSE: 0x89, BINUNICODE: 0x58, SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, MEMOIZE: 0x94,
  BINPUT: 0x71, LONG_BINPUT: 0x72, BINGET: 0x68, LONG_BINGET: 0x6a, GLOBAL: 0x63, STACK_GLOBAL: 0x93,
  NEWOBJ: 0x81, REDUCE: 0x52, BUILD: 0x62, PROTO: 0x80, FRAME: 0x95,
} as const;
const OP_NAMES = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]));
// Opcodes CPython knows but a snapshot never needs, named in errors (pickletools' names).
const OTHER_OPS: Record<number, string> = {
  0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x47: 'BINFLOAT', 0x49: 'INT', 0x4c: 'LONG',
  0x50: 'PERSID', 0x51: 'BINPERSID', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x64: 'DICT', 0x67: 'GET', 0x69: 'INST', 0x6c: 'LIST', 0x6f: 'OBJ', 0x70: 'PUT',
  0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8e: 'BINBYTES8',
  0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** The classes a snapshot is made of (Lib/tracemalloc.py); nothing else may be named. */
const CLASSES = ['Snapshot', '_Traces', 'Trace', 'Traceback', 'Frame'] as const;
type ClassName = (typeof CLASSES)[number];
/** Attributes each class has (its __dict__ or __slots__). */
const ATTRIBUTES: Record<ClassName, readonly string[]> = {
  Snapshot: ['traces', 'traceback_limit'],
  _Traces: ['_traces'],
  Trace: ['_trace'],
  Traceback: ['_frames', '_total_nframe'],
  Frame: ['_frame'],
};

/** No file name or attribute is this long; a longer length prefix is damage or an attack. */
const MAX_STRING = 64 * 1024 * 1024;
/** CPython's pickler batches containers by 1000 items; a snapshot nests about six levels deep. */
const MAX_STACK = 1 << 20;
const MAX_MARKS = 256;
const MAX_LINE = 256;

class PTuple {
  /** The interned traceback this tuple stands for, once resolved (null: not a traceback). */
  tb: TraceTraceback | undefined = undefined;
  frame: TraceFrame | undefined = undefined;
  constructor(readonly items: PValue[]) {}
}
class PList {
  items: PValue[] = [];
  /** This is a `_Traces._traces` list: its trace items go to the builder and are not kept. */
  stream = false;
}
class PDict {
  readonly map = new Map<string | number | boolean | null, PValue>();
}
class PGlobal {
  constructor(readonly name: ClassName) {}
}
class PObject {
  readonly attrs = new Map<string, PValue>();
  tb: TraceTraceback | undefined = undefined;
  frame: TraceFrame | undefined = undefined;
  /** Frames given to Traceback(frames) by REDUCE: raw order, unlike a BUILD state's `_frames`. */
  rawFrames: PValue | undefined = undefined;
  constructor(readonly cls: ClassName) {}
}
/** Stands for a trace already handed to the builder. */
const STREAMED = Symbol('streamed trace');
type PValue = number | string | boolean | null | PTuple | PList | PDict | PGlobal | PObject | typeof STREAMED;

const EMPTY = new PTuple([]);

function describe(v: PValue): string {
  if (v === null) return 'None';
  if (v === STREAMED) return 'a trace';
  switch (typeof v) {
    case 'number':
      return `int ${v}`;
    case 'string':
      return `str ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case 'boolean':
      return v ? 'True' : 'False';
  }
  if (v instanceof PTuple) return `a tuple of ${v.items.length}`;
  if (v instanceof PList) return 'a list';
  if (v instanceof PDict) return 'a dict';
  if (v instanceof PGlobal) return `the class tracemalloc.${v.name}`;
  return `a tracemalloc.${(v as PObject).cls} object`;
}

const isInt = (v: PValue): v is number => typeof v === 'number';

/** Cheap, never throws: does this start like a pickle of protocol 2–5 (PROTO opcode)? */
export function sniffTracemallocPickle(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === OP.PROTO && head[1]! >= 2 && head[1]! <= 5;
}

/** Where the last pickleInt() stopped. */
let intEnd = 0;

/** A BININT1/BININT2/BININT at p, wholly before end; NaN when there is none (intEnd: after it). */
function pickleInt(buf: Uint8Array, p: number, end: number): number {
  const op = buf[p];
  if (op === OP.BININT1 && p + 2 <= end) {
    intEnd = p + 2;
    return buf[p + 1]!;
  }
  if (op === OP.BININT2 && p + 3 <= end) {
    intEnd = p + 3;
    return buf[p + 1]! | (buf[p + 2]! << 8);
  }
  if (op === OP.BININT && p + 5 <= end) {
    intEnd = p + 5;
    return buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24);
  }
  return NaN;
}

/**
 * Drop the items of a stack above index k. Popping is cheap in V8; assigning a smaller `length`
 * goes through the runtime and showed as 13 % of `cpymem top` on a 2.5 M-trace snapshot.
 */
function truncate(stack: unknown[], k: number): void {
  while (stack.length > k) stack.pop();
}

export class TracemallocPickleReader {
  private readonly sink: WarningSink;
  private readonly builder = new SnapshotBuilder();
  private readonly params: TracemallocParams;
  private readonly stack: PValue[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PValue>();
  private memoLen = 0;
  /** Bytes before the start of the current buffer. */
  private base = 0;
  private pending: Uint8Array[] = [];
  private pendingLen = 0;
  /** Bytes from the pending opcode's start that must be there before it can be read. */
  private need = 0;
  private protocol = -1;
  private done = false;
  private result: PValue = null;
  private trailing = 0;
  private streamList: PList | undefined;
  private fieldsSeen = new Set<number>();

  constructor(private readonly opts: TracemallocPickleOptions = {}) {
    this.sink = new WarningSink(opts.file, opts.strict);
    this.params = tracemallocParams(opts.python && /^3\.([4-9]|1[0-4])(\.|$)/.test(opts.python) ? opts.python : '3.14');
  }

  fail(offset: number, detail: string, code = 'E_PICKLE'): never {
    throw new InputError({ file: this.opts.file, offset }, detail, code);
  }

  /** Feed the next bytes of the file; any chunking works. */
  push(chunk: Uint8Array): void {
    if (this.done) {
      this.trailing += chunk.length;
      return;
    }
    if (this.pendingLen > 0) {
      this.pending.push(chunk);
      this.pendingLen += chunk.length;
      if (this.pendingLen < this.need) return;
      chunk = Buffer.concat(this.pending, this.pendingLen);
      this.pending = [];
      this.pendingLen = 0;
    }
    const stopped = this.run(chunk);
    if (this.done) {
      this.trailing += chunk.length - stopped;
      this.base += stopped;
      return;
    }
    if (stopped < chunk.length) {
      // Keep the incomplete opcode (a copy: the caller may reuse its buffer).
      const rest = Uint8Array.prototype.slice.call(chunk, stopped);
      this.pending = [rest];
      this.pendingLen = rest.length;
    }
    this.base += stopped;
  }

  /** The whole file has been pushed: the snapshot, or an InputError saying what is missing. */
  end(): TracemallocPickleResult {
    if (!this.done) {
      const at = this.base;
      if (this.protocol < 0 && this.pendingLen === 0 && at === 0) this.fail(0, 'expected a pickle (Snapshot.dump() file), found an empty file', 'E_PICKLE_TRUNCATED');
      const op = this.pendingLen > 0 ? this.pending[0]![0]! : -1;
      const what = op >= 0 ? `the rest of ${OP_NAMES.get(op) ?? 'an opcode'} (${this.need} bytes from here, ${this.pendingLen} present)` : 'the STOP opcode';
      this.fail(at, `expected ${what}, found the end of the file: the pickle is truncated`, 'E_PICKLE_TRUNCATED');
    }
    if (this.trailing > 0) {
      this.sink.add('trailing-bytes', 'warning', `${this.trailing} bytes after the pickle's STOP were not read (Snapshot.load reads one pickle)`, { offset: this.base });
    }
    if (this.fieldsSeen.size > 1) {
      this.sink.add('mixed-trace-shapes', 'warning', `trace tuples of ${[...this.fieldsSeen].sort().join(' and ')} fields in one snapshot: CPython's statistics() would fail on it`);
    }
    const { tracebackLimit, container } = this.finishTop(this.result);
    const snapshot = this.builder.finish({ tracebackLimit, source: { protocol: this.protocol, bytes: this.base, container } });
    return { snapshot, warnings: this.sink.finish() };
  }

  // ---- the machine -------------------------------------------------------------------------

  /** Run opcodes of `buf` from its start; returns where it stopped (an incomplete opcode, or the end). */
  private run(buf: Uint8Array): number {
    const stack = this.stack;
    const marks = this.marks;
    const end = buf.length;
    let pos = 0;
    for (;;) {
      if (pos >= end) return pos;
      const start = pos;
      const op = buf[pos]!;
      const avail = end - pos;
      switch (op) {
        case OP.BININT1:
          if (avail < 2) return this.wait(start, 2);
          stack.push(buf[pos + 1]!);
          pos += 2;
          break;
        case OP.BININT2:
          if (avail < 3) return this.wait(start, 3);
          stack.push(buf[pos + 1]! | (buf[pos + 2]! << 8));
          pos += 3;
          break;
        case OP.BININT:
          if (avail < 5) return this.wait(start, 5);
          stack.push(buf[pos + 1]! | (buf[pos + 2]! << 8) | (buf[pos + 3]! << 16) | (buf[pos + 4]! << 24));
          pos += 5;
          break;
        case OP.BINGET: {
          if (avail < 2) return this.wait(start, 2);
          this.get(buf[pos + 1]!, this.base + start);
          pos += 2;
          break;
        }
        case OP.LONG_BINGET: {
          if (avail < 5) return this.wait(start, 5);
          this.get(readU32(buf, pos + 1), this.base + start);
          pos += 5;
          break;
        }
        case OP.MEMOIZE: {
          if (stack.length === 0) this.fail(this.base + start, 'expected a value to memoize, found an empty stack');
          const v = stack[stack.length - 1]!;
          if (v !== STREAMED) this.memo.set(this.memoLen, v);
          this.memoLen++;
          pos += 1;
          break;
        }
        case OP.BINPUT:
        case OP.LONG_BINPUT: {
          const n = op === OP.BINPUT ? 2 : 5;
          if (avail < n) return this.wait(start, n);
          if (stack.length === 0) this.fail(this.base + start, 'expected a value to memoize, found an empty stack');
          const idx = op === OP.BINPUT ? buf[pos + 1]! : readU32(buf, pos + 1);
          const v = stack[stack.length - 1]!;
          if (!this.memo.has(idx)) this.memoLen++;
          if (v !== STREAMED) this.memo.set(idx, v);
          pos += n;
          break;
        }
        case OP.MARK: {
          const next = this.fastTrace(buf, pos, end);
          if (next >= 0) {
            pos = next;
            break;
          }
          if (marks.length >= MAX_MARKS) this.fail(this.base + start, `expected at most ${MAX_MARKS} nested MARKs (a snapshot needs about 4), found more`, 'E_PICKLE_LIMIT');
          marks.push(stack.length);
          pos += 1;
          break;
        }
        case OP.TUPLE: {
          const k = this.popMark(start, 'TUPLE');
          const m = marks.length > 0 ? marks[marks.length - 1]! : -1;
          this.closeTuple(k, this.opensTrace(m, k), this.base + start);
          pos += 1;
          break;
        }
        case OP.TUPLE1:
        case OP.TUPLE2:
        case OP.TUPLE3: {
          const n = op - OP.TUPLE1 + 1;
          const k = stack.length - n;
          const floor = marks.length > 0 ? marks[marks.length - 1]! : 0;
          if (k < floor) this.fail(this.base + start, `expected ${n} values for ${OP_NAMES.get(op)}, found ${stack.length - floor}`);
          // 3.6–3.8 traces are 3-tuples, 3.4–3.5 traces 2-tuples, written with TUPLE3 / TUPLE2.
          this.closeTuple(k, n >= 2 && this.opensTrace(floor, k), this.base + start);
          pos += 1;
          break;
        }
        case OP.APPENDS: {
          const k = this.popMark(start, 'APPENDS');
          const list = stack[k - 1];
          if (!(list instanceof PList)) this.fail(this.base + start, `expected a list before APPENDS, found ${k > 0 ? describe(list!) : 'nothing'}`);
          if (list.stream) {
            for (let i = k; i < stack.length; i++) if (stack[i] !== STREAMED) this.traceFromValue(stack[i]!, this.base + start);
          } else {
            for (let i = k; i < stack.length; i++) list.items.push(stack[i]!);
          }
          truncate(stack, k);
          pos += 1;
          break;
        }
        case OP.FRAME:
          if (avail < 9) return this.wait(start, 9);
          pos += 9; // framing is only a read-ahead hint
          break;
        default:
          {
            const r = this.runRare(buf, pos, op, avail);
            if (r < 0) return start; // incomplete: this.need was set
            pos = r;
            if (this.done) return pos;
          }
          break;
      }
      if (stack.length > MAX_STACK) this.fail(this.base + start, `expected at most ${MAX_STACK} values on the pickle stack (CPython's pickler batches by 1000), found more`, 'E_PICKLE_LIMIT');
    }
  }

  private wait(start: number, need: number): number {
    this.need = need;
    return start;
  }

  /** An incomplete opcode in runRare(): wait for `need` bytes from its start. */
  private more(need: number): number {
    this.need = need;
    return -1;
  }

  private popMark(start: number, opName: string): number {
    const k = this.marks.pop();
    if (k === undefined) this.fail(this.base + start, `expected a MARK before ${opName}, found none`);
    return k;
  }
  private peekOp = 0;

  /**
   * Whether a tuple whose items start at stack index k, in the batch that the MARK at index m
   * opened, is a trace: built directly into an APPENDS batch of the streamed _traces list (the
   * batch's first item, or right after the trace before it).
   */
  private opensTrace(m: number, k: number): boolean {
    const stack = this.stack;
    const list = m > 0 ? stack[m - 1] : undefined;
    return list instanceof PList && list.stream && (k === m || stack[k - 1] === STREAMED);
  }

  /**
   * The commonest sequence of a 3.9+ snapshot, one trace of the streamed _traces list, read in one
   * step: MARK, domain, size, BINGET of the traceback, total_nframe, TUPLE, MEMOIZE (the ints as
   * BININT1/BININT2/BININT). The opcode loop takes 7 turns for it; this is about a third of
   * `cpymem top` on a big snapshot. Returns the position after it, or -1 to let the loop read it
   * (another shape, a chunk boundary, anything the loop would check and report).
   */
  private fastTrace(buf: Uint8Array, pos: number, end: number): number {
    const stack = this.stack;
    const marks = this.marks;
    if (this.builder.traceFields !== 4 || !this.opensTrace(marks.length > 0 ? marks[marks.length - 1]! : -1, stack.length)) return -1;
    const domain = pickleInt(buf, pos + 1, end);
    if (!(domain >= 0)) return -1;
    const size = pickleInt(buf, intEnd, end);
    if (Number.isNaN(size)) return -1;
    let p = intEnd;
    let idx: number;
    if (p + 2 <= end && buf[p] === OP.BINGET) {
      idx = buf[p + 1]!;
      p += 2;
    } else if (p + 5 <= end && buf[p] === OP.LONG_BINGET) {
      idx = readU32(buf, p + 1);
      p += 5;
    } else return -1;
    const total = pickleInt(buf, p, end);
    if (Number.isNaN(total)) return -1;
    p = intEnd;
    if (p + 2 > end || buf[p] !== OP.TUPLE || buf[p + 1] !== OP.MEMOIZE) return -1;
    const tb = this.memo.get(idx);
    if (tb === undefined) return -1;
    this.builder.add(domain, size, this.traceback(tb, this.base + pos), total);
    stack.push(STREAMED);
    this.memoLen++;
    return p + 2;
  }

  private get(idx: number, offset: number): void {
    const v = this.memo.get(idx);
    if (v === undefined) {
      this.fail(
        offset,
        idx < this.memoLen
          ? `expected a reference to an object read earlier (memo ${idx}), found one to a trace tuple: cpymem streams traces and keeps none, and CPython never refers back to one`
          : `expected a reference to an object read earlier (memo ${idx}), found no such object`,
        'E_PICKLE_MEMO',
      );
    }
    this.stack.push(v);
  }

  /** Opcodes outside the hot loop. Returns the new position, or -1 when the opcode is incomplete. */
  private runRare(buf: Uint8Array, pos: number, op: number, avail: number): number {
    const stack = this.stack;
    const offset = this.base + pos;
    this.peekOp = op;
    switch (op) {
      case OP.PROTO: {
        if (avail < 2) return this.more(2);
        const v = buf[pos + 1]!;
        if (v < 2 || v > 5) this.fail(offset, `expected pickle protocol 2–5, found protocol ${v}`, 'E_PICKLE_PROTOCOL');
        if (this.protocol < 0) this.protocol = v;
        return pos + 2;
      }
      case OP.STOP: {
        if (stack.length !== 1 || this.marks.length) this.fail(offset, `expected exactly one value on the stack at STOP, found ${stack.length}${this.marks.length ? ` and ${this.marks.length} open MARK(s)` : ''}`);
        this.result = stack.pop()!;
        this.done = true;
        return pos + 1;
      }
      case OP.EMPTY_TUPLE:
        stack.push(EMPTY);
        return pos + 1;
      case OP.EMPTY_LIST: {
        const l = new PList();
        const n = stack.length;
        // `_Traces` NEWOBJ, its state dict and the key '_traces': this list holds the traces.
        if (n >= 3 && stack[n - 1] === '_traces' && stack[n - 2] instanceof PDict && stack[n - 3] instanceof PObject && (stack[n - 3] as PObject).cls === '_Traces') {
          if (this.streamList) this.fail(offset, 'expected one _Traces list in a snapshot, found a second one');
          l.stream = true;
          this.streamList = l;
        }
        stack.push(l);
        return pos + 1;
      }
      case OP.EMPTY_DICT:
        stack.push(new PDict());
        return pos + 1;
      case OP.NONE:
        stack.push(null);
        return pos + 1;
      case OP.NEWTRUE:
      case OP.NEWFALSE:
        stack.push(op === OP.NEWTRUE);
        return pos + 1;
      case OP.APPEND: {
        const v = this.pop(offset);
        const list = stack[stack.length - 1];
        if (!(list instanceof PList)) this.fail(offset, `expected a list before APPEND, found ${list === undefined ? 'nothing' : describe(list)}`);
        if (list.stream) {
          if (v !== STREAMED) this.traceFromValue(v, offset);
        } else list.items.push(v);
        return pos + 1;
      }
      case OP.SETITEM: {
        const v = this.pop(offset);
        const k = this.pop(offset);
        this.setItem(stack[stack.length - 1], k, v, offset);
        return pos + 1;
      }
      case OP.SETITEMS: {
        const k = this.popMark(pos, 'SETITEMS');
        const d = stack[k - 1];
        if ((stack.length - k) % 2 !== 0) this.fail(offset, `expected key/value pairs for SETITEMS, found ${stack.length - k} values`);
        for (let i = k; i < stack.length; i += 2) this.setItem(d, stack[i]!, stack[i + 1]!, offset);
        truncate(stack, k);
        return pos + 1;
      }
      case OP.LONG1:
      case OP.LONG4: {
        const h = op === OP.LONG1 ? 2 : 5;
        if (avail < h) return this.more(h);
        const n = op === OP.LONG1 ? buf[pos + 1]! : readU32(buf, pos + 1);
        if (n > 8) this.fail(offset, `expected an integer of at most 8 bytes, found one of ${n} bytes`, 'E_PICKLE_LIMIT');
        if (avail < h + n) return this.more(h + n);
        stack.push(readLong(buf, pos + h, n, offset, this));
        return pos + h + n;
      }
      case OP.SHORT_BINUNICODE:
      case OP.BINUNICODE:
      case OP.BINUNICODE8: {
        const h = op === OP.SHORT_BINUNICODE ? 2 : op === OP.BINUNICODE ? 5 : 9;
        if (avail < h) return this.more(h);
        let n: number;
        if (op === OP.SHORT_BINUNICODE) n = buf[pos + 1]!;
        else if (op === OP.BINUNICODE) n = readU32(buf, pos + 1);
        else {
          const hi = readU32(buf, pos + 5);
          n = hi > 0 ? Infinity : readU32(buf, pos + 1);
        }
        if (n > MAX_STRING) this.fail(offset, `expected a string of at most ${MAX_STRING} bytes (a file name), found a length prefix of ${Number.isFinite(n) ? n : 'over 2^32'} bytes`, 'E_PICKLE_LIMIT');
        if (avail < h + n) return this.more(h + n);
        stack.push(decodeUtf8(buf, pos + h, pos + h + n, offset, this));
        return pos + h + n;
      }
      case OP.GLOBAL: {
        const a = indexOfNl(buf, pos + 1, MAX_LINE);
        const b = a < 0 ? -1 : indexOfNl(buf, a + 1, MAX_LINE);
        if (b < 0) {
          if (avail > 2 * MAX_LINE + 2) this.fail(offset, 'expected "module\\nname\\n" after GLOBAL, found a line that never ends');
          return this.more(avail + 1);
        }
        const module = Buffer.from(buf.buffer, buf.byteOffset + pos + 1, a - pos - 1).toString('latin1');
        const name = Buffer.from(buf.buffer, buf.byteOffset + a + 1, b - a - 1).toString('latin1');
        stack.push(this.global(module, name, offset));
        return b + 1;
      }
      case OP.STACK_GLOBAL: {
        const name = this.pop(offset);
        const module = this.pop(offset);
        if (typeof module !== 'string' || typeof name !== 'string') this.fail(offset, `expected two strings before STACK_GLOBAL, found ${describe(module)} and ${describe(name)}`);
        stack.push(this.global(module, name, offset));
        return pos + 1;
      }
      case OP.NEWOBJ: {
        const args = this.pop(offset);
        const cls = this.pop(offset);
        if (!(cls instanceof PGlobal)) this.fail(offset, `expected a tracemalloc class before NEWOBJ, found ${describe(cls)}`);
        if (!(args instanceof PTuple) || args.items.length !== 0) this.fail(offset, `expected () as the arguments of NEWOBJ ${cls.name}, found ${describe(args)}`);
        stack.push(new PObject(cls.name));
        return pos + 1;
      }
      case OP.REDUCE: {
        const args = this.pop(offset);
        const fn = this.pop(offset);
        if (!(fn instanceof PGlobal)) this.fail(offset, `expected a tracemalloc class to call in REDUCE, found ${describe(fn)}: cpymem calls nothing else`, 'E_PICKLE_UNSAFE');
        if (!(args instanceof PTuple)) this.fail(offset, `expected a tuple of arguments for ${fn.name}(), found ${describe(args)}`);
        stack.push(this.construct(fn.name, args.items, offset));
        return pos + 1;
      }
      case OP.BUILD: {
        const state = this.pop(offset);
        const obj = stack[stack.length - 1];
        if (!(obj instanceof PObject)) this.fail(offset, `expected a tracemalloc object before BUILD, found ${obj === undefined ? 'nothing' : describe(obj)}`);
        this.build(obj, state, offset);
        return pos + 1;
      }
      default: {
        const name = OP_NAMES.get(op) ?? OTHER_OPS[op];
        this.fail(
          offset,
          name
            ? `expected an opcode of a tracemalloc snapshot, found ${name} (0x${op.toString(16).padStart(2, '0')}), which CPython does not write for one`
            : `expected a pickle opcode, found byte 0x${op.toString(16).padStart(2, '0')}`,
          'E_PICKLE_OPCODE',
        );
      }
    }
  }

  private pop(offset: number): PValue {
    const floor = this.marks.length > 0 ? this.marks[this.marks.length - 1]! : 0;
    if (this.stack.length <= floor) this.fail(offset, `expected a value on the stack for ${OP_NAMES.get(this.peekOp) ?? 'this opcode'}, found ${this.stack.length ? 'a MARK' : 'none'}`);
    return this.stack.pop()!;
  }

  private global(module: string, name: string, offset: number): PGlobal {
    if (module === 'tracemalloc' && (CLASSES as readonly string[]).includes(name)) return new PGlobal(name as ClassName);
    return this.fail(
      offset,
      `expected a tracemalloc class (${CLASSES.join(', ')}), found global ${JSON.stringify(`${module}.${name}`.slice(0, 120))}: a snapshot refers to nothing else, and cpymem loads and runs no code`,
      'E_PICKLE_UNSAFE',
    );
  }

  private setItem(d: PValue | undefined, k: PValue, v: PValue, offset: number): void {
    if (!(d instanceof PDict)) this.fail(offset, `expected a dict to set an item in, found ${d === undefined ? 'nothing' : describe(d)}`);
    if (!(k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean')) this.fail(offset, `expected a str or int dict key, found ${describe(k)}`);
    d.map.set(k, v);
  }

  /** What the class's __init__ does (Lib/tracemalloc.py), as data. */
  private construct(cls: ClassName, args: PValue[], offset: number): PObject {
    const arity: Record<ClassName, [number, number]> = { Snapshot: [2, 2], _Traces: [1, 1], Trace: [1, 1], Traceback: [1, 2], Frame: [1, 1] };
    const [lo, hi] = arity[cls];
    if (args.length < lo || args.length > hi) this.fail(offset, `expected ${lo === hi ? lo : `${lo}–${hi}`} arguments for tracemalloc.${cls}(), found ${args.length}`);
    const o = new PObject(cls);
    switch (cls) {
      case 'Snapshot': {
        const t = new PObject('_Traces');
        t.attrs.set('_traces', args[0]!);
        o.attrs.set('traces', t);
        o.attrs.set('traceback_limit', args[1]!);
        break;
      }
      case '_Traces':
        o.attrs.set('_traces', args[0]!);
        break;
      case 'Trace':
        o.attrs.set('_trace', args[0]!);
        break;
      case 'Traceback':
        o.rawFrames = args[0]!;
        break;
      case 'Frame':
        o.attrs.set('_frame', args[0]!);
        break;
    }
    return o;
  }

  /** BUILD: the default __setstate__ — a dict, or (dict or None, slots dict or None). */
  private build(obj: PObject, state: PValue, offset: number): void {
    const dicts: PDict[] = [];
    if (state instanceof PDict) dicts.push(state);
    else if (state instanceof PTuple && state.items.length === 2) {
      for (const s of state.items) {
        if (s instanceof PDict) dicts.push(s);
        else if (s !== null) this.fail(offset, `expected a dict or None in the state of ${obj.cls}, found ${describe(s)}`);
      }
    } else this.fail(offset, `expected a dict (or a (dict, slots) pair) as the state of ${obj.cls}, found ${describe(state)}`);
    for (const d of dicts) {
      for (const [k, v] of d.map) {
        if (typeof k !== 'string' || !ATTRIBUTES[obj.cls].includes(k)) {
          this.sink.add('unknown-attribute', 'warning', `tracemalloc.${obj.cls} has no attribute ${JSON.stringify(String(k))}; ignored`, { offset });
          continue;
        }
        obj.attrs.set(k, v);
      }
    }
  }

  // ---- traces ------------------------------------------------------------------------------

  /** A trace tuple whose n items are on the stack from index k. */
  /**
   * Replace the stack items from k on by the tuple they make: a trace of the streamed _traces list
   * (consumed now, a STREAMED placeholder left) or a plain tuple.
   */
  private closeTuple(k: number, isTrace: boolean, offset: number): void {
    const stack = this.stack;
    if (isTrace) {
      this.traceFromStack(k, stack.length - k, offset);
      truncate(stack, k);
      stack.push(STREAMED);
    } else {
      const t = new PTuple(stack.slice(k));
      truncate(stack, k);
      stack.push(t);
    }
  }

  private traceFromStack(k: number, n: number, offset: number): void {
    const s = this.stack;
    let domain: PValue = 0;
    let size: PValue;
    let tb: PValue;
    let total: PValue = null;
    if (n === 4) {
      domain = s[k]!;
      size = s[k + 1]!;
      tb = s[k + 2]!;
      total = s[k + 3]!;
    } else if (n === 3) {
      domain = s[k]!;
      size = s[k + 1]!;
      tb = s[k + 2]!;
    } else if (n === 2) {
      size = s[k]!;
      tb = s[k + 1]!;
    } else {
      this.fail(offset, `expected a trace tuple of 2, 3 or 4 items (size, traceback; + domain 3.6+; + total_nframe 3.9+), found a tuple of ${n}`, 'E_SNAPSHOT_SHAPE');
    }
    if (!isInt(domain) || domain < 0) this.fail(offset, `expected the trace's domain (an int ≥ 0), found ${describe(domain)}`, 'E_SNAPSHOT_SHAPE');
    if (!isInt(size)) this.fail(offset, `expected the trace's size (an int), found ${describe(size)}`, 'E_SNAPSHOT_SHAPE');
    if (!(total === null || isInt(total))) this.fail(offset, `expected the trace's total_nframe (an int), found ${describe(total)}`, 'E_SNAPSHOT_SHAPE');
    const traceback = this.traceback(tb, offset);
    if (this.builder.traceFields !== n) {
      this.fieldsSeen.add(n);
      if (this.builder.traceFields === null) this.builder.traceFields = n as 2 | 3 | 4;
    }
    this.builder.add(domain, size, traceback, total);
  }

  /** A trace given as a value: a raw tuple or a Trace object. */
  private traceFromValue(v: PValue, offset: number): void {
    if (v instanceof PObject && v.cls === 'Trace') {
      const t = v.attrs.get('_trace');
      if (t === undefined) this.fail(offset, 'expected a Trace with its _trace tuple, found one without');
      v = t;
    }
    if (!(v instanceof PTuple) || v.items.length < 2 || v.items.length > 4) this.fail(offset, `expected a trace (a tuple of 2–4 items or a tracemalloc.Trace), found ${describe(v)}`, 'E_SNAPSHOT_SHAPE');
    const save = this.stack.length;
    for (const item of v.items) this.stack.push(item);
    this.traceFromStack(save, v.items.length, offset);
    truncate(this.stack, save);
  }

  /** The interned traceback of a raw traceback tuple or a Traceback object (cached on it). */
  private traceback(v: PValue, offset: number): TraceTraceback {
    if (v instanceof PTuple) {
      if (v.tb) return v.tb;
      return (v.tb = this.framesToTraceback(v.items, offset));
    }
    if (v instanceof PObject && v.cls === 'Traceback') {
      if (v.tb) return v.tb;
      let items: PValue[];
      if (v.rawFrames !== undefined) {
        if (!(v.rawFrames instanceof PTuple)) this.fail(offset, `expected a tuple of frames for Traceback(), found ${describe(v.rawFrames)}`, 'E_SNAPSHOT_SHAPE');
        items = v.rawFrames.items;
      } else {
        const f = v.attrs.get('_frames');
        if (!(f instanceof PTuple)) this.fail(offset, `expected a Traceback with its _frames tuple, found ${f === undefined ? 'none' : describe(f)}`, 'E_SNAPSHOT_SHAPE');
        // Traceback._frames is oldest first from 3.7 on (Lib/tracemalloc.py reverses the raw frames).
        items = this.params.tracebackOldestFirst ? f.items.slice().reverse() : f.items;
      }
      return (v.tb = this.framesToTraceback(items, offset));
    }
    return this.fail(offset, `expected the trace's traceback (a tuple of (filename, lineno) frames), found ${describe(v)}`, 'E_SNAPSHOT_SHAPE');
  }

  private framesToTraceback(items: PValue[], offset: number): TraceTraceback {
    if (items.length === 0) this.fail(offset, 'expected a traceback of at least one frame (CPython records <unknown>:0 for none), found an empty one', 'E_SNAPSHOT_SHAPE');
    const frames: TraceFrame[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) frames[i] = this.frame(items[i]!, offset);
    return this.builder.traceback(frames);
  }

  private frame(v: PValue, offset: number): TraceFrame {
    if (v instanceof PTuple) {
      if (v.frame) return v.frame;
      const [filename, lineno] = v.items;
      if (v.items.length !== 2 || typeof filename !== 'string' || !isInt(lineno!)) {
        this.fail(offset, `expected a frame (filename: str, lineno: int), found ${describe(v)}${v.items.length === 2 ? ` of ${describe(filename!)} and ${describe(lineno!)}` : ''}`, 'E_SNAPSHOT_SHAPE');
      }
      return (v.frame = this.builder.frame(filename, lineno as number));
    }
    if (v instanceof PObject && v.cls === 'Frame') {
      if (v.frame) return v.frame;
      const f = v.attrs.get('_frame');
      if (f === undefined) this.fail(offset, 'expected a Frame with its _frame tuple, found one without', 'E_SNAPSHOT_SHAPE');
      return (v.frame = this.frame(f, offset));
    }
    return this.fail(offset, `expected a frame (filename, lineno), found ${describe(v)}`, 'E_SNAPSHOT_SHAPE');
  }

  /** The top-level object: a Snapshot (as dump() writes), a _Traces, or a list of traces. */
  private finishTop(top: PValue): { tracebackLimit: number | null; container: TracemallocSnapshot['source']['container'] } {
    const at = Math.max(0, this.base - 1);
    let container: TracemallocSnapshot['source']['container'] = 'list';
    let limit: number | null = null;
    let traces: PValue | undefined = top;
    if (top instanceof PObject && top.cls === 'Snapshot') {
      container = 'Snapshot';
      const l = top.attrs.get('traceback_limit');
      if (l !== undefined && l !== null && !isInt(l)) this.fail(at, `expected Snapshot.traceback_limit to be an int, found ${describe(l)}`, 'E_SNAPSHOT_SHAPE');
      limit = (l ?? null) as number | null;
      if (l === undefined) this.sink.add('no-traceback-limit', 'warning', 'the Snapshot has no traceback_limit attribute');
      traces = top.attrs.get('traces');
      if (traces === undefined) this.fail(at, 'expected Snapshot.traces, found a Snapshot without traces', 'E_SNAPSHOT_SHAPE');
    }
    if (traces instanceof PObject && traces.cls === '_Traces') {
      if (container === 'list') container = '_Traces';
      traces = traces.attrs.get('_traces');
      if (traces === undefined) this.fail(at, 'expected _Traces._traces, found a _Traces without it', 'E_SNAPSHOT_SHAPE');
    }
    if (!(traces instanceof PList || traces instanceof PTuple)) {
      this.fail(at, `expected a tracemalloc.Snapshot (or its _Traces, or a list of traces), found ${describe(traces)}`, 'E_NOT_SNAPSHOT');
    }
    if (this.streamList && traces !== this.streamList) {
      this.fail(at, 'expected the snapshot to use the _Traces list the pickle built, found another list', 'E_SNAPSHOT_SHAPE');
    }
    // Traces built elsewhere than straight into the _traces list (hand-made pickles) are read now.
    for (const item of traces.items) if (item !== STREAMED) this.traceFromValue(item, at);
    return { tracebackLimit: limit, container };
  }
}

function readU32(buf: Uint8Array, i: number): number {
  return (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16)) + buf[i + 3]! * 0x1000000;
}

function indexOfNl(buf: Uint8Array, from: number, max: number): number {
  const stop = Math.min(buf.length, from + max + 1);
  for (let i = from; i < stop; i++) if (buf[i] === 0x0a) return i;
  return -1;
}

/** LONG1/LONG4: little-endian two's complement; only values JavaScript holds exactly. */
function readLong(buf: Uint8Array, from: number, n: number, offset: number, r: { fail(o: number, d: string, c?: string): never }): number {
  if (n === 0) return 0;
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[from + i]!);
  if (buf[from + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) r.fail(offset, `expected an integer below 2^53, found ${v}`, 'E_PICKLE_LIMIT');
  return Number(v);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * UTF-8 as pickle writes str: 'surrogatepass', so a lone surrogate from a surrogateescape'd file
 * name (ED A0..BF xx) is a valid code unit here, as in CPython; anything else invalid is damage.
 */
function decodeUtf8(buf: Uint8Array, from: number, to: number, offset: number, r: { fail(o: number, d: string, c?: string): never }): string {
  let ascii = true;
  for (let i = from; i < to; i++) {
    if (buf[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString('latin1');
  try {
    return utf8.decode(buf.subarray(from, to));
  } catch {
    // Fall back to a decoder that lets encoded surrogates through.
  }
  let s = '';
  let i = from;
  while (i < to) {
    const b = buf[i]!;
    let cp = -1;
    let len = 1;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b < 0xe0 && i + 1 < to && (buf[i + 1]! & 0xc0) === 0x80) {
      cp = ((b & 0x1f) << 6) | (buf[i + 1]! & 0x3f);
      len = 2;
    } else if (b >= 0xe0 && b < 0xf0 && i + 2 < to && (buf[i + 1]! & 0xc0) === 0x80 && (buf[i + 2]! & 0xc0) === 0x80) {
      cp = ((b & 0x0f) << 12) | ((buf[i + 1]! & 0x3f) << 6) | (buf[i + 2]! & 0x3f);
      len = 3;
      if (cp < 0x800) cp = -1;
    } else if (b >= 0xf0 && b < 0xf5 && i + 3 < to && (buf[i + 1]! & 0xc0) === 0x80 && (buf[i + 2]! & 0xc0) === 0x80 && (buf[i + 3]! & 0xc0) === 0x80) {
      cp = ((b & 0x07) << 18) | ((buf[i + 1]! & 0x3f) << 12) | ((buf[i + 2]! & 0x3f) << 6) | (buf[i + 3]! & 0x3f);
      len = 4;
      if (cp < 0x10000 || cp > 0x10ffff) cp = -1;
    }
    if (cp < 0) r.fail(offset + 1 + (i - from), `expected UTF-8 text in a string, found byte 0x${b.toString(16)}`, 'E_PICKLE_UTF8');
    s += String.fromCodePoint(cp);
    i += len;
  }
  return s;
}

/** Read a whole snapshot from bytes in memory. */
export function parseTracemallocPickle(bytes: Uint8Array, opts: TracemallocPickleOptions = {}): TracemallocPickleResult {
  const r = new TracemallocPickleReader(opts);
  r.push(bytes);
  return r.end();
}

const CHUNK = 1 << 20;

/**
 * Read a snapshot file in 1 MiB chunks (memory does not grow with the file). A gzip file is
 * decompressed in memory first (Node has no synchronous streaming gunzip).
 */
export function readTracemallocSnapshotFile(path: string, opts: TracemallocPickleOptions = {}): TracemallocPickleResult {
  const file = opts.file ?? path;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError({ file }, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'expected a file, found a directory' : `cannot read: ${(err as Error).message}`, 'E_READ');
  }
  const reader = new TracemallocPickleReader({ ...opts, file });
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let n = readSync(fd, buf, 0, CHUNK, null);
    if (n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
      const parts = [Buffer.from(buf.subarray(0, n))];
      while ((n = readSync(fd, buf, 0, CHUNK, null)) > 0) parts.push(Buffer.from(buf.subarray(0, n)));
      let data: Buffer;
      try {
        data = gunzipSync(Buffer.concat(parts));
      } catch (err) {
        throw gzipError(file, (err as Error).message);
      }
      for (let i = 0; i < data.length; i += CHUNK) reader.push(data.subarray(i, i + CHUNK));
    } else {
      while (n > 0) {
        reader.push(buf.subarray(0, n));
        n = readSync(fd, buf, 0, CHUNK, null);
      }
    }
  } finally {
    closeSync(fd);
  }
  return reader.end();
}
