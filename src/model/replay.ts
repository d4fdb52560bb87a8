// One pass of a recorded allocation-event stream through the pymalloc model.
//
// The recorder appends a record when a hooked call returns, so the arena records of arenas that a
// call created or released come just BEFORE that call's record (../shared/recording-notes.md).
// Nested arena_alloc addresses are queued and handed to the model when it needs a new arena;
// nested arena_free records are queued and checked against the arenas the model releases.
// Non-nested arena records (3.11+ frame data-stack chunks) are not pymalloc's and are skipped.
//
// The only strong oracle is the address of every block, so each pymalloc result is compared with
// the recorded one; after a divergence the model goes on with its own addresses, translating the
// recorded pointers of later frees and reallocs, so the rest of the run is still measured.

import { PointerMap } from './address-table.js';
import { PymallocModel, type ModelFault } from './pymalloc.js';
import type { PymallocParams } from './params.js';
import { EVENT_OPS, FLAG_NESTED, OP_ARENA_ALLOC, OP_ARENA_FREE, OP_CALLOC, OP_FREE, OP_MALLOC, OP_REALLOC, OP_STATS, type EventBatch, type MallocStats } from './types.js';

export type AllocOp = 'malloc' | 'calloc' | 'realloc' | 'free' | 'arena_alloc' | 'arena_free' | 'gc_start' | 'gc_stop' | 'stats' | 'note';

/** The fields of a recorded event the allocator model needs (the interchange CSV's columns). */
export interface AllocEvent {
  op: AllocOp;
  /** 'mem' | 'obj' for allocator ops. */
  domain?: string;
  size: number;
  /** Input pointer (realloc's old pointer, free's pointer, arena_free's address); 0 if none. */
  ptr: number;
  /** Returned pointer (malloc/calloc/realloc result, arena_alloc address); 0 if none. */
  result: number;
  /** For arena ops: called inside a MEM/OBJ call, i.e. a pymalloc arena. */
  nested?: boolean;
  /** For stats: the real dump file. */
  label?: string;
}

/** One arena allocated or released by the model, with the counts right after it. */
export interface ArenaChange {
  /** 0-based index of the MEM/OBJ call that caused it. */
  event: number;
  kind: 'alloc' | 'free';
  address: number;
  /** narenas_currently_allocated after the change. */
  current: number;
  /** ntimes_arena_allocated after the change. */
  allocatedTotal: number;
}

export interface Divergence {
  /** 0-based index of the event in the stream. */
  event: number;
  op: AllocOp;
  expected: string;
  recorded: string;
}

export interface Marker {
  event: number;
  label?: string;
  /** sys.getallocatedblocks() recorded at the marker, and the model's value. */
  recordedAllocatedBlocks?: number;
  modelAllocatedBlocks: number;
  stats: MallocStats;
}

export interface ReplaySummary {
  events: number;
  /** pymalloc-or-raw decisions checked against a recorded address. */
  addressesChecked: number;
  addressesPredicted: number;
  arenas: { allocatedTotal: number; reclaimed: number; highwater: number; final: number };
  /** Arena addresses the model wanted but the log did not have, or released differently. */
  arenaMismatches: number;
  divergences: Divergence[];
  /** True when the arena addresses were invented (what-if geometry). */
  syntheticAddresses: boolean;
}

export interface ReplayOptions {
  params: PymallocParams;
  /** Replay under another geometry: arena addresses are invented and blocks compared only in kind. */
  synthetic?: boolean;
  /** Called at every stats marker with the model's dump at that point. */
  onMarker?(marker: Marker): void;
  /** Called every so many events (progress). */
  onProgress?(events: number): void;
  /** Called when the model allocates or releases an arena (the arena timeline); `event` is the call's index. */
  onArenaChange?(change: ArenaChange): void;
  /** Keep at most this many divergences (default 20). */
  maxDivergences?: number;
  /** A deliberately wrong model variant (negative controls in tests). */
  fault?: ModelFault;
}

const hex = (p: number) => `0x${p.toString(16)}`;

