// Locating the real fixtures and the ground truth their own processes wrote beside them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const FIXTURES = join(ROOT, 'fixtures');

export interface PrintedDump {
  threshold?: number | null;
  size_classes?: number | null;
  classes: [number, number, number, number, number][];
  values: [string, number][];
  free_lists: [string, number, number, number][];
  mimalloc?: [string, number][] | null;
  lines: number;
}

export interface GroundTruth {
  kind: string;
  file: string;
  python: { version: string; version_info: [number, number, number, string, number]; pointer_size: number; pymalloc?: boolean };
  dumps: { line: number; label?: string; allocated_blocks_before?: number; allocated_blocks_after?: number; printed: PrintedDump }[];
}

export interface MallocStatsFixture {
  /** Path relative to the repo, for test names. */
  name: string;
  txt: string;
  truth: GroundTruth;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** Every real malloc-stats fixture with its ground-truth JSON. */
export function mallocStatsFixtures(): MallocStatsFixture[] {
  const dir = join(FIXTURES, 'malloc-stats');
  return walk(dir)
    .filter((p) => p.endsWith('.json'))
    .map((json) => {
      const truth = JSON.parse(readFileSync(json, 'utf8')) as GroundTruth;
      const txt = json.replace(/\.json$/, '.txt');
      return { name: relative(ROOT, txt), txt, truth };
    })
    .filter((f) => {
      try {
        return statSync(f.txt).isFile();
      } catch {
        return false;
      }
    });
}
