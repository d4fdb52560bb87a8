// What a command may touch of the outside world, passed in so tests can run commands in-process.
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
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
    stdoutDrain: () => (process.stdout.writableNeedDrain ? new Promise<void>((r) => process.stdout.once('drain', () => r())) : Promise.resolve()),
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
