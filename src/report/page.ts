// The shell every report page shares: header, table of contents, the sections in one fixed order,
// footer and the embedded JSON. Each part of a report (malloc stats, tracemalloc, replay, GC) only
// contributes {id, heading, html}; the order and the anchors are decided here, never by the inputs,
// so two reports of different runs line up section by section and their data blocks diff cleanly.

import { escapeHtml as e } from './markup.js';
import { scriptSafeJson } from './json.js';
import { PAGE_CSS } from './style.js';

/** One section of the page: a stable anchor, its heading (text) and its body (escaped HTML). */
export interface PagePart {
  id: string;
  heading: string;
  html: string;
}

export interface PageShell {
  title: string;
  /** The line under the title (text). */
  lede: string;
  parts: readonly PagePart[];
  /** The footer's paragraph (escaped HTML). */
  footer: string;
  /** Embedded as JSON with sorted keys in `<script type="application/json" id="cpymem-data">`. */
  data: unknown;
  /** Shown in the footer; omitted when absent so output stays identical across versions in tests. */
  generator?: string;
}

/**
 * The page order of every section id a report part contributes: summary, fragmentation, arenas over
 * time, pinned arenas, GC, allocation sites and growth, model versus real, then the reference
 * tables and the warnings. Ids not listed here (new sections) go to the GC slot when they start
 * with "gc", else just before the reference tables, in the order they were contributed.
 */
export const SECTION_ORDER = [
  'summary',
  'where',
  'classes',
  'time',
  'replay',
  'pinned',
  'gc',
  'gc-pauses',
  'gc-model',
  'tracemalloc',
  'printed-statistics',
  'packing',
  'model-vs-real',
  'dumps',
  'inputs',
  'warnings',
] as const;

function rank(id: string): number {
  const i = (SECTION_ORDER as readonly string[]).indexOf(id);
  if (i >= 0) return i;
  return id.startsWith('gc') ? SECTION_ORDER.indexOf('gc') + 0.5 : SECTION_ORDER.indexOf('dumps') - 0.5;
}

/** The parts in page order (a stable sort: equal ranks keep the order they were given in). */
export function orderParts(parts: readonly PagePart[]): PagePart[] {
  const seen = new Set<string>();
  for (const p of parts) {
    if (seen.has(p.id)) throw new Error(`duplicate section id: ${p.id}`);
    seen.add(p.id);
  }
  return parts
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p.id) - rank(b.p.id) || a.i - b.i)
    .map(({ p }) => p);
}

const SECTION_RE = /^<section id="([^"]+)"><h2>([\s\S]*?)<\/h2>\n?([\s\S]*?)\n?<\/section>$/;
const UNESCAPES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/**
 * A part from a rendered `<section id="…"><h2>…</h2>…</section>` (what markup.ts section() and the
 * tracemalloc, replay and GC section renderers return). A string of another shape is a bug.
 */
export function partFromSection(html: string): PagePart {
  const m = SECTION_RE.exec(html.trim());
  if (!m) throw new Error(`not a report section: ${html.slice(0, 60)}`);
  return { id: m[1]!, heading: m[2]!.replace(/&(amp|lt|gt|quot|#39);/g, (x) => UNESCAPES[x]!), html: m[3]! };
}

/**
 * The parts of several sources of one kind (e.g. two capture bundles) as one part per id: each
 * source's body under a sub-heading naming it, so every anchor stays unique. One source: as given.
 * `headings` names a merged section whose sources gave it different headings.
 */
export function mergeParts(groups: readonly { label: string; parts: readonly PagePart[] }[], headings: Record<string, string> = {}): PagePart[] {
  if (groups.length <= 1) return [...(groups[0]?.parts ?? [])];
  const merged = new Map<string, { headings: Set<string>; html: string[] }>();
  for (const g of groups) {
    for (const p of g.parts) {
      let m = merged.get(p.id);
      if (!m) merged.set(p.id, (m = { headings: new Set(), html: [] }));
      m.headings.add(p.heading);
      m.html.push(`<h3 class="source">${e(g.label)}</h3>`, p.html);
    }
  }
  return [...merged].map(([id, m]) => ({
    id,
    heading: m.headings.size === 1 ? [...m.headings][0]! : (headings[id] ?? [...m.headings][0]!),
    html: m.html.join('\n'),
  }));
}

function toc(parts: readonly PagePart[]): string {
  const items = parts.map((p) => `<li><a href="#${e(p.id)}">${e(p.heading)}</a></li>`).join('');
  return `<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>${items}</ol></nav>`;
}

/** The whole self-contained page. Same shell → same bytes. */
export function renderShell(shell: PageShell): string {
  const parts = orderParts(shell.parts.filter((p) => p.html));
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No network: this forbids any fetch even if a chart or string ever tried one.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${e(shell.title)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header><h1>${e(shell.title)}</h1><p class="lede">${e(shell.lede)}</p></header>`,
    parts.length > 1 ? toc(parts) : '',
    ...parts.map((p) => `<section id="${e(p.id)}"><h2>${e(p.heading)}</h2>\n${p.html}\n</section>`),
    `<footer><p>${shell.footer} The report data is embedded below as JSON (<code>#cpymem-data</code>).${shell.generator ? ` Generated by ${e(shell.generator)}.` : ''}</p></footer>`,
    '</main>',
    `<script type="application/json" id="cpymem-data">${scriptSafeJson(shell.data)}</script>`,
    '</body>',
    '</html>',
    '',
  ]
    .filter(Boolean)
    .join('\n');
}
