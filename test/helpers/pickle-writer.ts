// A tiny pickle *writer* for tests: builds the shapes of tracemalloc snapshots CPython cannot be
// asked to write here (3.4/3.5 two-field traces, Trace/Traceback/Frame objects, REDUCE-built
// snapshots), from the trace groups of real fixtures, opcode by opcode (protocol 4, no framing).
import type { TraceGroup } from '../../src/model/types.js';

export type TraceStyle = {
  /** 2: (size, tb) 3.4–3.5; 3: (domain, size, tb) 3.6–3.8; 4: + total_nframe. */
  fields: 2 | 3 | 4;
  /** Wrap each trace in a tracemalloc.Trace object. */
  traceObjects?: boolean;
  /** Tracebacks as tracemalloc.Traceback objects whose _frames are oldest first (3.7+). */
  tracebackObjects?: boolean;
  /** Frames as tracemalloc.Frame objects. */
  frameObjects?: boolean;
  /** Build the Snapshot by REDUCE Snapshot(traces, limit) instead of NEWOBJ + BUILD. */
  reduce?: boolean;
  /** Top-level object: the Snapshot (default) or a list of the traces. */
  top?: 'snapshot' | 'list';
};

export class PickleWriter {
  private out: number[] = [];
  private memo = 0;
  private globals = new Map<string, number>();

  byte(...b: number[]): this {
    this.out.push(...b);
    return this;
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.byte(0x4b, n);
    if (n >= 0 && n < 65536) return this.byte(0x4d, n & 255, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.byte(0x4a, n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255);
    let v = BigInt(n);
    const bytes: number[] = [];
    for (let i = 0; i < 8; i++) {
      bytes.push(Number(v & 255n));
      v >>= 8n;
    }
    return this.byte(0x8a, 8, ...bytes);
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 256) this.byte(0x8c, b.length);
    else this.byte(0x58, b.length & 255, (b.length >> 8) & 255, (b.length >> 16) & 255, b.length >>> 24);
    for (const x of b) this.out.push(x);
    return this;
  }
  memoize(): number {
    this.byte(0x94);
    return this.memo++;
  }
  get(i: number): this {
    return i < 256 ? this.byte(0x68, i) : this.byte(0x6a, i & 255, (i >> 8) & 255, (i >> 16) & 255, i >>> 24);
  }
  global(name: string): this {
    const m = this.globals.get(name);
    if (m !== undefined) return this.get(m);
    this.str('tracemalloc').str(name).byte(0x93);
    this.globals.set(name, this.memoize());
    return this;
  }
  /** NEWOBJ cls() then BUILD with (None, {slot: value}) — the shape of a __slots__ object. */
  slotsObject(cls: string, slots: [string, () => void][]): this {
    this.global(cls).byte(0x29, 0x81);
    this.byte(0x4e, 0x7d, 0x28);
    for (const [k, v] of slots) {
      this.str(k);
      v();
    }
    return this.byte(0x75, 0x86, 0x62);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/**
 * A snapshot pickle holding the given groups: each group becomes `count` traces, one carrying
 * the group's whole size and the others 0 bytes (statistics depend only on the sums).
 */
export function writeSnapshot(groups: readonly TraceGroup[], limit: number, style: TraceStyle): Uint8Array {
  const w = new PickleWriter();
  w.byte(0x80, 4);
  const frame = (f: { filename: string; lineno: number }) => {
    if (style.frameObjects) w.slotsObject('Frame', [['_frame', () => w.str(f.filename).int(f.lineno).byte(0x86)]]);
    else w.str(f.filename).int(f.lineno).byte(0x86);
  };
  const tbMemo = new Map<number, number>();
  const traceback = (g: TraceGroup) => {
    const known = tbMemo.get(g.traceback.id);
    if (known !== undefined) return void w.get(known);
    const frames = style.tracebackObjects ? g.traceback.frames.slice().reverse() : g.traceback.frames;
    const tuple = () => {
      w.byte(0x28);
      frames.forEach(frame);
      w.byte(0x74);
    };
    if (style.tracebackObjects) w.slotsObject('Traceback', [['_frames', tuple], ['_total_nframe', () => w.byte(0x4e)]]);
    else tuple();
    tbMemo.set(g.traceback.id, w.memoize());
  };
  const trace = (g: TraceGroup, size: number) => {
    const tuple = () => {
      w.byte(0x28);
      if (style.fields >= 3) w.int(g.domain);
      w.int(size);
      traceback(g);
      if (style.fields === 4) w.int(g.traceback.frames.length);
      w.byte(0x74);
    };
    if (style.traceObjects) w.slotsObject('Trace', [['_trace', tuple]]);
    else tuple();
  };
  const traceList = () => {
    w.byte(0x5d, 0x28);
    for (const g of groups) for (let i = 0; i < g.count; i++) trace(g, i === 0 ? g.size : 0);
    w.byte(0x65);
  };
  if (style.top === 'list') traceList();
  else if (style.reduce) {
    w.global('Snapshot');
    traceList();
    w.int(limit).byte(0x86, 0x52);
  } else {
    w.global('Snapshot').byte(0x29, 0x81).byte(0x7d, 0x28).str('traces');
    w.global('_Traces').byte(0x29, 0x81).byte(0x7d).str('_traces');
    traceList();
    w.byte(0x73, 0x62).str('traceback_limit').int(limit).byte(0x75, 0x62);
  }
  return w.byte(0x2e).bytes();
}
