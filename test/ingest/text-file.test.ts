// Text inputs are streamed (src/ingest/text-file.ts): read in 1 MiB pieces, gunzipped by a worker
// thread, handed to the push-based readers. These tests hold the streamed reading to what reading the
// whole file gave: the same text, the same results, the same errors in the same order.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readInputFile, readText } from '../../src/ingest/index.js';
import { parseMallocStats } from '../../src/ingest/malloc-stats.js';
import { parseGcDebugStats } from '../../src/ingest/gc-debug-stats.js';
import { forEachTextPiece, PIECE_BYTES } from '../../src/ingest/text-file.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const fixture = (p: string) => join(ROOT, 'fixtures', p);
const dir = mkdtempSync(join(tmpdir(), 'cpymem-text-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, data: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

function errorOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

// A PYTHONMALLOCSTATS-like stream of real dumps, several pieces long.
const dumps = readFileSync(fixture('malloc-stats/3.11.7-linux-x86_64/pythonmallocstats-small-objects.txt'), 'utf8');
const stream = dumps.repeat(Math.ceil((3 * PIECE_BYTES) / dumps.length));

describe('forEachTextPiece', () => {
  it('gives the same text as reading the whole file, plain and gzip (two members), in several pieces', () => {
    const plain = write('stream.txt', stream);
    const gz = write('stream.txt.gz', Buffer.concat([gzipSync(stream.slice(0, 1000)), gzipSync(stream.slice(1000))]));
    for (const file of [plain, gz]) {
      const pieces: string[] = [];
      forEachTextPiece(file, (t) => pieces.push(t));
      expect(pieces.length).toBeGreaterThan(2);
      expect(pieces.join('')).toBe(stream);
    }
  });

  it('never splits a character: a multi-byte character across a piece boundary', () => {
    const text = `${'a'.repeat(PIECE_BYTES - 1)}é€😀\n${'b'.repeat(10)}`;
    for (const file of [write('utf8.txt', text), write('utf8.txt.gz', gzipSync(text))]) {
      const pieces: string[] = [];
      forEachTextPiece(file, (t) => pieces.push(t));
      expect(pieces.join('')).toBe(text);
      expect(pieces.join('')).toBe(Buffer.from(text).toString('utf8'));
    }
  });

  it('keeps the errors of reading the whole file: missing, directory, damaged gzip, NUL', () => {
    expect(errorOf(() => readText(join(dir, 'nope.txt'))).message).toBe(`${join(dir, 'nope.txt')}: no such file`);
    mkdirSync(join(dir, 'sub'), { recursive: true });
    expect(errorOf(() => readText(join(dir, 'sub'))).code).toBe('E_IS_DIRECTORY');
    const whole = gzipSync(stream);
    const cut = whole.subarray(0, whole.length - 100);
    const expected = errorOf(() => gunzipSync(cut)).message;
    const gz = write('cut.txt.gz', cut);
    expect(errorOf(() => readText(gz))).toMatchObject({ code: 'E_GZIP', message: `${gz}: byte ${cut.length}: expected a complete gzip stream, found it cut short at the end of the file (${expected})` });
    const at = 2 * PIECE_BYTES + 17;
    const nul = `${stream.slice(0, at)}\0${stream.slice(at + 1)}`;
    for (const file of [write('nul.txt', nul), write('nul.txt.gz', gzipSync(nul))]) {
      expect(errorOf(() => readText(file))).toMatchObject({ code: 'E_BINARY', message: `${file}: byte ${at}: expected text, found a NUL byte (binary file?)` });
    }
  });

  it('a damaged gzip stream comes before a NUL byte, and both before what the reader throws', () => {
    const nul = `${stream.slice(0, 100)}\0${stream.slice(101)}`;
    const z = gzipSync(nul);
    expect(errorOf(() => readText(write('nul-cut.txt.gz', z.subarray(0, z.length - 50)))).code).toBe('E_GZIP');
    const late = `${stream.slice(0, 2 * PIECE_BYTES)}\0`;
    const file = write('late-nul.txt', late);
    expect(errorOf(() => forEachTextPiece(file, () => { throw new Error('reader'); })).code).toBe('E_BINARY');
    expect(errorOf(() => forEachTextPiece(write('fine.txt', stream), () => { throw new Error('reader'); })).message).toBe('reader');
  });
});

describe('readInputFile streams text formats', () => {
  it('reads a multi-piece PYTHONMALLOCSTATS stream, plain and gzip, as parsing the whole text does', () => {
    const whole = parseMallocStats(stream, { file: 'x' });
    for (const file of [write('ms.txt', stream), write('ms.txt.gz', gzipSync(stream))]) {
      const input = readInputFile(file);
      expect(input.format).toBe('malloc-stats');
      if (input.format !== 'malloc-stats') continue;
      expect(input.dumps.length).toBe(whole.dumps.length);
      expect(input.dumps).toEqual(parseMallocStats(stream, { file }).dumps);
    }
  });

  it('finds a GC log whose first gc line comes after megabytes of program output (a service log)', () => {
    const log = readFileSync(fixture('gc/3.11.7-linux-x86_64/debug-stats.txt'), 'utf8');
    const text = `${'program output\n'.repeat(200_000)}${log}`;
    const file = write('late-gc.txt', text);
    const truth = parseGcDebugStats(text, { file }).log.collections;
    const input = readInputFile(file);
    expect(input.format === 'gc-debug-stats' && input.log.collections).toEqual(truth);
    expect(truth.length).toBe(JSON.parse(readFileSync(fixture('gc/3.11.7-linux-x86_64/ground-truth.json'), 'utf8')).files['debug-stats.txt'].callbacks.collections.reduce((a: number, b: number) => a + b, 0));
    const forced = readInputFile(file, { format: 'gc-debug-stats' });
    expect(forced.format === 'gc-debug-stats' && forced.log.collections).toEqual(truth);
  });

  it('says how far it looked when no format turns up, and names an empty file as such', () => {
    const file = write('only-output.txt', 'program output\n'.repeat(200_000));
    const e = errorOf(() => readInputFile(file));
    expect(e.code).toBe('E_UNKNOWN_FORMAT');
    expect(e.message).toMatch(/found none in the first 2\.\d+ MiB/);
    expect(errorOf(() => readInputFile(write('empty.txt', ''))).message).toMatch(/empty\.txt: expected one of the formats cpymem reads .*, found an empty file$/);
    expect(errorOf(() => readInputFile(write('blank.txt', ' \n\n'))).code).toBe('E_EMPTY');
  });
});
