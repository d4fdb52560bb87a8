// Printed tracemalloc output read back: every print(stat) / compare_to / recipe file real CPythons
// wrote (fixtures/tracemalloc), the same text as humans paste it (fixtures/bad/handmade-
// tracemalloc-*.txt, fixtures/gen/tracemalloc_mangle.py), and fast-check fuzzing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePrintedSize, parseTracemallocText, sniffTracemallocText, splitPrefix } from '../../src/ingest/tracemalloc-text.js';
import { TRACEMALLOC_PARAMS } from '../../src/model/params.js';
import { formatSize, formatStatistic, formatStatisticDiff } from '../../src/model/tracemalloc-text.js';
import type { PrintedSize, PrintedStatistic } from '../../src/model/types.js';
import { InputError } from '../../src/util/errors.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { tracemallocFixtures } from '../helpers/tracemalloc-fixtures.js';

const within = (v: number, s: PrintedSize) => v >= s.min && v <= s.max;

describe('print(stat) output of real CPythons, read back', () => {
  for (const f of tracemallocFixtures()) {
    for (const o of f.truth.outputs) {
      it(`${f.name} ${o.file}`, () => {
        const text = readFileSync(join(f.dir, o.file), 'utf8');
        const lines = text.split('\n');
        expect(sniffTracemallocText(text) || o.values.length === 0).toBe(true);
        if (o.values.length === 0) return;
        const { printed, warnings } = parseTracemallocText(text);
        expect(warnings).toEqual([]);
        const stats = printed.statistics;
        expect(stats).toHaveLength(o.values.length);
        stats.forEach((s, i) => {
          const v = o.values[i]!;
          const line = lines[s.line - 1]!;
          if (o.kind === 'statistics' || o.kind === 'compare_to') {
            expect(s.kind).toBe(o.kind === 'statistics' ? 'statistic' : 'diff');
            // The file name as Lib/tracemalloc.py printed it: "%s:%s: size=" % (filename, lineno).
            expect(s.frame).toEqual({ filename: line.slice(0, line.lastIndexOf(`:${v[0]}: size=`)), lineno: v[0] });
            expect(within(v[1]!, s.size)).toBe(true);
            if (o.kind === 'statistics') {
              expect(s.count).toBe(v[2]);
              if (v[2]) expect(within(v[1]! / v[2]!, s.average!)).toBe(true);
            } else {
              expect(within(v[2]!, s.sizeDiff!)).toBe(true);
              expect([s.count, s.countDiff]).toEqual([v[3], v[4]]);
              if (v[3]) expect(within(v[1]! / v[3]!, s.average!)).toBe(true);
              else expect(s.average).toBeUndefined();
            }
          } else if (o.kind === 'recipe') {
            expect(s.kind).toBe('blocks');
            expect(s.count).toBe(v[2]);
            expect(within(v[1]!, s.size)).toBe(true);
          } else {
            expect(s.kind).toBe('top');
            expect(s.frame!.lineno).toBe(v[0]);
            expect(within(v[1]!, s.size)).toBe(true);
          }
          if (o.traceback_format || o.kind === 'recipe') {
            const next = stats[i + 1]?.line ?? lines.length + 1;
            const fileLines = lines.slice(s.line, next - 1).filter((l) => l.startsWith('  File "'));
            expect(s.frames?.length ?? 0).toBe(fileLines.length);
          }
        });
        if (o.header) expect(printed.headers.map((h) => h.text)).toEqual([o.header]);
        if (o.group_by === 'filename') expect(printed.groupBy).toBe('filename');
      });
    }
  }
});

describe('pasted by humans (fixtures/bad/handmade-tracemalloc-*.txt)', () => {
  const manifest = JSON.parse(readFileSync(join(FIXTURES, 'bad', 'handmade-tracemalloc-text.json'), 'utf8')) as {
    files: Record<string, { mangling: string; frames: number | null; statistics: Record<string, number | string | boolean>[] }>;
  };
  for (const [name, m] of Object.entries(manifest.files)) {
    it(`${name}: ${m.mangling}`, () => {
      const { printed } = parseTracemallocText(readFileSync(join(FIXTURES, 'bad', name), 'utf8'), { file: name });
      expect(printed.statistics).toHaveLength(m.statistics.length);
      printed.statistics.forEach((s: PrintedStatistic, i) => {
        const e = m.statistics[i]!;
        expect(s.line).toBe(e.line);
        expect(s.frame).toEqual({ filename: e.filename, lineno: e.lineno });
        if (e.count !== undefined) expect(s.count).toBe(e.count);
        else expect(s.count).toBeUndefined();
        if (e.size !== undefined) expect(within(e.size as number, s.size)).toBe(true);
        if (e.size_diff !== undefined) expect(within(e.size_diff as number, s.sizeDiff!)).toBe(true);
        if (e.count_diff !== undefined) expect(s.countDiff).toBe(e.count_diff);
        expect(Boolean(s.truncated)).toBe(Boolean(e.truncated));
      });
      if (m.frames !== null) expect(printed.statistics.reduce((a, s) => a + (s.frames?.length ?? 0), 0)).toBe(m.frames);
    });
  }
});

