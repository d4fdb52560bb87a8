// Types of docs/gen/examples.mjs, for the tests that import it.
import type { CliIo } from '../../src/util/io.js';

export interface Example {
  command: string;
  check: 'output' | 'exit' | 'none' | string;
  head?: number;
  output: string;
  exit?: number;
  start: number;
  end: number;
  attrs: string;
}
export const ROOT: string;
export const COMMANDS_DIR: string;
export function parseExamples(md: string): Example[];
export function splitArgs(line: string): string[];
export function makeWorkdir(): { dir: string; dispose(): void };
export function resetOut(dir: string): void;
export function normalise(text: string, dir: string, head?: number): string;
export function runExample(main: (argv: string[], io: CliIo) => Promise<number>, example: Example, dir: string): Promise<{ exit: number; printed: string }>;
export function renderExample(example: Example, printed: string, exit: number): string;
