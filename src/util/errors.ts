// Errors that the CLI turns into exit codes: 2 for bad input or usage, 1 for a failed check.
// Messages are one line, name where (file, line or byte offset), what was expected and what was found.

export class CpymemError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
    readonly code = 'E_CPYMEM',
  ) {
    super(message);
    this.name = 'CpymemError';
  }
}

export interface InputLocation {
  file?: string;
  /** 1-based line. */
  line?: number;
  /** 0-based byte offset. */
  offset?: number;
}

/** Bad input: exit 2, message "FILE:LINE: expected X, found Y". */
export class InputError extends CpymemError {
  constructor(
    readonly where: InputLocation,
    readonly detail: string,
    code = 'E_INPUT',
  ) {
    super(`${formatLocation(where)}${detail}`, 2, code);
    this.name = 'InputError';
  }
}

export function formatLocation(where: InputLocation): string {
  let s = where.file ?? '<input>';
  if (where.line !== undefined) s += `:${where.line}`;
  else if (where.offset !== undefined) s += `: byte ${where.offset}`;
  return `${s}: `;
}

/** Shown for a value in a message: short, quoted, control characters escaped. */
export function showValue(value: string, max = 60): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(cut);
}

/**
 * An input error about `path` (or a file inside it, for a bundle directory) told under `name`, the
 * path as the user spelled it: commands resolve names against their working directory to read.
 */
export function asSpelled(err: unknown, path: string, name: string): unknown {
  const file = err instanceof InputError ? err.where.file : undefined;
  if (file === undefined || path === name || !(file === path || file.startsWith(`${path}/`) || file.startsWith(`${path}\\`))) return err;
  return new InputError({ ...(err as InputError).where, file: name + file.slice(path.length) }, (err as InputError).detail, (err as InputError).code);
}
