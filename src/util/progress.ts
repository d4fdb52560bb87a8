import type { CliIo } from './io.js';

/**
 * A one-line progress indicator on stderr, drawn only on a TTY and never with --quiet.
 * Redraws at most every 100 ms so it costs nothing in a tight loop.
 */
export class Progress {
  private last = 0;
  private shown = false;
  constructor(
    private readonly io: CliIo,
    private readonly label: string,
    private readonly quiet = false,
  ) {}

  get enabled(): boolean {
    return this.io.isTTY && !this.quiet;
  }

  update(done: number, total?: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const pct = total ? ` ${((100 * done) / total).toFixed(0)}%` : '';
    this.io.stderr(`\r${this.label}: ${done.toLocaleString('en-US')}${total ? `/${total.toLocaleString('en-US')}` : ''}${pct}\x1b[K`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.io.stderr('\r\x1b[K');
    this.shown = false;
  }
}