export class Replay {
  readonly model: PymallocModel;
  private readonly arenaQueue: number[] = [];
  private readonly freedQueue: number[] = [];
  /** recorded pointer → model pointer, for blocks whose addresses differ. */
  private readonly translate = new PointerMap();
  private nextSynthetic = 0x100000000000;
  private readonly synthetic: boolean;
  private n = 0;
  readonly summary: ReplaySummary;

  constructor(private readonly opts: ReplayOptions) {
    this.synthetic = Boolean(opts.synthetic);
    this.summary = {
      events: 0,
      addressesChecked: 0,
      addressesPredicted: 0,
      arenas: { allocatedTotal: 0, reclaimed: 0, highwater: 0, final: 0 },
      arenaMismatches: 0,
      divergences: [],
      syntheticAddresses: Boolean(opts.synthetic),
    };
    this.model = new PymallocModel(
      opts.params,
      () => this.takeArena(),
      {
        onArenaFree: (address) => {
          this.arenaFreed(address);
          this.arenaChanged('free', address);
        },
        onArenaAlloc: (address) => this.arenaChanged('alloc', address),
      },
      opts.fault,
    );
  }

  private takeArena(): number | undefined {
    if (this.opts.synthetic) {
      // Invented, ARENA_SIZE-aligned addresses: what-if runs have no real ones.
      const a = this.nextSynthetic;
      this.nextSynthetic += this.opts.params.arenaSize;
      return a;
    }
    const a = this.arenaQueue.shift();
    if (a === undefined) {
      this.summary.arenaMismatches++;
      this.diverge('arena_alloc', 'a new arena from the log', 'no arena_alloc record before this call');
      // Go on with an invented address so the rest of the run is still measured.
      const s = this.nextSynthetic;
      this.nextSynthetic += this.opts.params.arenaSize;
      return s;
    }
    return a;
  }

  private arenaChanged(kind: 'alloc' | 'free', address: number): void {
    const m = this.model;
    this.opts.onArenaChange?.({ event: this.n, kind, address, current: m.narenasCurrentlyAllocated, allocatedTotal: m.ntimesArenaAllocated });
  }

  private arenaFreed(address: number): void {
    if (this.opts.synthetic) return;
    const expected = this.freedQueue.shift();
    if (expected !== address) {
      this.summary.arenaMismatches++;
      this.diverge('arena_free', `release of arena ${hex(address)}`, expected === undefined ? 'no arena_free record' : `arena_free of ${hex(expected)}`);
    }
  }

  private diverge(op: AllocOp, expected: string, recorded: string): void {
    if (this.summary.divergences.length < (this.opts.maxDivergences ?? 20)) {
      this.summary.divergences.push({ event: this.n, op, expected, recorded });
    }
  }

  private inModelArena(p: number): boolean {
    return this.model.arenaOf(p) !== undefined;
  }

  /** Compare a model result with the recorded one; remember the pair when they differ. */
  private check(code: number, model: number, recorded: number): void {
    if (recorded === 0) return; // a failed call: nothing to compare
    const s = this.summary;
    s.addressesChecked++;
    if (model === recorded && !this.synthetic) {
      // The common case, once per allocation: nothing else to do unless a divergence left pointers
      // to translate.
      s.addressesPredicted++;
      if (this.translate.size !== 0) this.translate.delete(recorded);
      return;
    }
    const op = EVENT_OPS[code] as AllocOp;
    if (model === PymallocModel.RAW) {
      // Raw memory cannot be predicted, only that it is not in an arena.
      if (this.synthetic || !this.inModelArena(recorded)) s.addressesPredicted++;
      else this.diverge(op, 'a raw block (outside every arena)', `${hex(recorded)}, inside an arena`);
      this.translate.delete(recorded);
      return;
    }
    if (this.synthetic) s.addressesPredicted++;
    else this.diverge(op, hex(model), hex(recorded));
    this.translate.set(recorded, model);
  }

  private modelPtr(recorded: number): number {
    if (recorded === 0 || this.translate.size === 0) return recorded;
    return this.translate.get(recorded, recorded);
  }

