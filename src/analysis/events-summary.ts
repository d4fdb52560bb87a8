// What an event stream holds, in one streamed pass: calls by op and domain, arenas (pymalloc's are
// the nested ones), threads, markers and GC collections per generation.

import type { EventSource } from '../ingest/events-bundle.js';
import type { EventDomain, EventOp } from '../model/types.js';

export type CallOp = 'malloc' | 'calloc' | 'realloc' | 'free';

export interface EventsSummary {
  records: number;
  byOp: Record<EventOp, number>;
  /** MEM/OBJ calls per op and domain. */
  calls: Record<CallOp, Record<EventDomain, number>>;
  arenas: { allocated: number; freed: number; nestedAllocated: number; nestedFreed: number };
  /** Distinct thread numbers seen. */
  threads: number;
  markers: { record: number; allocatedBlocks: number | null; label: string }[];
  gc: { collections: number[]; collected: number; uncollectable: number };
}

const OPS: readonly EventOp[] = ['malloc', 'calloc', 'realloc', 'free', 'arena_alloc', 'arena_free', 'gc_start', 'gc_stop', 'stats', 'note'];

export async function summariseEvents(source: EventSource): Promise<EventsSummary> {
  const byOp = Object.fromEntries(OPS.map((o) => [o, 0])) as Record<EventOp, number>;
  const calls = {
    malloc: { mem: 0, obj: 0 },
    calloc: { mem: 0, obj: 0 },
    realloc: { mem: 0, obj: 0 },
    free: { mem: 0, obj: 0 },
  } as Record<CallOp, Record<EventDomain, number>>;
  const arenas = { allocated: 0, freed: 0, nestedAllocated: 0, nestedFreed: 0 };
  const threads = new Set<number>();
  const markers: EventsSummary['markers'] = [];
  const gc = { collections: [] as number[], collected: 0, uncollectable: 0 };
  let records = 0;
  for await (const batch of source.batches()) {
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      byOp[e.op]++;
      threads.add(e.thread);
      switch (e.op) {
        case 'malloc':
        case 'calloc':
        case 'realloc':
        case 'free':
          if (e.domain) calls[e.op][e.domain]++;
          break;
        case 'arena_alloc':
          arenas.allocated++;
          if (e.nested) arenas.nestedAllocated++;
          break;
        case 'arena_free':
          arenas.freed++;
          if (e.nested) arenas.nestedFreed++;
          break;
        case 'gc_stop': {
          const g = e.generation ?? -1;
          if (g >= 0 && g < 16) {
            while (gc.collections.length <= g) gc.collections.push(0);
            gc.collections[g]!++;
          }
          if ((e.collected ?? -1) > 0) gc.collected += e.collected!;
          if ((e.uncollectable ?? -1) > 0) gc.uncollectable += e.uncollectable!;
          break;
        }
        case 'stats':
          markers.push({ record: records + i, allocatedBlocks: e.size >= 0 ? e.size : null, label: e.label ?? '' });
          break;
        default:
          break;
      }
    }
    records += batch.length;
  }
  return { records, byOp, calls, arenas, threads: threads.size, markers, gc };
}
