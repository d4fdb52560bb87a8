// What the bench cases share: a scratch directory for their big files, and subjects run in a fresh
// process each, so that one subject's heap does not inflate the next one's peak RSS.
//
// A module that has subjects ends with `await benchChildMain(import.meta.url, { name: fn, … })`; the
// parent calls `runChild(import.meta.url, name, args)`, which spawns `node <module> --bench-child
// name args…`. The child prints one JSON line: the subject's value, its seconds and the process's
// peak RSS (getrusage ru_maxrss, the high-water mark of resident memory).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ChildResult<T> {
  value: T;
  seconds: number;
  /** Peak RSS of the child process, MB (10^6 bytes). */
  maxRssMb: number;
}

export type Subject = (args: string[]) => unknown;

const FLAG = '--bench-child';

/** A new directory for one case's big temporary files, under $CPYMEM_BENCH_TMP or /tmp/cpymem-scale. */
export function scratchDir(prefix: string): string {
  const base = process.env.CPYMEM_BENCH_TMP ?? join(tmpdir(), 'cpymem-scale');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${prefix}-`));
}

/** Run one subject of `moduleUrl` in a fresh Node process. */
export function runChild<T>(moduleUrl: string, name: string, args: readonly string[] = []): ChildResult<T> {
  const r = spawnSync(process.execPath, [fileURLToPath(moduleUrl), FLAG, name, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`bench subject ${name} failed (exit ${r.status}): ${r.stderr.trim().slice(-2000)}`);
  return JSON.parse(last) as ChildResult<T>;
}

/** In the child: run the subject named on the command line, print its ChildResult. */
export async function benchChildMain(moduleUrl: string, subjects: Record<string, Subject>): Promise<void> {
  if (process.argv[1] !== fileURLToPath(moduleUrl) || process.argv[2] !== FLAG) return;
  const name = process.argv[3]!;
  const subject = subjects[name];
  if (!subject) throw new Error(`no bench subject ${name} (have ${Object.keys(subjects).join(', ')})`);
  const t0 = process.hrtime.bigint();
  const value = await subject(process.argv.slice(4));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // ru_maxrss is in KiB on Linux.
  const result: ChildResult<unknown> = { value, seconds, maxRssMb: (process.resourceUsage().maxRSS * 1024) / 1e6 };
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
}

/** "123 MB". */
export function mb(n: number): string {
  return `${n.toFixed(0)} MB`;
}
