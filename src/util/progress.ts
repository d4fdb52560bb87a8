import type { CliIo } from './io.js';

const BAR_WIDTH = 30;

export interface ProgressOptions {
  /** Names what is counted ("events"), printed after the count. */
  unit?: string;
  /** Also print the rate (per second) once a second has passed. */
  rate?: boolean;
}

/**
 * A one-line progress indicator on stderr, drawn only on a TTY and never with --quiet: a bar and a
 * percentage when the total is known, the count otherwise, and optionally the rate.
 * Redraws at most every 100 ms so it costs nothing in a tight loop.
 */
export class Progress {
  private last = 0;
  private started = 0;
  private shown = false;
  constructor(
    private readonly io: CliIo,
    private readonly label: string,
    private readonly quiet = false,
    private readonly opts: ProgressOptions = {},
  ) {}

  get enabled(): boolean {
    return this.io.isTTY && !this.quiet;
  }

  update(done: number, total?: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (this.started === 0) this.started = now;
    if (now - this.last < 100) return;
    this.last = now;
    this.io.stderr(`\r${this.line(done, total, now - this.started)}\x1b[K`);
    this.shown = true;
  }

  /** The text drawn for `done` of `total` after `elapsedMs`. */
  line(done: number, total: number | undefined, elapsedMs: number): string {
    const count = (n: number) => n.toLocaleString('en-US');
    let text = `${this.label}: `;
    if (total) {
      const f = Math.min(1, Math.max(0, done / total));
      const filled = Math.floor(f * BAR_WIDTH);
      text += `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${Math.floor(100 * f)}% ${count(done)}/${count(total)}`;
    } else {
      text += count(done);
    }
    if (this.opts.unit) text += ` ${this.opts.unit}`;
    if (this.opts.rate && elapsedMs >= 1000) {
      const r = (1000 * done) / elapsedMs;
      text += `, ${r >= 1e6 ? `${(r / 1e6).toFixed(1)} M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)} k` : r.toFixed(0)}/s`;
    }
    return text;
  }

  done(): void {
    if (this.shown) this.io.stderr('\r\x1b[K');
    this.shown = false;
  }
}
