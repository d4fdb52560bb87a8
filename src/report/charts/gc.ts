// The GC charts: collections over time by generation, the pause histogram, what each collection
// found, and the model against the recorded collections (counts per generation, and where in the
// record stream each world collected). Pure: data → Plot options.

import * as Plot from '@observablehq/plot';
import type { GcLogData, GcModelData, GcPoint } from '../gc-data.js';
import { formatInt } from '../format.js';
import { CHART_STYLE, CHART_WIDTH, joinNotes, type ChartSpec } from './spec.js';

/** One colour per generation, the same in every GC chart. */
export const GENERATION_COLOURS = ['#2f5fb3', '#e0723a', '#5aa469', '#8a5cc2', '#b8860b'];
const UNCOLLECTABLE_COLOUR = '#d62728';

const genName = (g: number) => `gen ${g}`;

function generationScale(gens: readonly number[]) {
  const domain = [...new Set(gens)].sort((a, b) => a - b);
  return { legend: true, label: 'generation', domain: domain.map(genName), range: domain.map((g) => GENERATION_COLOURS[g % GENERATION_COLOURS.length]!) };
}

function ms(v: number): string {
  return `${v < 1 ? v.toFixed(3) : v.toFixed(1)} ms`;
}

function pointTitle(log: GcLogData, p: GcPoint): string {
  const where = [`collection ${formatInt(p.index)}`, log.series.x === 'seconds' ? `at ${p.x.toFixed(3)} s` : '', p.line !== null ? `line ${formatInt(p.line)}` : '', p.record !== null ? `record ${formatInt(p.record)}` : ''];
  const found = p.collected === null ? 'results not logged' : `${formatInt(p.collected)} collected, ${formatInt(p.uncollectable ?? 0)} uncollectable`;
  return `${where.filter(Boolean).join(', ')}\ngeneration ${p.generation}: ${found}${p.elapsedMs !== null ? `, ${ms(p.elapsedMs)}` : ''}`;
}

function xAxis(log: GcLogData) {
  return log.series.x === 'seconds'
    ? { label: 'seconds since the first collection logged →', labelAnchor: 'center' as const }
    : { label: 'collection, in log order →', labelAnchor: 'center' as const, tickFormat: (n: number) => (Number.isInteger(n) ? formatInt(n) : '') };
}

function downsampled(log: GcLogData): { note: string; marks: Plot.Markish[] } {
  const s = log.series;
  if (!s.downsampled) return { note: '', marks: [] };
  return {
    note: `Downsampled: ${formatInt(s.points.length)} of ${formatInt(s.total)} collections drawn, keeping per generation the first, last, largest and smallest of every stretch (collected, pause, uncollectable).`,
    marks: [Plot.text([`downsampled: ${formatInt(s.points.length)} of ${formatInt(s.total)} collections drawn, extremes kept`], { frameAnchor: 'top-right', dy: -14, fill: '#555' })],
  };
}

/** A tick per collection, one row per generation. */
export function gcTimelineChart(log: GcLogData, id: string): ChartSpec | null {
  const pts = log.series.points;
  if (pts.length === 0) return null;
  const gens = log.summary.generations.map((g) => g.generation);
  const rows = pts.map((p) => ({ x: p.x, gen: genName(p.generation), title: pointTitle(log, p) }));
  const ds = downsampled(log);
  return {
    id,
    title: `Collections over ${log.series.x === 'seconds' ? 'time' : 'the log'} by generation: ${log.file}`,
    howToRead:
      'One tick per collection, in the row of the generation collected. Young collections (gen 0) come in steady runs; gen 1 and gen 2 ticks mark the costlier collections, which should be rare.' +
      (log.series.x === 'collection' ? ' This log has no times, so x is the collection’s position in it.' : ''),
    note: joinNotes([ds.note]),
    options: {
      width: CHART_WIDTH,
      height: 90 + 36 * gens.length,
      marginLeft: 60,
      marginTop: 30,
      marginBottom: 44,
      style: CHART_STYLE,
      x: xAxis(log),
      y: { label: null, domain: gens.map(genName) },
      color: generationScale(gens),
      marks: [Plot.tickX(rows, { x: 'x', y: 'gen', stroke: 'gen', strokeWidth: 1.5, title: 'title' }), ...ds.marks],
    },
  };
}

