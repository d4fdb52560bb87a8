// What every chart of the report is: Plot options plus the words around them. Chart modules are pure
// (data → ChartSpec, no DOM); src/report/render.ts turns the options into SVG.

import type { PlotOptions } from '@observablehq/plot';
import type { BreakdownPartName } from '../../analysis/fragmentation.js';

export interface ChartSpec {
  /** Stable, page-unique: used as the figure's id and to renumber Plot's generated ids. */
  id: string;
  title: string;
  /** One line telling the reader what to look at. */
  howToRead: string;
  /** Shown under the chart when something was left out or approximated (e.g. downsampling). */
  note?: string;
  options: PlotOptions;
}

/** Chart width in pixels: fits the page's 1100-pixel column; SVGs scale down on narrow screens. */
export const CHART_WIDTH = 1040;

/**
 * One colour per part of "bytes in arenas": live data in blue, reusable free blocks in light blue,
 * never-carved pools in grey, and the three kinds of pure overhead in warm colours.
 */
export const PART_COLOURS: Readonly<Record<BreakdownPartName, string>> = {
  usedBlocks: '#2f5fb3',
  freeBlocks: '#8fb8ea',
  unusedPools: '#c9c9c9',
  poolHeaders: '#8a5cc2',
  quantization: '#e0723a',
  arenaAlignment: '#b8860b',
};

export const USED_COLOUR = PART_COLOURS.usedBlocks;
export const FREE_COLOUR = PART_COLOURS.freeBlocks;

/** Left margin wide enough for the longest of some labels (Plot does not measure text). */
export function marginFor(labels: readonly string[], min = 40, max = 320): number {
  const longest = labels.reduce((m, l) => Math.max(m, l.length), 0);
  return Math.min(max, Math.max(min, Math.ceil(longest * 7) + 16));
}

/**
 * A file path shortened for an axis: its last two segments (the fixture folder and the file name
 * are the telling part), and at most `max` characters, keeping the end.
 */
export function shortPath(path: string, max = 44): string {
  const tail = path.split(/[\\/]/).slice(-2).join('/');
  return tail.length <= max ? tail : `…${tail.slice(tail.length - max + 1)}`;
}

/** Sentences joined into one note, or undefined when there is nothing to say. */
export function joinNotes(notes: readonly string[]): string | undefined {
  const text = notes.filter(Boolean).join(' ');
  return text || undefined;
}

/**
 * Axis ticks for bytes at round binary amounts (0, 5 MiB, 10 MiB …) rather than Plot's decimal
 * ones (4.77 MiB): steps of 1, 2 or 5 × 10^n × 2^10k, the count nearest `target`, up to `max`.
 */
export function byteTicks(max: number, target = 6): number[] {
  if (!(max > 0)) return [0];
  let unit = 1;
  while (max / unit >= 1024) unit *= 1024;
  const span = max / unit;
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500];
  const best = steps.reduce((b, st) => (Math.abs(span / st - target) < Math.abs(span / b - target) ? st : b));
  const step = best * unit;
  const ticks: number[] = [];
  for (let t = 0; t <= max * 1.0001; t += step) ticks.push(t);
  return ticks;
}

/** Integer ticks 1…n when there are few dumps, so no tick falls between two dumps. */
export function dumpTicks(count: number): number[] | undefined {
  return count <= 20 ? Array.from({ length: count }, (_, i) => i + 1) : undefined;
}

/** Round-ish thresholds (1-2-5 series) splitting 1…max into at most `n` + 1 colour bins. */
export function countThresholds(max: number, n = 6): number[] {
  let t: number[] = [];
  for (let p = 1; p <= max * 10; p *= 10) for (const m of [1, 2, 5]) if (m * p > 1 && m * p <= max) t.push(m * p);
  while (t.length > n) t = t.filter((_, i) => i % 2 === 1);
  return t;
}

/** `n` colours of POOL_RAMP, spread from its lightest to its darkest. */
export function rampColours(n: number): string[] {
  if (n <= 1) return [POOL_RAMP[3]];
  return Array.from({ length: n }, (_, i) => POOL_RAMP[Math.round((i * (POOL_RAMP.length - 1)) / (n - 1))]!);
}

/** Light to dark blue, light enough at the bottom to still differ from the white page. */
export const POOL_RAMP = ['#dbe9f6', '#bad6eb', '#89bedc', '#539ecd', '#2b7bba', '#0b559f', '#08306b'] as const;

/** Plot's default 10-pixel text is small next to the page's 14-pixel body. */
export const CHART_STYLE = { fontSize: '12px' } as const;
