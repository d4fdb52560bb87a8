import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';

/**
 * Write a file of any size so that readers see either the old content or the whole new one:
 * stream into a temporary file beside it, then rename (atomic within one filesystem). A name ending
 * in .gz is gzip-compressed. `produce` gets a write function that respects back-pressure.
 */
export async function writeStreamAtomic(path: string, produce: (write: (chunk: string) => Promise<void>) => Promise<void>): Promise<void> {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const file = createWriteStream(tmp);
  const gzip = path.endsWith('.gz') ? createGzip() : undefined;
  if (gzip) gzip.pipe(file);
  const sink: Writable = gzip ?? file;
  let failed: Error | undefined;
  const onError = (err: Error) => {
    failed ??= err;
  };
  file.on('error', onError);
  gzip?.on('error', onError);
  try {
    await produce(async (chunk) => {
      if (failed) throw failed;
      if (!sink.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const done = (err?: Error) => {
            sink.off('drain', onDrain);
            file.off('error', done);
            sink.off('error', done);
            if (err) reject(err);
            else resolve();
          };
          const onDrain = () => done();
          sink.once('drain', onDrain);
          file.once('error', done);
          sink.once('error', done);
        });
      }
    });
    sink.end();
    await once(file, 'close');
    if (failed) throw failed;
    renameSync(tmp, path);
  } catch (err) {
    sink.destroy();
    file.destroy();
    rmSync(tmp, { force: true });
    throw err;
  }
}