describe('_format_size values parsed back', () => {
  // Outputs verified on CPython 3.11 (shared/cpython-memory-facts.md §4.6).
  const verified: [number, boolean, string][] = [
    [0, false, '0 B'], [0, true, '+0 B'], [99, false, '99 B'], [1024, false, '1024 B'], [10239, false, '10239 B'],
    [10240, false, '10.0 KiB'], [10752, false, '10.5 KiB'], [102399, false, '100.0 KiB'], [102400, false, '100 KiB'],
    [1048575, false, '1024 KiB'], [10485759, false, '10240 KiB'], [10485760, false, '10.0 MiB'], [5 * 1024 ** 4, false, '5120 GiB'],
    [20 * 1024 ** 5, false, '20480 TiB'], [2.5, false, '2 B'], [1.5, false, '2 B'], [0.5, false, '0 B'], [-0.5, true, '-0 B'],
  ];
  it('formatSize prints what CPython printed', () => {
    for (const [v, sign, text] of verified) expect(formatSize(v, sign)).toBe(text);
  });
  it('the interval of a whole-byte size is exactly the sizes that print so', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.boolean(), (n, signed) => {
        const text = formatSize(n, signed);
        const s = parsePrintedSize(text, { integer: true, signed });
        expect(within(n, s)).toBe(true);
        expect(formatSize(s.min, signed)).toBe(text);
        expect(formatSize(s.max, signed)).toBe(text);
        expect(formatSize(s.min - 1, signed)).not.toBe(text);
        expect(formatSize(s.max + 1, signed)).not.toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('fuzzing the text reader', () => {
  const p = TRACEMALLOC_PARAMS[TRACEMALLOC_PARAMS.length - 1]!;
  const filename = fc.oneof(
    fc.constantFrom('<string>', '<frozen importlib._bootstrap>', 'C:\\Program Files\\My App\\main.py', '/srv/\u{1F600}.py', 'app.py', '/usr/lib/python3.12/json/decoder.py', '\\\\server\\share\\x.py'),
    fc.stringMatching(/^\/[a-z_]{1,8}(\/[a-z_ ]{1,8}){0,3}\.py$/),
  );
  const prefix = fc.constantFrom('', '    ', '\t', '> ', '2024-05-01 12:00:00,123 INFO app: ', 'web-1  | ', '[12:00:01] ');
  const stat = fc.record({
    filename,
    lineno: fc.nat(100000),
    size: fc.nat(2 ** 45),
    count: fc.nat(1000000),
    sizeDiff: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    countDiff: fc.integer({ min: -100000, max: 100000 }),
    diff: fc.boolean(),
  });

  it('reads back every statistic CPython would print, under any paste prefix and line end', () => {
    fc.assert(
      fc.property(fc.array(stat, { minLength: 1, maxLength: 8 }), prefix, fc.constantFrom('\n', '\r\n'), (stats, pre, nl) => {
        const lines = stats.map((s) => {
          const tb = [{ filename: s.filename, lineno: s.lineno }];
          return pre + (s.diff ? formatStatisticDiff({ traceback: tb, size: s.size, sizeDiff: s.sizeDiff, count: s.count, countDiff: s.countDiff }, p) : formatStatistic({ traceback: tb, size: s.size, count: s.count }, p));
        });
        const { printed } = parseTracemallocText(lines.join(nl) + nl);
        expect(printed.statistics).toHaveLength(stats.length);
        printed.statistics.forEach((r, i) => {
          const s = stats[i]!;
          expect(r.frame).toEqual({ filename: s.filename, lineno: s.lineno });
          expect(within(s.size, r.size)).toBe(true);
          expect(r.count).toBe(s.count);
          if (s.diff) {
            expect(within(s.sizeDiff, r.sizeDiff!)).toBe(true);
            expect(r.countDiff).toBe(s.countDiff);
          }
        });
      }),
      { numRuns: 500 },
    );
  });

  it('a line cut anywhere is read as far as it goes, or not at all; never wrongly', () => {
    fc.assert(
      fc.property(stat, fc.nat(), (s, at) => {
        const tb = [{ filename: s.filename, lineno: s.lineno }];
        const full = s.diff
          ? formatStatisticDiff({ traceback: tb, size: s.size, sizeDiff: s.sizeDiff, count: s.count, countDiff: s.countDiff }, p)
          : formatStatistic({ traceback: tb, size: s.size, count: s.count }, p);
        const cut = full.slice(0, at % (full.length + 1));
        let printed;
        try {
          printed = parseTracemallocText(cut).printed;
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          return;
        }
        const r = printed.statistics[0]!;
        expect(r.frame!.lineno).toBe(s.lineno);
        if (Number.isFinite(r.size.bytes)) expect(within(s.size, r.size)).toBe(true);
        if (r.count !== undefined) expect(r.count).toBe(s.count);
        if (r.countDiff !== undefined) expect(r.countDiff).toBe(s.countDiff);
      }),
      { numRuns: 2000 },
    );
  });

  it('any text: a result or an InputError, quickly', () => {
    const pieces = fc.constantFrom('x.py:1: size=', '10.5 KiB', ', count=', '3', ' (+1)', ' (', ', average=', '  File "a.py", line 3', '\n', '    src', ' memory blocks: ', '#1: ', ':', ' ', 'KiB', '\r', '[ Top 10 ]');
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 60 }), (parts) => {
        const t0 = Date.now();
        try {
          parseTracemallocText(parts.join(''));
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
        }
        expect(Date.now() - t0).toBeLessThan(1000);
      }),
      { numRuns: 1000 },
    );
  });

  it('splits log prefixes from file names', () => {
    expect(splitPrefix('2024-05-01 12:00:00,123 INFO app: C:\\Program Files\\x.py')).toMatchObject({ prefix: '2024-05-01 12:00:00,123 INFO app: ', filename: 'C:\\Program Files\\x.py' });
    expect(splitPrefix('INFO:root:tracemalloc_worker.py')).toMatchObject({ prefix: 'INFO:root:', filename: 'tracemalloc_worker.py' });
    expect(splitPrefix('web-1  | <frozen importlib._bootstrap>')).toMatchObject({ prefix: 'web-1  | ', filename: '<frozen importlib._bootstrap>' });
  });
});

