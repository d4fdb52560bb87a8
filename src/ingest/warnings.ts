import type { ReadWarning, Severity } from '../model/types.js';
import { InputError } from '../util/errors.js';

/**
 * Recoverable problems met while reading, collected Perfetto style: each has a stable code and a
 * severity, and is counted. `strict` turns the first warning or error into a thrown InputError.
 */
export class WarningSink {
  readonly list: ReadWarning[] = [];
  constructor(
    private readonly file: string | undefined,
    private readonly strict = false,
    /** Keep at most this many individual warnings; the rest are only counted. */
    private readonly keep = 1000,
  ) {}

  private dropped = new Map<string, number>();

  add(code: string, severity: Severity, message: string, where: { line?: number; offset?: number } = {}): void {
    if (this.strict && severity !== 'info') {
      throw new InputError({ file: this.file, ...where }, `${message} (${code}; --strict makes warnings fatal)`, code);
    }
    if (this.list.length < this.keep) {
      this.list.push({ code, severity, ...where, message });
    } else {
      this.dropped.set(code, (this.dropped.get(code) ?? 0) + 1);
    }
  }

  /** Warnings plus one summary warning per code whose individual entries were dropped. */
  finish(): ReadWarning[] {
    for (const [code, n] of [...this.dropped].sort()) {
      this.list.push({ code, severity: 'info', message: `${n} more ${code} warnings not listed` });
    }
    this.dropped.clear();
    return this.list;
  }
}

/** Counts of warnings per code, sorted by code (for summaries and the report). */
export function countWarnings(warnings: readonly ReadWarning[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const w of warnings) counts[w.code] = (counts[w.code] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** "W_A ×2, W_B ×1", or "" without warnings: what the commands print of them. */
export function warningCounts(warnings: readonly ReadWarning[]): string {
  return Object.entries(countWarnings(warnings))
    .map(([c, n]) => `${c} ×${n}`)
    .join(', ');
}
