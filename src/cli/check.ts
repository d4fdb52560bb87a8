// `cpymem check INPUT… --max-… [--baseline FILE] [--junit FILE] [--json]`: CI gates on a run's memory
// evidence. Exit 0 when every gate passes, 1 when one fails (one short line per failed gate: value,
// limit, where), 2 for bad input. Without a gate it prints what it measured, to choose limits from.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { gatherEvidence } from '../analysis/evidence.js';
import { evaluateGates, measure, type GateResult, type Limits, type Metrics } from '../analysis/gates.js';
import { junitXml } from '../report/junit.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { CpymemError, InputError } from '../util/errors.js';
import type { CliIo } from '../util/io.js';
import { Progress } from '../util/progress.js';
import { formatBytes, formatInt, formatPercent } from '../util/format.js';
import { parseDuration, parseRatio, parseSize } from '../util/size.js';

export interface CheckArgs {
  inputs: string[];
  maxArenas?: number;
  maxReserved?: string;
  maxFragmentation?: string;
  maxPinnedArenas?: number;
  maxGrowth?: string;
  baseline?: string;
  maxGcPause?: string;
  maxGen2PerMinute?: number;
  modelMustMatch?: boolean;
  junit?: string;
  json?: boolean;
  python?: string;
  strict?: boolean;
  quiet?: boolean;
}

/** What `--json` prints and `--baseline` reads back. */
export interface CheckReport {
  schema: 1;
  format: 'cpymem-check';
  inputs: string[];
  metrics: Metrics;
  gates: GateResult[];
  pass: boolean;
}

function usage(message: string): never {
  throw new CpymemError(message, 2, 'E_USAGE');
}

export function limitsFrom(args: CheckArgs): Limits {
  const num = (flag: string, v: number | undefined) => {
    if (v === undefined) return undefined;
    if (!Number.isFinite(v) || v < 0) usage(`${flag}: expected a number ≥ 0, found ${JSON.stringify(v)}`);
    return v;
  };
  const parsed = <T>(flag: string, v: string | undefined, parse: (s: string) => T | undefined, example: string) => {
    if (v === undefined) return undefined;
    const r = parse(String(v));
    if (r === undefined) usage(`${flag}: expected ${example}, found ${JSON.stringify(v)}`);
    return r;
  };
  return {
    maxArenas: num('--max-arenas', args.maxArenas),
    maxReserved: parsed('--max-reserved', args.maxReserved, parseSize, 'a size like 200MiB or 1GiB'),
    maxFragmentation: parsed('--max-fragmentation', args.maxFragmentation, parseRatio, 'a ratio like 0.25 or 25%'),
    maxPinnedArenas: num('--max-pinned-arenas', args.maxPinnedArenas),
    maxGrowth: parsed('--max-growth', args.maxGrowth, parseRatio, 'a ratio like 10% or 0.1'),
    maxGcPauseSeconds: parsed('--max-gc-pause', args.maxGcPause, parseDuration, 'a duration like 50ms or 0.05s'),
    maxGen2PerMinute: num('--max-gen2-per-minute', args.maxGen2PerMinute),
    modelMustMatch: args.modelMustMatch,
  };
}

