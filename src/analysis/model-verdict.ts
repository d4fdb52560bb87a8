// Whether a replay reproduced the real run: every address, every dump, every allocated-blocks
// count, and the first place it did not, in words (`cpymem compare`, the model-must-match gate).
// compareRun() is the whole of `cpymem compare` but the printing: the CLI and the library's
// compare() both call it, so they cannot reach different verdicts.
import type { EventSource } from '../ingest/events-bundle.js';
import { formatInt, formatPercent } from '../util/format.js';
import { gcSummaryJson, gcUnavailable, gcVerdict, prepareGcRun, type GcRun } from './gc-vs-real.js';
import { replayRun, type ReplayRun } from './model-vs-real.js';

/** A recorded run replayed through the pymalloc and GC models, and held against what CPython did. */
export interface Comparison {
  version: string;
  run: ReplayRun;
  /** pymalloc: addresses, dumps, allocated blocks. */
  verdict: { identical: boolean; lines: string[] };
  /** The GC model's run, when the source can drive it (capture bundles with the young counter). */
  gc?: GcRun;
  gcVerdict?: { ok: boolean; line: string };
  /** Why the GC was not compared, when it was not. */
  gcUnavailable?: string;
  /** The exit verdict: pymalloc identical and (where compared) the GC agreeing. */
  ok: boolean;
}

export interface CompareOptions {
  /** 3.12+: fail on GC disagreements too (generation, unpredicted collections); 3.8–3.11 always do. */
  gcStrict?: boolean;
  onProgress?(events: number): void;
}

/** Replay `source` as CPython `version` through both models in one pass, and judge the result. */
export async function compareRun(source: EventSource, version: string, opts: CompareOptions = {}): Promise<Comparison> {
  // The GC model rides on the same pass: predicted against recorded collections.
  const gc = await prepareGcRun(source, version);
  const run = await replayRun(gc ? gc.tee(source) : source, version, { onProgress: opts.onProgress });
  const v = verdict(run);
  const gcRun = gc?.finish();
  const gcV = gcRun ? gcVerdict(gcRun, opts.gcStrict) : undefined;
  return { version, run, verdict: v, gc: gcRun, gcVerdict: gcV, gcUnavailable: gcRun ? undefined : gcUnavailable(source), ok: v.identical && (gcV?.ok ?? true) };
}

/** `cpymem compare --json` (schema 1). */
export function comparisonJson(c: Comparison, file: string) {
  const s = c.run.summary;
  return {
    schema: 1,
    file,
    python: c.version,
    identical: c.verdict.identical,
    gcAgrees: c.gcVerdict?.ok ?? null,
    events: s.events,
    addresses: { checked: s.addressesChecked, predicted: s.addressesPredicted },
    arenas: s.arenas,
    arenaMismatches: s.arenaMismatches,
    divergences: s.divergences,
    markers: c.run.markers.map((m) => ({
      index: m.index,
      event: m.event,
      label: m.label ?? null,
      identical: m.identical ?? null,
      firstDifference: m.firstDifference ?? null,
      recordedAllocatedBlocks: m.recordedAllocatedBlocks ?? null,
      modelAllocatedBlocks: m.modelAllocatedBlocks,
    })),
    gc: c.gc ? gcSummaryJson(c.gc) : { unavailable: c.gcUnavailable ?? null },
  };
}

/** Everything that differs, in one verdict. */
export function verdict(run: ReplayRun): { identical: boolean; lines: string[] } {
  const s = run.summary;
  const lines: string[] = [];
  const compared = run.markers.filter((m) => m.identical !== undefined);
  const differing = compared.filter((m) => !m.identical);
  const blocks = run.markers.filter((m) => m.recordedAllocatedBlocks !== undefined);
  const blocksOff = blocks.filter((m) => m.recordedAllocatedBlocks !== m.modelAllocatedBlocks);
  const addressesOk = s.addressesPredicted === s.addressesChecked && s.arenaMismatches === 0;
  lines.push(`addresses: ${formatInt(s.addressesPredicted)} / ${formatInt(s.addressesChecked)} predicted (${formatPercent(s.addressesChecked ? s.addressesPredicted / s.addressesChecked : 1, 3)}), arena mismatches ${s.arenaMismatches}`);
  lines.push(`dumps: ${compared.length - differing.length} / ${compared.length} identical${run.markers.length > compared.length ? ` (${run.markers.length - compared.length} markers without a real pymalloc dump)` : ''}`);
  lines.push(`allocated blocks: ${blocks.length - blocksOff.length} / ${blocks.length} equal`);
  const first = s.divergences[0];
  if (first) lines.push(`first divergence: event ${formatInt(first.event)} (${first.op}): model expected ${first.expected}, recorded ${first.recorded}`);
  const d = differing[0];
  if (d) {
    lines.push(`first differing dump: ${d.label ?? `marker ${d.index}`} (event ${formatInt(d.event)}), ${d.differingLines} line(s) differ; first at line ${d.firstDifference!.line}:`);
    lines.push(`  real:  ${d.firstDifference!.real}`);
    lines.push(`  model: ${d.firstDifference!.model}`);
  }
  const b = blocksOff[0];
  if (b) lines.push(`first allocated-blocks difference: ${b.label ?? `marker ${b.index}`}: recorded ${b.recordedAllocatedBlocks}, model ${b.modelAllocatedBlocks}`);
  return { identical: addressesOk && differing.length === 0 && blocksOff.length === 0, lines };
}
