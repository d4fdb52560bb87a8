// Fuzzing the reader: any text, and real dumps with random damage, must end in a result or an
// InputError naming where — never another exception, never a hang.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMallocStats } from '../../src/ingest/malloc-stats.js';
import { InputError } from '../../src/util/errors.js';
import { mallocStatsFixtures } from '../helpers/fixtures.js';

const texts = mallocStatsFixtures()
  .filter((f) => /\/(3\.8|3\.11|3\.13)[^/]*\/(tuple-fragmentation|pythonmallocstats-[^/]*|mimalloc-dump|tracemalloc-dump)\.txt$/.test(f.name))
  .map((f) => readFileSync(f.txt, 'utf8'));

function parsesOrRejects(text: string, strict = false): void {
  try {
    const r = parseMallocStats(text, { file: 'fuzz.txt', strict });
    expect(Array.isArray(r.dumps)).toBe(true);
    for (const w of r.warnings) expect(typeof w.message).toBe('string');
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message.startsWith('fuzz.txt')).toBe(true);
  }
}

const damage = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.nat({ max: 400 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('insertLine' as const), at: fc.nat(), text: fc.constantFrom('...', '>>> ', '```', '= 12', '    3     64    12x4    5239    53', 'Total = 1,2,3', 'Small block threshold = 512, in 32 size classes.', 'arena map counts', '  9 free PyDictObjects * 48 bytes each = 432') }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('digit' as const), at: fc.nat(), digit: fc.constantFrom('0', '9', ',', 'x', ' ') }),
);

type Damage = { kind: string; at: number; len?: number; text?: string; digit?: string };

function apply(text: string, ops: Damage[]): string {
  let s = text;
  for (const op of ops) {
    const at = s.length ? op.at % s.length : 0;
    if (op.kind === 'delete') s = s.slice(0, at) + s.slice(at + (op.len ?? 0));
    else if (op.kind === 'insert') s = s.slice(0, at) + op.text + s.slice(at);
    else if (op.kind === 'insertLine') {
      const nl = s.indexOf('\n', at);
      const p = nl < 0 ? s.length : nl + 1;
      s = `${s.slice(0, p)}${op.text}\n${s.slice(p)}`;
    } else if (op.kind === 'truncate') s = s.slice(0, at);
    else if (op.kind === 'digit') s = s.slice(0, at) + op.digit + s.slice(at + 1);
  }
  return s;
}

describe('malloc-stats reader under fuzzing', () => {
  it('has real texts to damage', () => {
    expect(texts.length).toBeGreaterThanOrEqual(4);
  });

  it('survives arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 2000 }), (s) => parsesOrRejects(s)), { numRuns: 300 });
  });

  it('survives real dumps with random damage, strict or not', () => {
    fc.assert(
      fc.property(fc.constantFrom(...texts), fc.array(damage, { minLength: 1, maxLength: 6 }), fc.boolean(), (text, ops, strict) => {
        parsesOrRejects(apply(text, ops), strict);
      }),
      { numRuns: 400 },
    );
  });
});