/** A stored `cpymem check --json` output, read as a baseline. */
export function readBaseline(file: string): Metrics {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError({ file }, `cannot read the baseline: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'E_READ');
  }
  let data: Partial<CheckReport>;
  try {
    data = JSON.parse(text) as Partial<CheckReport>;
  } catch (err) {
    throw new InputError({ file }, `expected the JSON written by cpymem check --json, found text that is not JSON (${(err as Error).message})`, 'E_BASELINE');
  }
  if (data?.format !== 'cpymem-check' || data.schema !== 1 || typeof data.metrics !== 'object' || data.metrics === null) {
    throw new InputError({ file }, 'expected the JSON written by cpymem check --json ({"schema":1,"format":"cpymem-check","metrics":{…}}), found another JSON document', 'E_BASELINE');
  }
  return data.metrics;
}

export async function runCheck(args: CheckArgs, io: CliIo): Promise<number> {
  const limits = limitsFrom(args);
  const baseline = args.baseline ? readBaseline(resolve(io.cwd, args.baseline)) : undefined;
  if (baseline && limits.maxGrowth === undefined) usage('--baseline: give --max-growth too (the growth allowed against the baseline)');
  const progress = new Progress(io, 'cpymem check: reading', args.quiet);
  const evidence = await gatherEvidence(args.inputs, {
    cwd: io.cwd,
    strict: args.strict,
    python: args.python,
    onProgress: (i, n) => progress.update(i, n),
  });
  progress.done();
  const metrics = measure(evidence);
  const gates = evaluateGates(metrics, limits, baseline);
  const pass = gates.every((g) => g.pass);
  if (args.junit) writeFileAtomic(resolve(io.cwd, args.junit), junitXml(gates));
  if (args.json) {
    const report: CheckReport = { schema: 1, format: 'cpymem-check', inputs: args.inputs, metrics, gates, pass };
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const lines = gates.filter((g) => !g.pass).map((g) => `FAIL ${g.gate}: ${g.message}`);
    if (!args.quiet) {
      if (gates.length === 0) lines.push(...describeMetrics(metrics), 'no gate given (e.g. --max-arenas 100 --max-fragmentation 25%): nothing to fail');
      else lines.push(...gates.filter((g) => g.pass).map((g) => `ok   ${g.gate}: ${g.message}`));
      if (gates.length) lines.push(`cpymem check: ${gates.filter((g) => g.pass).length} of ${gates.length} gate(s) passed`);
    }
    if (lines.length) io.stdout(`${lines.join('\n')}\n`);
  }
  return pass ? 0 : 1;
}

/** How each metric reads in the "what was measured" listing. */
const METRIC_FORMAT: Record<keyof Metrics, [label: string, show: (n: number) => string]> = {
  arenas: ['arenas at most', formatInt],
  reservedBytes: ['reserved in arenas at most', formatBytes],
  fragmentation: ['fragmentation of the last dump', (x) => formatPercent(x)],
  pinnedArenas: ['pinned arenas at most', formatInt],
  allocatedBytes: ['bytes in allocated blocks at the end', formatBytes],
  tracedBytes: ['traced memory', formatBytes],
  growthInRun: ['growth within the run', (x) => formatPercent(x)],
  modelMismatches: ['replayed runs the model did not reproduce', formatInt],
  gcPauseSeconds: ['longest GC pause', (s) => `${(s * 1000).toFixed(1)} ms`],
  gen2PerMinute: ['generation-2 collections per minute', (n) => n.toFixed(1)],
};

function describeMetrics(m: Metrics): string[] {
  return (Object.keys(METRIC_FORMAT) as (keyof Metrics)[])
    .filter((k) => m[k] !== undefined)
    .map((k) => `${METRIC_FORMAT[k][0]}: ${METRIC_FORMAT[k][1](m[k]!.value)} (${m[k]!.where})`);
}

const command: CommandModule<object, CheckArgs> = {
  command: 'check <inputs..>',
  describe: 'CI gates on memory evidence (dumps, snapshots, GC logs, capture bundles): exit 1 when a gate fails',
  builder: (y: Argv) =>
    y
      .positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'any mix of malloc-stats dumps, tracemalloc snapshots, GC logs, capture bundles, events CSVs' })
      .option('max-arenas', { type: 'number', describe: 'most pymalloc arenas allocated at once' })
      .option('max-reserved', { type: 'string', describe: 'most bytes reserved in arenas (e.g. 200MiB)' })
      .option('max-fragmentation', { type: 'string', describe: 'fragmentation of the last dump (e.g. 25% or 0.25)' })
      .option('max-pinned-arenas', { type: 'number', describe: 'most pinned arenas at a marker (capture bundles)' })
      .option('max-growth', { type: 'string', describe: 'growth allowed (e.g. 10%): within the run, or against --baseline' })
      .option('baseline', { type: 'string', describe: 'a stored `cpymem check --json` output of an earlier run' })
      .option('max-gc-pause', { type: 'string', describe: 'longest GC pause (e.g. 50ms)' })
      .option('max-gen2-per-minute', { type: 'number', describe: 'generation-2 collections per minute of run time' })
      .option('model-must-match', { type: 'boolean', describe: "fail when a replayed bundle does not reproduce CPython's own dumps" })
      .option('junit', { type: 'string', describe: 'also write JUnit XML (one test case per gate) to this file' })
      .option('json', { type: 'boolean', describe: 'print the metrics and gates as JSON (usable as a later --baseline)' }) as unknown as Argv<CheckArgs>,
  handler: async (argv: ArgumentsCamelCase<CheckArgs>) => {
    process.exitCode = await runCheck(argv, (argv as unknown as { io: CliIo }).io);
  },
};
export default command;
