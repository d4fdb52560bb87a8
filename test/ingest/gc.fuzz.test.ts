// Fuzzing the GC-log readers: any text, and real logs with random damage, strict or not, must end
// in a result or an InputError naming the file — never another exception, never a hang.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GcCallbacksReader, parseGcCallbacks } from '../../src/ingest/gc-callbacks.js';
import { GcDebugStatsReader, parseGcDebugStats } from '../../src/ingest/gc-debug-stats.js';
import { InputError } from '../../src/util/errors.js';
import { GC_FIXTURES } from '../helpers/gc-fixtures.js';

const read = (p: string) => readFileSync(join(GC_FIXTURES, p), 'utf8');
// Cut to a few hundred lines each: damage anywhere in them is what matters.
const head = (text: string, lines = 300) => text.split('\n').slice(0, lines).join('\n');
const statsTexts = ['2.7.18-linux-x86_64/debug-collectable.txt', '3.6.15-linux-x86_64/debug-stats.txt', '3.12.1-linux-x86_64/debug-collectable.txt', '3.14.2-wasm32-emscripten/debug-stats.txt'].map((p) => head(read(p)));
const callbackTexts = ['3.8.18-linux-x86_64/callbacks.jsonl', '3.14.2-wasm32-emscripten/callbacks.jsonl'].map((p) => head(read(p), 120));

type Parse = (text: string, strict: boolean) => { log: { collections: unknown[]; warnings: { message: string }[] } };
const parsers: Record<string, Parse> = {
  'gc-debug-stats': (t, strict) => parseGcDebugStats(t, { file: 'fuzz.txt', strict }),
  'gc-callbacks': (t, strict) => parseGcCallbacks(t, { file: 'fuzz.txt', strict }),
  'gc-debug-stats chunked': (t, strict) => {
    const r = new GcDebugStatsReader({ file: 'fuzz.txt', strict });
    for (let i = 0; i < t.length; i += 5) r.push(t.slice(i, i + 5));
    return r.end();
  },
  'gc-callbacks chunked': (t, strict) => {
    const r = new GcCallbacksReader({ file: 'fuzz.txt', strict });
    for (let i = 0; i < t.length; i += 5) r.push(t.slice(i, i + 5));
    return r.end();
  },
};

function parsesOrRejects(parse: Parse, text: string, strict = false): void {
  try {
    const r = parse(text, strict);
    expect(Array.isArray(r.log.collections)).toBe(true);
    for (const w of r.log.warnings) expect(typeof w.message).toBe('string');
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message.startsWith('fuzz.txt:')).toBe(true);
  }
}

const damage = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.nat({ max: 300 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 40 }) }),
  fc.record({
    kind: fc.constant('insertLine' as const),
    at: fc.nat(),
    text: fc.constantFrom('gc: collecting generation 9...', 'gc: done, 1 unreachable, 5 uncollectable, 0.1s elapsed', 'gc: done, x', 'gc: objects in each generation:', 'gc: collectable <>', '{"phase":"stop","generation":1}', '{"phase":"start","generation":-1}', '{"phase":"start","generation":0,"thread":3,"t":"x"}', 'null', '```', '> gc: objects in permanent generation: 1e9'),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('char' as const), at: fc.nat(), ch: fc.constantFrom('0', '9', 'x', ' ', '\r', '{', '"', '.', '\n') }),
);

type Damage = { kind: string; at: number; len?: number; text?: string; ch?: string };

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
    else if (op.kind === 'char') s = s.slice(0, at) + op.ch + s.slice(at + 1);
  }
  return s;
}

describe('GC-log readers under fuzzing: only InputError escapes', () => {
  for (const [name, parse] of Object.entries(parsers)) {
    it(`${name}: arbitrary text`, () => {
      fc.assert(fc.property(fc.string({ maxLength: 1500 }), fc.boolean(), (s, strict) => parsesOrRejects(parse, s, strict)), { numRuns: 200 });
    });
    it(`${name}: real logs with random damage`, () => {
      const texts = name.startsWith('gc-callbacks') ? callbackTexts : statsTexts;
      fc.assert(
        fc.property(fc.constantFrom(...texts), fc.array(damage, { minLength: 1, maxLength: 6 }), fc.boolean(), (text, ops, strict) => {
          parsesOrRejects(parse, apply(text, ops as Damage[]), strict);
        }),
        { numRuns: 200 },
      );
    });
  }
});
