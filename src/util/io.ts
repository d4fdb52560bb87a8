// What a command may touch of the outside world, passed in so tests can run commands in-process.
import type { Writable } from 'node:stream';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** stderr is a terminal: progress may be drawn there. */
  isTTY: boolean;
  cwd: string;
  /** Resolves when stdout can take more (back-pressure for long streamed output); optional. */
  stdoutDrain?(): Promise<void>;
}

export function processIo(): CliIo {
  return streamIo(process.stdout, process.stderr, process.cwd());
}

/** A CliIo over two streams (the process's own in processIo). */
export function streamIo(stdout: NodeJS.WriteStream | Writable, stderr: NodeJS.WriteStream | Writable, cwd: string): CliIo {
  // A reader that goes away (`cpymem inspect --json | head`) closes the pipe: what is left to print
  // is dropped, and the command still ends with its own exit status (a failed check stays 1).
  let closed = false;
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    closed = true;
  });
  return {
    stdout: (t) => {
      if (!closed) stdout.write(t);
    },
    stderr: (t) => stderr.write(t),
    isTTY: Boolean((stderr as NodeJS.WriteStream).isTTY),
    cwd,
    stdoutDrain: () => (!closed && stdout.writableNeedDrain ? new Promise<void>((r) => stdout.once('drain', () => r())) : Promise.resolve()),
  };
}

/** An in-memory CliIo for tests: collects what a command prints. */
export function memoryIo(cwd = process.cwd()): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    isTTY: false,
    cwd,
    stdout(t: string) {
      io.out += t;
    },
    stderr(t: string) {
      io.err += t;
    },
  };
  return io;
}