// What programs print around str(stat) in real logs: a rank ("#1: "), their own message with the
// statistic as one key=value ("top_current i=1, stat=…"), and a "Top N lines" recipe cut mid-line.
describe('real output with a program-made prefix, or a recipe line cut short', () => {
  const src = join(FIXTURES, 'tracemalloc', '3.11.7-linux-x86_64', 'stats-B-lineno.txt');
  // relative names, as CPython prints a script run from its own folder
  const lines = readFileSync(src, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.replace(/^\/\S*\/(tracemalloc_\w+\.py:\d+: size=)/, '$1'));
  const base = parseTracemallocText(lines.join('\n') + '\n').printed.statistics;
  const strip = (ss: PrintedStatistic[]) => ss.map(({ line: _l, ...s }) => s);
  const mangles: [string, (l: string, i: number) => string][] = [
    ['a rank "#N: " before each statistic', (l, i) => `#${i + 1}: ${l}`],
    ['a logger stamp and message "… i=N, stat=" before each', (l, i) => `2020-12-02 16:04:33.${String(i * 37).padStart(6, '0')}: memwatch] top_current i=${i + 1}, stat=${l}`],
  ];
  it('the fixture has relative names to split', () => {
    expect(base.some((s) => s.frame!.filename.startsWith('tracemalloc_'))).toBe(true);
  });
  for (const [what, f] of mangles) {
    it(`${what}: the same statistics, file names included`, () => {
      const { printed, warnings } = parseTracemallocText(lines.map(f).join('\n') + '\n');
      expect(strip(printed.statistics)).toEqual(strip(base));
      expect(warnings).toEqual([]);
    });
  }

  it('a "#N: file:line: X KiB" line cut after its line number is kept as far as it goes, with a warning', () => {
    const text = readFileSync(join(FIXTURES, 'tracemalloc', '3.11.7-linux-x86_64', 'display-top-C-8.txt'), 'utf8');
    const whole = parseTracemallocText(text).printed.statistics;
    const last = whole[whole.length - 1]!;
    const start = text.split('\n').slice(0, last.line - 1).join('\n').length + 1;
    const lineText = text.slice(start, text.indexOf('\n', start));
    const from = lineText.lastIndexOf(': ') + 2; // after "#8: file:92: "
    for (let at = from; at < lineText.length; at++) {
      for (const eol of ['', '\n']) {
        const r = parseTracemallocText(text.slice(0, start + at) + eol);
        const s = r.printed.statistics;
        expect(s).toHaveLength(whole.length);
        const cut = s[s.length - 1]!;
        expect(cut.frame).toEqual(last.frame);
        expect(cut.truncated).toBe(true);
        if (Number.isFinite(cut.size.bytes)) expect(cut.size).toEqual(last.size);
        expect(r.warnings.map((w) => [w.code, w.line])).toEqual([['truncated-line', last.line]]);
      }
    }
  });
});
