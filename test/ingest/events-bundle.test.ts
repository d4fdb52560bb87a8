// Reading capture bundles: every real bundle in fixtures/bundles, re-read in tiny chunks, and what a
// damaged bundle gives.
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { EventsBinDecoder, eventsOf, openEventsBundle, sniffEventsBundle } from '../../src/ingest/events-bundle.js';
import { openEventInput, sniffEventFormat } from '../../src/ingest/index.js';
import type { Event, Recording } from '../../src/model/types.js';
import { memoryIo } from '../../src/util/io.js';
import { checkConsistency, printedValue } from '../capture/helpers.js';
import { FIXTURES, ROOT } from '../helpers/fixtures.js';

const BUNDLES = join(FIXTURES, 'bundles');
const bundles: string[] = existsSync(BUNDLES)
  ? readdirSync(BUNDLES)
      .filter((v) => v.endsWith('-linux-x86_64'))
      .flatMap((v) => readdirSync(join(BUNDLES, v)).map((w) => join(BUNDLES, v, w)))
      .filter((d) => existsSync(join(d, 'manifest.json')))
      .sort()
  : [];

async function readAll(dir: string): Promise<Event[]> {
  const out: Event[] = [];
  for await (const e of eventsOf(openEventsBundle(dir))) out.push(e);
  return out;
}