  /** Feed one event. */
  push(e: AllocEvent): void {
    this.step(EVENT_OPS.indexOf(e.op), e.nested ? FLAG_NESTED : 0, e.size, e.ptr, e.result, e.label);
    this.n++;
    if ((this.n & 0xfffff) === 0) this.opts.onProgress?.(this.n);
  }

  /**
   * Feed a batch of events: the fast path, with no object per event. Allocations whose address
   * the model predicted and frees (most of any log) are handled here, in code that V8 inlines
   * whole, so that no pointer is boxed into a heap number on the way; the rest goes to step().
   */
  pushBatch(b: EventBatch): void {
    const m = this.model;
    const s = this.summary;
    const { op, flags, size, ptr, result } = b;
    for (let i = 0; i < b.length; i++) {
      const code = op[i]!;
      if (code === OP_MALLOC || code === OP_CALLOC) {
        const r = m.malloc(size[i]!);
        const recorded = result[i]!;
        if (r === recorded && !this.synthetic && this.translate.size === 0) {
          s.addressesChecked++;
          s.addressesPredicted++;
        } else {
          this.check(code, r, recorded);
        }
      } else if (code === OP_FREE && this.translate.size === 0) {
        m.free(ptr[i]!);
      } else {
        this.step(code, flags[i]!, size[i]!, ptr[i]!, result[i]!, code === OP_STATS ? b.labels.get(i) : undefined);
      }
      this.n++;
    }
    this.opts.onProgress?.(this.n);
  }

  /** One event, as the op code and fields of an EventBatch row (the caller counts it). */
  private step(code: number, flags: number, size: number, ptr: number, result: number, label: string | undefined): void {
    const m = this.model;
    switch (code) {
      case OP_MALLOC:
      case OP_CALLOC:
        this.check(code, m.malloc(size), result);
        break;
      case OP_REALLOC: {
        const old = this.modelPtr(ptr);
        if (result === 0 && size !== 0) break; // failed realloc: the old block is untouched
        const r = m.realloc(old, size);
        if (old !== 0 && ptr !== result && this.translate.size !== 0) this.translate.delete(ptr);
        this.check(code, r, result);
        break;
      }
      case OP_FREE: {
        if (ptr === 0) break;
        const p = this.modelPtr(ptr);
        if (this.translate.size !== 0) this.translate.delete(ptr);
        m.free(p);
        break;
      }
      case OP_ARENA_ALLOC:
        if (flags & FLAG_NESTED && !this.synthetic) this.arenaQueue.push(result);
        break;
      case OP_ARENA_FREE:
        if (flags & FLAG_NESTED && !this.synthetic) this.freedQueue.push(ptr);
        break;
      case OP_STATS: {
        const stats = m.stats();
        this.opts.onMarker?.({
          event: this.n,
          label,
          recordedAllocatedBlocks: size >= 0 ? size : undefined,
          modelAllocatedBlocks: m.allocatedBlocks(),
          stats,
        });
        break;
      }
      default:
        break;
    }
  }

  /** Finish: arena records never used are divergences too. */
  end(): ReplaySummary {
    const s = this.summary;
    s.events = this.n;
    if (this.arenaQueue.length) {
      s.arenaMismatches += this.arenaQueue.length;
      this.diverge('arena_alloc', 'no further arena', `${this.arenaQueue.length} arena_alloc record(s) the model never needed`);
    }
    const m = this.model;
    s.arenas = {
      allocatedTotal: m.ntimesArenaAllocated,
      reclaimed: m.ntimesArenaAllocated - m.narenasCurrentlyAllocated,
      highwater: m.narenasHighwater,
      final: m.narenasCurrentlyAllocated,
    };
    return s;
  }
}

/** Replay a whole stream. */
export function replayEvents(events: Iterable<AllocEvent>, opts: ReplayOptions): ReplaySummary {
  const r = new Replay(opts);
  for (const e of events) r.push(e);
  return r.end();
}
