// `cpymem replay EVENTS -o report.html`: the page of a replay, checked against what CPython printed.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { memoryIo } from '../../src/util/io.js';
import { FIXTURES } from '../helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'cpymem-replay-'));
const bundle = join(FIXTURES, 'bundles', '3.12.1-linux-x86_64', 'tuple-churn');

function embedded(html: string): { replay: { recorded: { markers: { identical: boolean | null; arenasModel: number; arenasReal: number; label: string }[]; arenaMap: unknown } } } {
  const m = /<script type="application\/json" id="cpymem-data">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(m![1]!.replace(/\\u003c/g, '<'));
}

describe('cpymem replay -o', () => {
  it('writes one page: replay, pinned arenas, model versus real, fragmentation per class', async () => {
    const out = join(tmp, 'a', 'replay.html');
    const io = memoryIo(tmp);
    expect(await main(['replay', bundle, '-o', out, '--quiet'], io)).toBe(0);
    expect(readdirSync(join(tmp, 'a'))).toEqual(['replay.html']);
    const html = readFileSync(out, 'utf8');
    for (const id of ['id="replay"', 'id="pinned"', 'id="model-vs-real"', 'id="chart-arena-timeline"', 'id="chart-arena-map"', 'id="chart-class-fragmentation"']) expect(html).toContain(id);
    const markers = embedded(html).replay.recorded.markers;
    // Every dump the bundle holds was compared with the model's, and the arena counts CPython printed agree.
    const dumps = readdirSync(join(bundle, 'stats')).filter((f) => readFileSync(join(bundle, 'stats', f), 'utf8').includes('Small block threshold'));
    expect(markers.filter((m) => m.identical === true).length).toBe(dumps.length);
    for (const m of markers) if (m.identical !== null) expect(m.arenasReal, m.label).toBe(m.arenasModel);
  });

  it('bad input: exit 2 and no page', async () => {
    const out = join(tmp, 'b', 'replay.html');
    const io = memoryIo(tmp);
    expect(await main(['replay', join(tmp, 'no-such-bundle'), '-o', out], io)).toBe(2);
    expect(io.err).toContain('no-such-bundle');
    expect(existsSync(out)).toBe(false);
  });
});