describe('capture bundle fixtures', () => {
  it('has a bundle of each workload for every CPython 3.8–3.13', () => {
    const names = bundles.map((d) => relative(BUNDLES, d));
    for (const v of ['3.8', '3.9', '3.10', '3.11', '3.12', '3.13']) {
      for (const w of ['tuple-churn', 'realloc-growth', 'threads']) expect(names.some((n) => n.startsWith(`${v}.`) && n.endsWith(`/${w}`)), `${v} ${w}`).toBe(true);
    }
  });

  for (const dir of bundles) {
    const name = relative(ROOT, dir);
    it(`${name}: files, counts and markers agree with what CPython returned`, async () => {
      expect(sniffEventsBundle(dir)).toBe(true);
      expect(sniffEventFormat(dir)).toBe('events-bundle');
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Recording;
      for (const [rel, f] of Object.entries(m.files)) {
        const data = readFileSync(join(dir, rel));
        expect(createHash('sha256').update(data).digest('hex'), rel).toBe(f.sha256);
      }
      expect(m.warnings).toEqual([]);
      const events = await readAll(dir);
      expect(events.length).toBe(m.counts.records);
      const byOp: Record<string, number> = {};
      for (const e of events) byOp[e.op] = (byOp[e.op] ?? 0) + 1;
      for (const [op, n] of Object.entries(m.counts.byOp)) expect(byOp[op] ?? 0, op).toBe(n);
      const c = checkConsistency(events);
      expect(c.errors).toEqual([]);
      expect(c.liveAtStats).toHaveLength(m.markers.length);
      let arenas = 0;
      let k = 0;
      for (const e of events) {
        if (e.op === 'arena_alloc' && e.nested) arenas++;
        else if (e.op === 'arena_free' && e.nested) arenas--;
        else if (e.op === 'stats') {
          const mk = m.markers[k]!;
          expect(e.label).toBe(mk.file);
          expect(e.size).toBe(mk.allocatedBlocksBefore);
          expect(mk.allocatedBlocksAfter).toBe(mk.allocatedBlocksBefore);
          expect(c.liveAtStats[k]).toBe(mk.allocatedBlocksBefore);
          const dump = readFileSync(join(dir, mk.file!), 'utf8');
          expect(dump).toContain('Small block threshold');
          expect(printedValue(dump, '# arenas allocated current'), `${mk.file}`).toBe(arenas);
          k++;
        }
      }
      expect(m.markers.length).toBeGreaterThanOrEqual(5);
      // gc.jsonl is what gc.callbacks received, one line per gc record
      const gc = readFileSync(join(dir, 'gc.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phase: string; record: number; generation: number; collected: number });
      for (const g of gc) {
        const e = events[g.record]!;
        expect(e.op).toBe(`gc_${g.phase}`);
        expect([e.generation, e.collected]).toEqual([g.generation, g.collected]);
      }
    }, 60_000);
  }
});

describe('reading events.bin', () => {
  const dir = bundles.find((d) => d.includes('3.12.') && d.endsWith('threads')) ?? bundles[0]!;

  it('decodes the same events whatever the chunk boundaries', async () => {
    const whole = await readAll(dir);
    const raw = gunzipSync(readFileSync(join(dir, 'events.bin.gz')));
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Recording;
    const label = (op: 'stats' | 'note', i: number) => (op === 'stats' ? m.markers[i]!.file : m.notes[i]!.text);
    for (const size of [1, 7, 31, 33, 4099]) {
      const dec = new EventsBinDecoder('events.bin', label);
      const got: Event[] = [];
      // only the first 200 kB in tiny chunks: it is the boundaries that matter
      const part = raw.subarray(0, Math.min(raw.length, 64 + 32 * 6000));
      for (let i = 0; i < part.length; i += size) got.push(...dec.push(part.subarray(i, i + size)));
      dec.end();
      expect(got, `chunks of ${size}`).toEqual(whole.slice(0, got.length));
      expect(got.length).toBe((part.length - 64) / 32);
    }
  });

  it('refuses a damaged file with exit 2, naming the byte', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cpymem-bad-bundle-'));
    try {
      const copy = join(tmp, 'b');
      cpSync(dir, copy, { recursive: true });
      const raw = gunzipSync(readFileSync(join(copy, 'events.bin.gz')));
      // a process killed mid-write: a partial last record
      writeFileSync(join(copy, 'events.bin.gz'), gzipSync(raw.subarray(0, raw.length - 5)));
      let io = memoryIo();
      expect(await main(['inspect', copy], io)).toBe(2);
      expect(io.err).toMatch(/events\.bin\.gz: byte \d+: expected a whole 32-byte record, found 27 trailing bytes/);
      // an unknown op code
      const bad = Buffer.from(raw);
      bad[64 + 32 * 10] = 77;
      writeFileSync(join(copy, 'events.bin.gz'), gzipSync(bad));
      io = memoryIo();
      expect(await main(['inspect', copy], io)).toBe(2);
      expect(io.err).toContain(`events.bin.gz: byte ${64 + 32 * 10}: expected an op code 1–10, found 77`);
      // not gzip at all
      writeFileSync(join(copy, 'events.bin.gz'), 'not gzip');
      io = memoryIo();
      expect(await main(['inspect', copy], io)).toBe(2);
      expect(io.err).toContain('events.bin.gz: byte 0: expected a gzip stream, found no gzip header');
      // an uncompressed events.bin with another magic
      rmSync(join(copy, 'events.bin.gz'));
      writeFileSync(join(copy, 'events.bin'), Buffer.concat([Buffer.from('NOTMAGIC'), raw.subarray(8, 64 + 32)]));
      io = memoryIo();
      expect(await main(['inspect', copy], io)).toBe(2);
      expect(io.err).toContain('events.bin: byte 0: expected magic CPYMEMEV, found "NOTMAGIC"');
      // a manifest that is not ours
      copyFileSync(join(dir, 'manifest.json'), join(copy, 'manifest.json'));
      writeFileSync(join(copy, 'manifest.json'), '{"format": "something-else"}');
      expect(sniffEventFormat(copy)).toBeUndefined();
      expect(() => openEventInput(copy, 'events-bundle')).toThrow(/manifest\.json: expected "format": "cpymem-capture", found "something-else"/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('summarises a bundle in `cpymem inspect` from its records', async () => {
    const io = memoryIo();
    expect(await main(['inspect', dir], io)).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Recording;
    const gcLines = readFileSync(join(dir, 'gc.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phase: string; generation: number });
    const perGen = [0, 1, 2].map((g) => gcLines.filter((l) => l.phase === 'stop' && l.generation === g).length);
    expect(io.out).toContain(`capture of CPython ${m.python.version} (linux x86_64)`);
    expect(io.out).toContain(`markers: ${readdirSync(join(dir, 'stats')).length} real dumps`);
    expect(io.out).toContain(`gc: ${perGen.reduce((a, b) => a + b, 0)} collections (${perGen.map((n, g) => `gen ${g}: ${n}`).join(', ')})`);
    expect(io.out).toContain('threads: 4');
    expect(io.out).toContain('warnings: none');
    const json = memoryIo();
    expect(await main(['inspect', dir, '--json'], json)).toBe(0);
    const j = JSON.parse(json.out);
    expect(j).toMatchObject({ schema: 1, format: 'events-bundle' });
    expect(j.summary.markers.map((x: { label: string }) => x.label)).toEqual(m.markers.map((x) => x.file));
  });
});

describe('sniffing a bundle with a long manifest', () => {
  it('finds "format" wherever the sorted keys put it', () => {
    const src = new URL('../../fixtures/bundles/3.11.7-linux-x86_64/threads', import.meta.url).pathname;
    const dir = join(mkdtempSync(join(tmpdir(), 'cpymem-sniff-')), 'b.cpymem');
    cpSync(src, dir, { recursive: true });
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    // Many markers (as --stats-every gives) push "format" far past the first KiB of the sorted keys.
    m.counts = { ...(m.counts as object), padding: 'x'.repeat(20000) };
    const sorted = Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]]));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(sorted, null, 2));
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8').indexOf('"format"')).toBeGreaterThan(4096);
    expect(sniffEventsBundle(dir)).toBe(true);
  });
});
