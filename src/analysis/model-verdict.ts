// Whether a replay reproduced the real run: every address, every dump, every allocated-blocks
// count, and the first place it did not, in words (`cpymem compare`, the model-must-match gate).
import { formatInt, formatPercent } from '../util/format.js';
import type { ReplayRun } from './model-vs-real.js';

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