/** Stacked bars per pause bin, coloured by generation. */
export function gcPauseChart(log: GcLogData, id: string): ChartSpec | null {
  const p = log.pauses;
  if (p.bins.length === 0) return null;
  const rows = p.bins.flatMap((b) =>
    b.counts.flatMap((n, g) => (n > 0 ? [{ bin: b.label, gen: genName(g), count: n, title: `${b.label} ms: ${formatInt(n)} of generation ${g} (${formatInt(b.total)} in the bin)` }] : [])),
  );
  return {
    id,
    title: `Pause times: ${log.file}`,
    howToRead:
      'How many collections took how long, in bins that double or more in width (1-2-5 ms steps), stacked by generation. The right-hand bars are the pauses a latency-sensitive program feels; full collections (gen 2) usually sit there.',
    note: joinNotes([
      p.unmeasured ? `${formatInt(p.unmeasured)} of ${formatInt(p.measured + p.unmeasured)} collections have no pause time (truncated, or logged without times).` : '',
      log.format === 'gc-debug-stats' ? 'DEBUG_STATS prints elapsed times with 4 decimals: a pause under 0.05 ms reads 0.0000 s and falls in the first bin.' : '',
    ]),
    options: {
      width: CHART_WIDTH,
      height: 300,
      marginLeft: 60,
      marginTop: 34,
      marginBottom: 44,
      style: CHART_STYLE,
      x: { label: 'pause, milliseconds →', labelAnchor: 'center', domain: p.bins.map((b) => b.label), padding: 0.1 },
      y: { label: '↑ collections', grid: true, tickFormat: (n: number) => (Number.isInteger(n) ? formatInt(n) : '') },
      color: generationScale(log.summary.generations.map((g) => g.generation)),
      marks: [
        Plot.barY(rows, { x: 'bin', y: 'count', fill: 'gen', title: 'title' }),
        // The bin's total above it: a handful of long pauses is a bar too thin to see.
        Plot.text(
          p.bins.filter((b) => b.total > 0),
          { x: 'label', y: 'total', text: (b: { total: number }) => formatInt(b.total), dy: -7, fill: '#333' },
        ),
        Plot.ruleY([0]),
      ],
    },
  };
}

/** 0 and the powers of ten from 10 up to `max` (a symlog axis's own ticks crowd at the top); Plot's below 10. */
function decadeTicks(max: number): number[] | undefined {
  if (max < 10) return undefined;
  const ticks = [0];
  for (let t = 10; t <= max; t *= 10) ticks.push(t);
  return ticks;
}

/** What each collection found: collected (by generation) and uncollectable objects. */
export function gcCollectedChart(log: GcLogData, id: string): ChartSpec | null {
  const pts = log.series.points.filter((p) => p.collected !== null);
  if (pts.length === 0) return null;
  const rows = pts.map((p) => ({ x: p.x, collected: p.collected!, gen: genName(p.generation), title: pointTitle(log, p) }));
  const bad = pts.filter((p) => (p.uncollectable ?? 0) > 0).map((p) => ({ x: p.x, uncollectable: p.uncollectable!, title: pointTitle(log, p) }));
  const ds = downsampled(log);
  return {
    id,
    title: `Objects collected per collection: ${log.file}`,
    howToRead:
      'One dot per collection: how many unreachable objects it freed, coloured by generation (y is logarithmic past 10). Red crosses are uncollectable objects (gc.garbage). Dots high up mean reference cycles made in bulk; a run of gen 0 dots at 0 means the young collections find nothing.',
    note: joinNotes([ds.note, bad.length ? `${formatInt(bad.length)} collection${bad.length === 1 ? '' : 's'} found uncollectable objects.` : '']),
    options: {
      width: CHART_WIDTH,
      height: 300,
      marginLeft: 70,
      marginTop: 30,
      marginBottom: 44,
      style: CHART_STYLE,
      x: xAxis(log),
      y: { type: 'symlog', constant: 10, label: '↑ objects', grid: true, ticks: decadeTicks(Math.max(...rows.map((r) => r.collected), ...bad.map((b) => b.uncollectable))), tickFormat: (n: number) => formatInt(n) },
      color: generationScale(log.summary.generations.map((g) => g.generation)),
      marks: [
        Plot.dot(rows, { x: 'x', y: 'collected', fill: 'gen', r: 2.5, title: 'title' }),
        Plot.dot(bad, { x: 'x', y: 'uncollectable', stroke: UNCOLLECTABLE_COLOUR, symbol: 'times', r: 4, strokeWidth: 2, title: 'title' }),
        ...ds.marks,
      ],
    },
  };
}

