// The small HTML pieces every report section is made of: escaped cells, tables, chart figures and
// sections. One place, so every section looks the same and escapes the same way.

import type { ChartSpec } from './charts/spec.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const e = escapeHtml;

export function numCell(text: string, title?: string): string {
  return `<td class="num"${title ? ` title="${e(title)}"` : ''}>${e(text)}</td>`;
}

export function textCell(text: string, title?: string, wrap = false): string {
  return `<td${wrap ? ' class="wrap"' : ''}${title ? ` title="${e(title)}"` : ''}>${e(text)}</td>`;
}

export function table(head: string[], rows: string[], numeric: boolean[] = []): string {
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="num"' : ''}>${e(h)}</th>`).join('');
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}

/** A section with a stable anchor; empty when it has nothing to show. */
export function section(id: string, heading: string, parts: string[]): string {
  const body = parts.filter(Boolean);
  if (body.length === 0) return '';
  return `<section id="${id}"><h2>${e(heading)}</h2>\n${body.join('\n')}\n</section>`;
}

/** A chart with its title, its "how to read this" line and its note. */
export function figure(spec: ChartSpec, markup: string): string {
  return [
    `<figure class="chart" id="chart-${e(spec.id)}">`,
    `<figcaption><h3>${e(spec.title)}</h3><p class="how"><strong>How to read this:</strong> ${e(spec.howToRead)}</p></figcaption>`,
    `<div class="plot">${markup}</div>`,
    spec.note ? `<p class="note">${e(spec.note)}</p>` : '',
    '</figure>',
  ]
    .filter(Boolean)
    .join('\n');
}
