// The interchange CSV: export from real bundles, import, export again (byte-identical), and what a
// CSV that breaks the schema gives (exit 2 with the line and the column).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { eventsOf, openEventsBundle, type EventSource } from '../../src/ingest/events-bundle.js';
import { CSV_HEADER, openEventsCsv, sniffEventsCsv } from '../../src/ingest/events-csv.js';
import { sniffEventFormat } from '../../src/ingest/index.js';
import type { Event } from '../../src/model/types.js';
import { memoryIo } from '../../src/util/io.js';
import { capture } from '../capture/helpers.js';
import { FIXTURES } from '../helpers/fixtures.js';

const BUNDLE = join(FIXTURES, 'bundles', '3.13.0-linux-x86_64', 'threads');

async function all(source: EventSource): Promise<Event[]> {
  const out: Event[] = [];
  for await (const e of eventsOf(source)) out.push(e);
  return out;
}

/** The fields the CSV carries, with stats labels resolved to the dump on disk. */
function csvView(source: EventSource, events: Event[]): object[] {
  return events.map((e) => {
    const { young: _young, collecting: _collecting, ...rest } = e;
    if (e.op === 'stats' && e.label) rest.label = resolve(source.resolveLabel(e.label));
    return rest;
  });
}

async function run(argv: string[], cwd = process.cwd()) {
  const io = memoryIo(cwd);
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('events CSV', () => {
  let dir: string;
  let csv: string;
  let text: string;
  let bundleEvents: Event[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpymem-csv-'));
    csv = join(dir, 'events.csv');
    const r = await run(['export', BUNDLE, '--csv', '-o', csv]);
    expect(r.code, r.err).toBe(0);
    text = readFileSync(csv, 'utf8');
    bundleEvents = await all(openEventsBundle(BUNDLE));
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the documented header and one row per record, in recorded order', () => {
    const lines = text.split('\n');
    expect(lines[0]).toBe(CSV_HEADER);
    expect(lines.length - 2).toBe(bundleEvents.length);
    expect(text.endsWith('\n')).toBe(true);
    expect(sniffEventsCsv(csv)).toBe(true);
    expect(sniffEventFormat(csv)).toBe('events-csv');
    // stats rows point at the real dumps, relative to the CSV
    const stats = lines.filter((l) => l.startsWith('stats,'));
    expect(stats.length).toBeGreaterThan(3);
    for (const l of stats) expect(readFileSync(join(dir, l.split(',').at(-1)!), 'utf8')).toContain('Small block threshold');
    expect(lines.find((l) => l.startsWith('arena_alloc,'))).toMatch(/^arena_alloc,,\d+,\d+,,0x[0-9a-f]+,[01],,,,$/);
    expect(lines.find((l) => l.startsWith('free,'))).toMatch(/^free,(mem|obj),\d+,,0x[0-9a-f]+,,,,,,$/);
  });

  it('round-trips exactly: CSV → events equal the bundle\'s, CSV → CSV is byte-identical, .csv.gz too', async () => {
    const source = openEventsCsv(csv);
    const fromCsv = await all(source);
    expect(csvView(source, fromCsv)).toEqual(csvView(openEventsBundle(BUNDLE), bundleEvents));
    const again = join(dir, 'again.csv');
    expect((await run(['export', csv, '--csv', '-o', again])).code).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(text);
    const gz = join(dir, 'events.csv.gz');
    expect((await run(['export', BUNDLE, '--csv', '-o', gz])).code).toBe(0);
    expect(gunzipSync(readFileSync(gz)).toString('utf8')).toBe(text);
    expect(sniffEventFormat(gz)).toBe('events-csv');
    expect(csvView(openEventsCsv(gz), await all(openEventsCsv(gz)))).toEqual(csvView(source, fromCsv));
    // to stdout, labels relative to the working directory
    const out = await run(['export', BUNDLE, '--csv'], dir);
    expect(out.code).toBe(0);
    expect(out.out).toBe(text);
  });

  it('keeps notes with commas, quotes and newlines', async () => {
    const b = join(dir, 'notes.cpymem');
    const r = await capture('python3', ['-c', 'import cpymem_capture as c; c.note("a, b"); c.note(\'say "hi"\\nbye\'); c.stats("s,1")'], { out: b });
    expect(r.code, r.err).toBe(0);
    const notesCsv = join(dir, 'notes.csv');
    expect((await run(['export', b, '--csv', '-o', notesCsv])).code).toBe(0);
    const events = await all(openEventsCsv(notesCsv));
    expect(events.filter((e) => e.op === 'note').map((e) => e.label)).toEqual(['a, b', 'say "hi"\nbye']);
    expect(readFileSync(notesCsv, 'utf8')).toContain('note,,0,,,,,,,,"say ""hi""\nbye"\n');
    const again = join(dir, 'notes-again.csv');
    expect((await run(['export', notesCsv, '--csv', '-o', again])).code).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(notesCsv, 'utf8'));
    // A schema error after a note that spans two lines names the physical line.
    const physical = readFileSync(notesCsv, 'utf8').split('\n');
    const bye = physical.findIndex((x) => x.endsWith('bye"'));
    const at = physical.findIndex((l, i) => i > bye && l.startsWith('stats,'));
    physical[at] = physical[at]!.replace(/^stats,,/, 'stats,mem,');
    writeFileSync(join(dir, 'bad-notes.csv'), physical.join('\n'));
    const r2 = await run(['inspect', join(dir, 'bad-notes.csv')]);
    expect(r2.code).toBe(2);
    expect(r2.err).toContain(`bad-notes.csv:${at + 1}: column 2 (domain): expected an empty field for stats, found "mem"`);
  }, 60_000);

  it('summarises a CSV in `cpymem inspect`', async () => {
    const r = await run(['inspect', csv]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`events, ${bundleEvents.length.toLocaleString('en-US')} records (events-csv)`);
    expect(r.out).toContain('threads: 4');
  });

  describe('a CSV that breaks the schema: exit 2 with line and column', () => {
    const lines = () => text.split('\n');
    const cases: [string, (l: string[]) => void, RegExp][] = [
      ['an unknown op', (l) => (l[5] = l[5]!.replace(/^[a-z_]+/, 'mallocx')), /bad\.csv:6: column 1 \(op\): expected an op \(malloc, calloc, realloc, free, arena_alloc, arena_free, gc_start, gc_stop, stats, note\), found "mallocx"/],
      ['a pointer not in hex', (l) => { const i = l.findIndex((x) => x.startsWith('free,')); l[i] = l[i]!.replace(/0x([0-9a-f]+)/, '$1'); }, /bad\.csv:\d+: column 5 \(ptr\): expected a pointer in hex \(0x…\), found "[0-9a-f]+"/],
      ['a domain on an arena row', (l) => { const i = l.findIndex((x) => x.startsWith('arena_alloc,')); l[i] = l[i]!.replace('arena_alloc,,', 'arena_alloc,obj,'); }, /bad\.csv:\d+: column 2 \(domain\): expected an empty field for arena_alloc, found "obj"/],
      ['a missing size', (l) => { const i = l.findIndex((x) => x.startsWith('malloc,')); l[i] = l[i]!.replace(/^malloc,(mem|obj),(\d+),\d+,/, 'malloc,$1,$2,,'); }, /bad\.csv:\d+: column 4 \(size\): expected a value for malloc, found an empty field/],
      ['a negative thread', (l) => (l[3] = l[3]!.replace(/^([a-z_]+),(mem|obj|),\d+,/, '$1,$2,-1,')), /bad\.csv:4: column 3 \(thread\): expected a non-negative decimal integer, found "-1"/],
      ['a row with a column too few', (l) => (l[7] = l[7]!.replace(/,$/, '')), /bad\.csv:8: expected CSV, found Invalid Record Length: expect 11, got 10/],
      ['another header', (l) => (l[0] = 'op,domain,thread,size,pointer,result,nested,generation,collected,uncollectable,label'), /bad\.csv:1: expected the header op,domain,thread,size,ptr,result,nested,generation,collected,uncollectable,label, found/],
    ];
    for (const [what, mutate, message] of cases) {
      it(what, async () => {
        const l = lines();
        mutate(l);
        const bad = join(dir, 'bad.csv');
        writeFileSync(bad, l.join('\n'));
        // A header that is not ours is not sniffed as events: the format is then named explicitly.
        const r = what === 'another header' ? await run(['export', bad, '--csv', '--input-format', 'events-csv']) : await run(['inspect', bad]);
        expect(r.code).toBe(2);
        expect(r.err).toMatch(message);
        expect(r.err.split('\n').filter(Boolean)).toHaveLength(1);
      });
    }
  });
});
