// Reading the numbers CPython printed, from a fixture's ground-truth JSON, by their printed labels.
import type { PrintedDump } from './fixtures.js';

/** The pymalloc summary lines of one dump, by what they mean; undefined when not printed. */
export interface PrintedTotals {
  arenasCurrent?: number;
  arenasHighwater?: number;
  allocated?: number;
  available?: number;
  unusedPools?: number;
  poolHeaders?: number;
  quantization?: number;
  arenaAlignment?: number;
  /** The first "Total": bytes in arenas (the second one, 3.10+, is the arena map's). */
  total?: number;
}

export function printedTotals(p: PrintedDump): PrintedTotals {
  const get = (test: (label: string) => boolean) => p.values.find(([label]) => test(label))?.[1];
  return {
    arenasCurrent: get((l) => l === '# arenas allocated current'),
    arenasHighwater: get((l) => l === '# arenas highwater mark'),
    allocated: get((l) => l === '# bytes in allocated blocks'),
    available: get((l) => l === '# bytes in available blocks'),
    unusedPools: get((l) => /^\d+ unused pools \* \d+ bytes$/.test(l)),
    poolHeaders: get((l) => l === '# bytes lost to pool headers'),
    quantization: get((l) => l === '# bytes lost to quantization'),
    arenaAlignment: get((l) => l === '# bytes lost to arena alignment'),
    total: get((l) => l === 'Total'),
  };
}
