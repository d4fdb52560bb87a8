// `cpymem inspect` of tracemalloc inputs: the summary and the documented JSON (docs/tracemalloc.md).
import { statistics } from '../analysis/tracemalloc-stats.js';
import type { TracemallocSnapshotInput, TracemallocTextInput } from '../ingest/index.js';
import { warningCounts } from '../ingest/warnings.js';
import { TRACEMALLOC_PARAMS, tracemallocRowsForFields } from '../model/params.js';
import type { TracemallocSnapshot } from '../model/types.js';
import { formatBytes, formatInt } from '../report/format.js';

/** "3.9–3.14": the CPython versions that write trace tuples of this shape. */
export function versionsForFields(fields: number | null): string | null {
  if (fields === null) return null;
  const rows = tracemallocRowsForFields(fields);
  if (!rows.length) return null;
  const lo = rows[rows.length - 1]!.min;
  const hi = rows[0]!.max;
  return lo === hi ? lo : `${lo}–${hi}`;
}

function snapshotJson(s: TracemallocSnapshot): object {
  const newest = TRACEMALLOC_PARAMS[TRACEMALLOC_PARAMS.length - 1]!;
  const files = statistics(s.groups, 'filename', false, newest)
    .slice(0, 10)
    .map((st) => ({ filename: st.traceback[0]!.filename, size: st.size, count: st.count }));
  return {
    tracebackLimit: s.tracebackLimit,
    traceFields: s.traceFields,
    versions: versionsForFields(s.traceFields),
    traces: s.traces,
    size: s.size,
    domains: s.domains,
    tracebacks: s.tracebacks,
    frames: s.frames,
    filenames: s.filenames,
    maxFrames: s.maxFrames,
    totalNframe: s.totalNframe,
    smallTraces: s.smallSizes.reduce((a, b) => a + b, 0),
    largeTraces: s.largeTraces,
    largeSize: s.largeSize,
    topFiles: files,
    source: s.source,
  };
}

/** The documented JSON of `inspect --json` for tracemalloc inputs. */
export function tracemallocInspectJson(input: TracemallocSnapshotInput | TracemallocTextInput): object {
  if (input.format === 'tracemalloc-snapshot') {
    return { schema: 1, format: input.format, file: input.file, snapshot: snapshotJson(input.snapshot), warnings: input.warnings };
  }
  return { schema: 1, format: input.format, file: input.file, printed: input.printed, warnings: input.warnings };
}

function warningLine(input: { warnings: TracemallocSnapshotInput['warnings'] }): string {
  const counts = warningCounts(input.warnings);
  return counts ? `warnings: ${counts} (see --json)` : 'warnings: none';
}

export function summariseTracemalloc(input: TracemallocSnapshotInput | TracemallocTextInput): string {
  const lines: string[] = [];
  if (input.format === 'tracemalloc-snapshot') {
    const s = input.snapshot;
    const versions = versionsForFields(s.traceFields);
    lines.push(`${input.file}: tracemalloc snapshot (pickle protocol ${s.source.protocol}, ${formatInt(s.source.bytes)} bytes, a ${s.source.container})`);
    lines.push('');
    lines.push(`  ${formatInt(s.traces)} traces, ${formatBytes(s.size)} (${formatInt(s.size)} bytes) traced`);
    lines.push(`  traceback_limit ${s.tracebackLimit ?? '–'}; ${formatInt(s.tracebacks)} distinct tracebacks of up to ${s.maxFrames} frames, ${formatInt(s.frames)} frames in ${formatInt(s.filenames)} files`);
    if (s.traceFields !== null) lines.push(`  trace tuples of ${s.traceFields} fields: written by CPython ${versions}`);
    if (s.totalNframe) lines.push(`  deepest stack ${formatInt(s.totalNframe.max)} frames; ${formatInt(s.totalNframe.truncatedTraces)} traces have a traceback cut at traceback_limit`);
    for (const d of s.domains) lines.push(`  domain ${d.domain}${d.domain === 0 ? ' (Python allocators)' : ''}: ${formatInt(d.traces)} traces, ${formatBytes(d.size)}`);
    const small = s.smallSizes.reduce((a, b) => a + b, 0);
    lines.push(`  requests of ≤ 512 bytes (pymalloc's, domain 0): ${formatInt(small)}; larger: ${formatInt(s.largeTraces)} (${formatBytes(s.largeSize)})`);
  } else {
    const p = input.printed;
    const kinds = new Map<string, number>();
    for (const st of p.statistics) kinds.set(st.kind, (kinds.get(st.kind) ?? 0) + 1);
    lines.push(`${input.file}: printed tracemalloc output (${p.lines} lines, ${p.linesOutside} not tracemalloc's)`);
    lines.push('');
    lines.push(`  ${[...kinds].map(([k, n]) => `${n} ${k} line${n === 1 ? '' : 's'}`).join(', ')}${p.groupBy ? `; grouped by ${p.groupBy}` : ''}`);
    const framed = p.statistics.filter((st) => st.frames?.length).length;
    if (framed) lines.push(`  ${framed} with their traceback printed`);
    const cut = p.statistics.filter((st) => st.truncated).length;
    if (cut) lines.push(`  ${cut} cut short (read as far as they go)`);
    const known = p.statistics.filter((st) => Number.isFinite(st.size.min) && Number.isFinite(st.size.max));
    if (known.length) {
      const lo = known.reduce((a, st) => a + st.size.min, 0);
      const hi = known.reduce((a, st) => a + st.size.max, 0);
      lines.push(`  sizes add up to ${formatBytes(lo)}–${formatBytes(hi)} (${formatInt(lo)}–${formatInt(hi)} bytes: printed sizes are rounded)`);
    }
    for (const h of p.headers) lines.push(`  header at line ${h.line}: ${h.text}`);
  }
  lines.push('');
  lines.push(warningLine(input));
  return `${lines.join('\n')}\n`;
}
