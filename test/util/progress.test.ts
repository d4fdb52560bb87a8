// The progress line: drawn on a TTY only, never with --quiet; a bar when the total is known.
import { describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/util/io.js';
import { Progress } from '../../src/util/progress.js';

const tty = () => Object.assign(memoryIo(), { isTTY: true });

describe('Progress', () => {
  it('draws nothing when stderr is not a terminal, or with --quiet', () => {
    const pipe = memoryIo();
    new Progress(pipe, 'x').update(5, 10);
    const quiet = tty();
    const p = new Progress(quiet, 'x', true);
    p.update(5, 10);
    p.done();
    expect(pipe.err + quiet.err).toBe('');
  });

  it('draws a bar and a percentage when the total is known, and clears its line when done', () => {
    const io = tty();
    const p = new Progress(io, 'cpymem: replaying', false, { unit: 'events' });
    p.update(2_500_000, 10_000_000);
    expect(io.err).toBe(`\rcpymem: replaying: [#######-----------------------] 25% 2,500,000/10,000,000 events\x1b[K`);
    p.update(5_000_000, 10_000_000); // within 100 ms of the last redraw: skipped
    expect(io.err.split('\r')).toHaveLength(2);
    p.done();
    expect(io.err.endsWith('\r\x1b[K')).toBe(true);
  });

  it('prints the count alone without a total, and the rate once a second has passed', () => {
    const p = new Progress(tty(), 'reading', false, { unit: 'events', rate: true });
    expect(p.line(1234, undefined, 500)).toBe('reading: 1,234 events');
    expect(p.line(30_000_000, 40_000_000, 2000)).toBe('reading: [######################--------] 75% 30,000,000/40,000,000 events, 15.0 M/s');
    expect(p.line(12, 0, 1000)).toBe('reading: 12 events, 12/s');
  });
});
