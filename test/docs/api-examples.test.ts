// docs/api.md: every ```ts example runs as written (imports of 'cpymem' pointed at src/index.ts)
// and prints exactly the ```text block that follows it; and what it prints carries the numbers
// CPython itself printed or returned (the fixtures' ground-truth files), so the page cannot drift
// from the fixtures. CPYMEM_UPDATE_DOCS=1 rewrites the ```text blocks instead (`npm run docs`).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PAGE = join(ROOT, 'docs', 'api.md');
// Ignored by git (*.tmp); inside the project so vitest transforms the TypeScript.
const TMP = join(import.meta.dirname, 'api-examples.tmp');
const UPDATE = process.env.CPYMEM_UPDATE_DOCS === '1';

interface Example {
  section: string;
  code: string;
  output: string;
  /** Where the ```text body starts and ends in the page. */
  outStart: number;
  outEnd: number;
}

function examples(md: string): Example[] {
  const out: Example[] = [];
  const re = /^## (\S+)[\s\S]*?```ts\n([\s\S]*?)```\n\n```text\n([\s\S]*?)```/gm;
  for (const m of md.matchAll(re)) {
    const outStart = m.index + m[0].length - 3 - m[3]!.length;
    out.push({ section: m[1]!, code: m[2]!, output: m[3]!, outStart, outEnd: outStart + m[3]!.length });
  }
  return out;
}

const json = (path: string) => JSON.parse(readFileSync(join(FIXTURES, path), 'utf8'));

/** What CPython printed or returned, as the examples must print it: fixture → figures. */
function truth(section: string): string[] {
  switch (section) {
    case 'parseMallocStats': {
      const t = json('malloc-stats/3.11.7-linux-x86_64/tuple-fragmentation.json');
      const v = Object.fromEntries(t.dumps[2].printed.values) as Record<string, number>;
      return [
        `${t.dumps.length} dumps`,
        `arenas: ${v['# arenas allocated current']} current, ${v['# arenas highwater mark']} highwater`,
        `bytes in allocated blocks: ${v['# bytes in allocated blocks']}, in available blocks: ${v['# bytes in available blocks']}`,
      ];
    }
    case 'parseGcLog': {
      const t = json('gc/3.11.7-linux-x86_64/ground-truth.json').files;
      return (['debug-stats.txt', 'callbacks.jsonl'] as const).flatMap((f) => {
        const c = t[f].callbacks; // what gc.callbacks saw while the log was written
        return [0, 1, 2].map((g) => `generation ${g}: ${c.collections[g]} collections, ${c.collected[g]} collected, ${c.uncollectable[g]} uncollectable`);
      });
    }
    case 'readSnapshot': {
      const s = json('tracemalloc/3.11.7-linux-x86_64/truth.json').snapshots.B;
      // CPython's own print(stat) of snapshot B's statistics('lineno'), first lines.
      const printed = readFileSync(join(FIXTURES, 'tracemalloc/3.11.7-linux-x86_64/stats-B-lineno.txt'), 'utf8').split('\n');
      return [`${s.traces} traces, ${s.size} bytes`, ...printed.slice(0, 3)];
    }
    case 'readBundle':
    case 'replay': {
      const m = json('bundles/3.11.7-linux-x86_64/tuple-churn/manifest.json');
      const labelled = m.markers.filter((k: { label?: string }) => k.label);
      type Marker = { label?: string; reason: string; allocatedBlocksBefore: number };
      return section === 'readBundle'
        ? [
            `CPython ${m.python.version}: ${m.counts.records} records, ${m.markers.length} dumps`,
            // sys.getallocatedblocks() as the recorder read it in CPython around each dump.
            ...m.markers.slice(0, 3).map((k: Marker) => `${k.label ?? k.reason}: `),
            ...m.markers.slice(0, 3).map((k: Marker) => `sys.getallocatedblocks() ${k.allocatedBlocksBefore}`),
          ]
        : labelled.map((k: { label: string; allocatedBlocksBefore: number }) => `${k.label}: model ${k.allocatedBlocksBefore} blocks, CPython ${k.allocatedBlocksBefore}; dump identical: true`);
    }
    case 'compare':
      return ['ok true', 'gc: every collection predicted exactly'];
    case 'renderReport': {
      const t = json('malloc-stats/3.11.7-linux-x86_64/arena-release.json');
      const peak = Math.max(...t.dumps.map((d: { printed: { values: [string, number][] } }) => Object.fromEntries(d.printed.values)['# arenas highwater mark'] as number));
      return [`${t.dumps.length} dumps, peak ${peak} arenas`, 'page: true, self-contained: true'];
    }
    case 'buildRunReport': {
      const c = json('gc/3.11.7-linux-x86_64/ground-truth.json').files['debug-stats.txt'].callbacks;
      return [`debug-stats.txt: ${c.collections.join(' / ')} collections per generation`];
    }
    default:
      throw new Error(`no ground truth for the example of ${section}`);
  }
}

async function run(ex: Example, i: number): Promise<string> {
  const file = join(TMP, `example-${i}.ts`);
  writeFileSync(file, ex.code.replace(/from 'cpymem'/g, "from '../../../src/index.js'"));
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' ')));
  try {
    await import(file);
  } finally {
    spy.mockRestore();
  }
  return lines.map((l) => `${l}\n`).join('');
}

const md = readFileSync(PAGE, 'utf8');
const all = examples(md);
rmSync(TMP, { recursive: true, force: true });
mkdirSync(TMP, { recursive: true });
const printed = new Map<number, string>();
afterAll(() => {
  rmSync(TMP, { recursive: true, force: true });
  if (!UPDATE) return;
  let page = md;
  for (const [i, ex] of [...all.entries()].reverse()) page = page.slice(0, ex.outStart) + (printed.get(i) ?? ex.output) + page.slice(ex.outEnd);
  writeFileSync(PAGE, page);
});

describe('docs/api.md', () => {
  it('documents each entry point of the issue with an example', () => {
    expect(all.map((e) => e.section)).toEqual(['parseMallocStats', 'parseGcLog', 'readSnapshot', 'readBundle', 'replay', 'compare', 'renderReport', 'buildRunReport']);
  });

  all.forEach((ex, i) => {
    it(`${ex.section}: the example prints what the page shows, with CPython's figures`, { timeout: 120_000 }, async () => {
      const out = await run(ex, i);
      printed.set(i, out);
      if (!UPDATE) expect(out).toBe(ex.output);
      for (const figure of truth(ex.section)) expect(out, `${ex.section} prints ${figure}`).toContain(figure);
    });
  });
});
