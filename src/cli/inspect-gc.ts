// `cpymem inspect` of cyclic-GC logs: the summary and the documented JSON (docs/gc-logs.md).
import { summariseGc } from '../analysis/gc-stats.js';
import type { GcLogInput } from '../ingest/index.js';
import { warningCounts } from '../ingest/warnings.js';
import { formatInt } from '../util/format.js';

const FORMAT_NAME: Record<GcLogInput['format'], string> = {
  'gc-debug-stats': 'gc.set_debug(gc.DEBUG_STATS) output',
  'gc-callbacks': 'gc.callbacks JSON lines',
};

/** The documented JSON of `inspect --json` for GC logs. */
export function gcInspectJson(input: GcLogInput): object {
  const log = input.log;
  const summary = summariseGc(log.collections, { durationSeconds: log.durationSeconds });
  const json: Record<string, unknown> = { schema: 1, format: input.format, file: input.file };
  if (log.versionRange !== undefined) json.versionRange = log.versionRange;
  json.collections = log.collections;
  json.totals = summary.generations.map((g) => ({
    generation: g.generation,
    collections: g.collections,
    collected: g.collected,
    uncollectable: g.uncollectable,
    elapsedSeconds: g.elapsed?.total ?? null,
  }));
  json.collectable = log.collectable;
  json.uncollectableObjects = log.uncollectableObjects;
  if (log.uncollectableAtShutdown !== undefined) json.uncollectableAtShutdown = log.uncollectableAtShutdown;
  if (log.durationSeconds !== undefined) json.durationSeconds = log.durationSeconds;
  json.warnings = input.warnings;
  return json;
}

/** 0.0123 → "12.3 ms", 0.000045 → "45 µs", 2.5 → "2.50 s" (DEBUG_STATS prints 4 decimals; callbacks have more). */
function seconds(x: number): string {
  if (x === 0) return '0 s';
  if (x >= 1) return `${x.toFixed(2)} s`;
  if (x >= 0.001) return `${Number((x * 1e3).toPrecision(3))} ms`;
  return `${Number((x * 1e6).toPrecision(3))} µs`;
}

function plural(n: number, word: string): string {
  return `${formatInt(n)} ${word}${n === 1 ? '' : 's'}`;
}

export function topTypes(counts: Record<string, number>, n = 8): string {
  const entries = Object.entries(counts).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  const shown = entries.slice(0, n).map(([t, k]) => `${t} ${formatInt(k)}`);
  if (entries.length > n) shown.push(`… ${entries.length - n} more types`);
  return shown.join(', ');
}

export function summariseGcLog(input: GcLogInput): string {
  const log = input.log;
  const s = summariseGc(log.collections, { durationSeconds: log.durationSeconds });
  const lines: string[] = [];
  const version = log.versionRange ? ` (CPython ${log.versionRange})` : '';
  lines.push(`${input.file}: ${FORMAT_NAME[input.format]}${version}, ${plural(s.all.collections, 'collection')}`);
  lines.push('');
  for (const g of s.generations) {
    let line = `  generation ${g.generation}: ${plural(g.collections, 'collection')}, ${formatInt(g.collected)} collected, ${formatInt(g.uncollectable)} uncollectable`;
    if (g.elapsed) line += `; ${seconds(g.elapsed.total)} in all (p50 ${seconds(g.elapsed.p50)}, p95 ${seconds(g.elapsed.p95)}, max ${seconds(g.elapsed.max)})`;
    if (g.collectionsPerMinute !== undefined) line += `; ${g.collectionsPerMinute.toFixed(1)}/min`;
    lines.push(line);
  }
  const cut = s.all.collections - s.all.completed;
  if (cut) lines.push(`  ${plural(cut, 'collection')} without results (the log holds the start only)`);
  if (log.durationSeconds !== undefined) lines.push(`  log spans ${seconds(log.durationSeconds)}`);
  if (Object.keys(log.collectable).length) lines.push(`  collectable objects listed (DEBUG_COLLECTABLE): ${topTypes(log.collectable)}`);
  if (Object.keys(log.uncollectableObjects).length) lines.push(`  uncollectable objects listed (DEBUG_UNCOLLECTABLE): ${topTypes(log.uncollectableObjects)}`);
  if (log.uncollectableAtShutdown !== undefined) lines.push(`  at shutdown: ${formatInt(log.uncollectableAtShutdown)} uncollectable objects in gc.garbage`);
  const counts = warningCounts(input.warnings);
  lines.push('');
  lines.push(counts ? `warnings: ${counts} (see --json)` : 'warnings: none');
  return `${lines.join('\n')}\n`;
}
