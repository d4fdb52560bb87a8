// The small functions cpymem re-implements for tracemalloc, against one real CPython's answers
// (fixtures/tracemalloc/python-facts-*.json, fixtures/gen/tracemalloc_pyfacts.py).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparePyStr } from '../../src/analysis/tracemalloc-stats.js';
import { printfFixed } from '../../src/model/tracemalloc-text.js';
import { fnmatch } from '../../src/util/fnmatch.js';
import { pyStrip } from '../../src/util/linecache.js';
import { FIXTURES } from '../helpers/fixtures.js';

const dir = join(FIXTURES, 'tracemalloc');
for (const file of readdirSync(dir).filter((f) => f.startsWith('python-facts-'))) {
  const facts = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    fnmatch: [string, string, boolean][];
    strip: [string, string][];
    printf: [number, string, string, string, string][];
    sorted: string[];
  };
  describe(`what CPython ${file.slice(13, -5)} answers`, () => {
    it('fnmatch.fnmatchcase()', () => {
      for (const [name, pattern, want] of facts.fnmatch) expect(fnmatch(name, pattern), `${JSON.stringify(name)} ~ ${JSON.stringify(pattern)}`).toBe(want);
    });
    it('str.strip()', () => {
      for (const [s, want] of facts.strip) expect(pyStrip(s)).toBe(want);
    });
    it('"%.0f" / "%.1f" / "%+.0f" / "%+.1f" (round half to even on the exact value)', () => {
      for (const [x, f0, f1, p0, p1] of facts.printf) {
        expect([printfFixed(x, 0), printfFixed(x, 1), printfFixed(x, 0, true), printfFixed(x, 1, true)], String(x)).toEqual([f0, f1, p0, p1]);
      }
    });
    it('sorted() of str: code point order', () => {
      expect([...facts.sorted].reverse().sort(comparePyStr)).toEqual(facts.sorted);
    });
  });
}
