// EventBatch (src/model/types.ts): events as columns, so that a pass over tens of millions of them
// (replay) allocates nothing per event. The events.bin decoder fills batches directly; the CSV
// reader's events are packed into them; readers that hand out Event objects unpack them here, so
// both shapes come from one decoder and cannot diverge.

import { FLAG_COLLECTING, FLAG_DOMAIN, FLAG_NESTED, FLAG_YOUNG, OP_ARENA_ALLOC, OP_ARENA_FREE, OP_FREE, OP_GC_START, OP_GC_STOP, OP_NOTE, OP_STATS, EVENT_OPS, type Event, type EventBatch, type EventDomain } from '../model/types.js';

const DOMAINS: readonly (EventDomain | undefined)[] = [undefined, 'mem', 'obj', undefined];

/** A batch with room for `capacity` rows. */
export function createEventBatch(capacity: number): EventBatch {
  return {
    length: 0,
    op: new Uint8Array(capacity),
    flags: new Uint8Array(capacity),
    thread: new Uint16Array(capacity),
    young: new Int32Array(capacity),
    size: new Float64Array(capacity),
    ptr: new Float64Array(capacity),
    result: new Float64Array(capacity),
    labels: new Map(),
  };
}

/** Row i of a batch as an Event object (the shape readers hand out one by one). */
export function eventOfRow(b: EventBatch, i: number): Event {
  const code = b.op[i]!;
  const flags = b.flags[i]!;
  const e: Event = { op: EVENT_OPS[code]!, thread: b.thread[i]!, size: 0, ptr: 0, result: 0 };
  if (code === OP_GC_START || code === OP_GC_STOP) {
    e.generation = b.size[i]!;
    e.collected = b.ptr[i]!;
    e.uncollectable = b.result[i]!;
  } else {
    e.size = b.size[i]!;
    if (code === OP_STATS || code === OP_NOTE) {
      const label = b.labels.get(i);
      if (label !== undefined) e.label = label;
    } else {
      e.ptr = b.ptr[i]!;
      e.result = b.result[i]!;
    }
  }
  const domain = DOMAINS[flags & FLAG_DOMAIN];
  if (domain && code <= OP_FREE) e.domain = domain;
  if (code === OP_ARENA_ALLOC || code === OP_ARENA_FREE) e.nested = (flags & FLAG_NESTED) !== 0;
  if (flags & FLAG_YOUNG) e.young = b.young[i]!;
  if (flags & FLAG_COLLECTING) e.collecting = true;
  return e;
}

/** The rows of a batch as Event objects. */
export function eventsOfBatch(b: EventBatch): Event[] {
  const out = new Array<Event>(b.length);
  for (let i = 0; i < b.length; i++) out[i] = eventOfRow(b, i);
  return out;
}

/** Events packed into a batch (the inverse of eventsOfBatch). */
export function batchOfEvents(events: readonly Event[], into?: EventBatch): EventBatch {
  const b = into && into.op.length >= events.length ? into : createEventBatch(events.length);
  b.length = events.length;
  b.labels.clear();
  let young = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const code = EVENT_OPS.indexOf(e.op);
    const gc = code === OP_GC_START || code === OP_GC_STOP;
    b.op[i] = code;
    b.flags[i] = (e.domain === 'mem' ? 1 : e.domain === 'obj' ? 2 : 0) | (e.nested ? FLAG_NESTED : 0) | (e.young !== undefined ? FLAG_YOUNG : 0) | (e.collecting ? FLAG_COLLECTING : 0);
    b.thread[i] = e.thread;
    if (e.young !== undefined) young = e.young;
    b.young[i] = young;
    b.size[i] = gc ? (e.generation ?? -1) : e.size;
    b.ptr[i] = gc ? (e.collected ?? -1) : e.ptr;
    b.result[i] = gc ? (e.uncollectable ?? -1) : e.result;
    if (e.label !== undefined) b.labels.set(i, e.label);
  }
  return b;
}
