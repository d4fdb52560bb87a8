// `cpymem inspect BUNDLE` (or an events CSV): what a capture holds — events by op and domain,
// arenas, markers, GC collections per generation — streamed in one pass.
import { summariseEvents, type EventsSummary } from '../analysis/events-summary.js';
import type { EventSource } from '../ingest/events-bundle.js';
import { openEventInput } from '../ingest/index.js';
import type { CliIo } from '../util/io.js';

export interface InspectEventsArgs {
  file: string;
  json?: boolean;
  format?: 'summary' | 'json' | 'text';
}

const int = (n: number) => n.toLocaleString('en-US');

/** The documented JSON of `inspect --json` for event streams (docs/capture.md). */
export function inspectEventsJson(source: EventSource, summary: EventsSummary): object {
  return { schema: 1, format: source.format, file: source.file, manifest: source.manifest ?? null, summary };
}

function describe(source: EventSource, s: EventsSummary): string {
  const m = source.manifest;
  const lines: string[] = [];
  const what = m ? `capture of CPython ${m.python.version} (${m.python.platform} ${m.python.machine})` : 'events';
  lines.push(`${source.file}: ${what}, ${int(s.records)} records (${source.format})`);
  if (m) {
    const exit = m.exit.signal ? `killed by ${m.exit.signal}` : `exit status ${m.exit.status}`;
    lines.push(`  command: ${m.command.join(' ')} (${exit}; ${m.exit.finalized ? 'finalised' : 'not finalised'})`);
    lines.push(`  hooks: ${m.hooks.lost ? 'REPLACED during the run (the log is incomplete)' : 'in place throughout'}; helper ${m.hooks.helperAttached ? 'attached' : 'not attached'}`);
  }
  const ops = (['malloc', 'calloc', 'realloc', 'free'] as const).map((op) => {
    const c = s.calls[op];
    return `${op} ${int(c.mem + c.obj)} (mem ${int(c.mem)}, obj ${int(c.obj)})`;
  });
  lines.push(`  calls: ${ops.join(', ')}`);
  const a = s.arenas;
  lines.push(
    `  arenas: ${int(a.allocated)} allocated, ${int(a.freed)} freed; pymalloc's (nested): ${int(a.nestedAllocated)} allocated, ${int(a.nestedFreed)} freed, ${int(a.nestedAllocated - a.nestedFreed)} left`,
  );
  lines.push(`  threads: ${s.threads}`);
  const marks = s.markers.map((mk, i) => {
    const reason = m?.markers[i]?.reason;
    const label = m?.markers[i]?.label;
    return `#${i} ${reason ?? mk.label}${label && label !== reason ? ` "${label}"` : ''} (record ${int(mk.record)})`;
  });
  lines.push(`  markers: ${s.markers.length} real dump${s.markers.length === 1 ? '' : 's'}${marks.length ? `: ${marks.join(', ')}` : ''}`);
  const total = s.gc.collections.reduce((x, y) => x + y, 0);
  const per = s.gc.collections.map((n, g) => `gen ${g}: ${int(n)}`).join(', ');
  lines.push(`  gc: ${int(total)} collections${per ? ` (${per})` : ''}, ${int(s.gc.collected)} collected, ${int(s.gc.uncollectable)} uncollectable`);
  if (s.byOp.note) lines.push(`  notes: ${int(s.byOp.note)}`);
  lines.push('');
  const w = m?.warnings ?? [];
  lines.push(w.length ? `warnings: ${w.length}\n${w.map((x) => `  ${x}`).join('\n')}` : 'warnings: none');
  return `${lines.join('\n')}\n`;
}

export async function inspectEvents(args: InspectEventsArgs, io: CliIo): Promise<number> {
  const source = openEventInput(args.file);
  const summary = await summariseEvents(source);
  const json = args.json || args.format === 'json';
  io.stdout(json ? `${JSON.stringify(inspectEventsJson(source, summary), null, 2)}\n` : describe(source, summary));
  return 0;
}