/** Collections per generation: recorded, the model at the same collections, the whole run, the what-if. */
export function gcModelChart(m: GcModelData, id: string): ChartSpec {
  const series = ['recorded (callbacks)', 'model, same collections', 'whole run (model)', ...(m.whatIf ? [m.whatIf.title] : [])];
  const colours = ['#2f5fb3', '#8fb8ea', '#9a9aa6', '#b04fb0'];
  const rows = m.rows.flatMap((r) => {
    const values = [r.recorded, r.model, r.wholeRun, ...(r.whatIf !== null ? [r.whatIf] : [])];
    return values.map((n, i) => ({ gen: genName(r.generation), series: series[i]!, count: n, title: `generation ${r.generation}, ${series[i]}: ${formatInt(n)}` }));
  });
  return {
    id,
    title: `Collections per generation, model versus recorded: ${m.file}`,
    howToRead:
      'Per generation, the collections the recording logged through gc.callbacks (dark blue) beside the model’s generation at those same collections (light blue): equal bars mean the model named every one. Grey adds the collections without callbacks (start-up before the recorder attached, shutdown).' +
      (m.whatIf ? ` Purple is the whole run under ${m.whatIf.title === 'what if' ? 'the what-if' : m.whatIf.title} (thresholds ${m.whatIf.thresholds.join('/')}); compare it with grey.` : ''),
    options: {
      width: CHART_WIDTH,
      height: 300,
      marginLeft: 60,
      marginTop: 34,
      marginBottom: 30,
      style: CHART_STYLE,
      fx: { label: null, domain: m.rows.map((r) => genName(r.generation)) },
      x: { axis: null, domain: series, padding: 0.1 },
      y: { label: '↑ collections', grid: true, tickFormat: (n: number) => (Number.isInteger(n) ? formatInt(n) : '') },
      color: { legend: true, domain: series, range: colours.slice(0, series.length) },
      marks: [
        Plot.barY(rows, { fx: 'gen', x: 'series', y: 'count', fill: 'series', title: 'title' }),
        // The count above each bar: gen 1 and 2 bars are small next to gen 0.
        Plot.text(rows, { fx: 'gen', x: 'series', y: 'count', text: (r: { count: number }) => formatInt(r.count), dy: -7, fill: '#333' }),
        Plot.ruleY([0]),
      ],
    },
  };
}

/** Where in the record stream each world collected, one row per world. */
export function gcModelTimelineChart(m: GcModelData, id: string): ChartSpec | null {
  const t = m.timeline;
  if (t.rows.length === 0) return null;
  const worlds = ['recorded', 'model', ...(m.whatIf ? ['what if'] : [])];
  const label = (s: string) => (s === 'what if' ? m.whatIf!.title : s);
  const rows = t.rows.map((r) => ({ record: r.record, world: label(r.series), gen: genName(r.generation), title: `${label(r.series)}: generation ${r.generation} at record ${formatInt(r.record)}` }));
  const fork = m.whatIf?.forkedAtRecord;
  return {
    id,
    title: `Where each collection started, recorded and modelled: ${m.file}`,
    howToRead:
      'x is the position in the recorded event stream; each tick a collection, coloured by generation. The model row should repeat the recorded one and add the collections without callbacks (start-up, shutdown).' +
      (m.whatIf ? ` The what-if row runs the same program under thresholds ${m.whatIf.thresholds.join('/')}; the dashed rule is where it first decided otherwise.` : ''),
    note: joinNotes([t.downsampled ? `Downsampled: ${formatInt(t.rows.length)} of ${formatInt(t.total)} collections drawn, keeping per generation the first and last of every stretch.` : '']),
    options: {
      width: CHART_WIDTH,
      height: 90 + 36 * worlds.length,
      marginLeft: 90,
      marginTop: 30,
      marginBottom: 44,
      style: CHART_STYLE,
      x: { label: 'record →', labelAnchor: 'center', tickFormat: (n: number) => formatInt(n) },
      y: { label: null, domain: worlds.map(label) },
      color: generationScale(t.rows.map((r) => r.generation)),
      marks: [
        ...(fork !== null && fork !== undefined ? [Plot.ruleX([fork], { stroke: '#777', strokeDasharray: '4,3', title: () => `what if forks at record ${formatInt(fork)}` })] : []),
        Plot.tickX(rows, { x: 'record', y: 'world', stroke: 'gen', strokeWidth: 1.5, title: 'title' }),
      ],
    },
  };
}
