// The CLI over real streams: a reader that closes the pipe early (`cpymem … | head`) ends the
// printing, not the command.
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { streamIo } from '../../src/util/io.js';
import { FIXTURES } from '../helpers/fixtures.js';

/** A pipe whose reader takes `keep` writes and then goes away, as `head` does. */
function closingPipe(keep: number): Writable & { taken: string } {
  let writes = 0;
  const w = new Writable({
    write(chunk, _enc, done) {
      if (writes++ < keep) {
        w.taken += String(chunk);
        done();
      } else done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  }) as Writable & { taken: string };
  w.taken = '';
  return w;
}

function collector(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _enc, done) {
      w.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

describe('stdout closed by its reader', () => {
  it('inspect --format text into a pipe closed after the first write: exit 0, no error printed', async () => {
    const out = closingPipe(1);
    const err = collector();
    const file = join(FIXTURES, 'malloc-stats', '3.11.7-linux-x86_64', 'dict-churn.txt');
    const code = await main(['inspect', file, '--format', 'text'], streamIo(out, err, process.cwd()));
    await new Promise((r) => setImmediate(r));
    expect(code).toBe(0);
    expect(out.taken).toMatch(/^Small block threshold = 512, in 32 size classes\./);
    expect(err.text).toBe('');
  });

  it('a failed gate keeps its exit status 1 when the pipe closes', async () => {
    const out = closingPipe(0);
    const err = collector();
    const file = join(FIXTURES, 'malloc-stats', '3.11.7-linux-x86_64', 'dict-churn.txt');
    // The dumps have arenas (CPython printed "# arenas allocated current" > 0), so at most 0 fails.
    const code = await main(['check', file, '--max-arenas', '0', '--quiet'], streamIo(out, err, process.cwd()));
    await new Promise((r) => setImmediate(r));
    expect([code, err.text]).toEqual([1, '']);
  });
});
