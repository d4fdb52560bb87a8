// The command examples of docs/commands/*.md: how they are found, run and written back. Shared by
// the generator (docs/gen/commands.mjs, `npm run docs`) and the test that checks the docs still
// say what the commands print (test/docs/commands.test.ts), so the two cannot disagree.
//
// An example in a page is one region:
//
//   <!-- example check=output -->
//   ```console
//   $ cpymem inspect fixtures/…/dict-churn.txt
//   …what the command printed: stdout, then stderr…
//   ```
//   Exit status: 0.
//   <!-- /example -->
//
// check=output  the test compares the printed lines and the exit status;
// check=exit    the test compares the exit status only (output still being reworked, or a page);
// check=none    not run by the test (capture: needs a CPython and a C compiler); the generator runs
//               it only while the page has no output for it yet, then keeps what it printed.
// head=N        only the first N printed lines are kept (then a line "…").
//
// Commands run in-process (main() of src/cli.ts, or of dist/cli.js for the generator) from the
// repository's root, so fixtures/… paths work. Files they write go to out/…: such arguments are
// pointed at a scratch folder (emptied before each page, so a page's examples may chain), and the
// scratch folder's path is removed again from what is printed.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const COMMANDS_DIR = join(ROOT, 'docs', 'commands');

const REGION = /<!-- example([^>]*)-->\n```console\n\$ ([^\n]*)\n([\s\S]*?)```\n(?:Exit status: (\d+)\.\n)?<!-- \/example -->/g;

/** Every example region of a page, in order. */
export function parseExamples(md) {
  const out = [];
  for (const m of md.matchAll(REGION)) {
    const attrs = Object.fromEntries([...m[1].matchAll(/(\w+)=(\S+)/g)].map((a) => [a[1], a[2]]));
    out.push({
      command: m[2],
      check: attrs.check ?? 'output',
      head: attrs.head ? Number(attrs.head) : undefined,
      output: m[3],
      exit: m[4] === undefined ? undefined : Number(m[4]),
      start: m.index,
      end: m.index + m[0].length,
      attrs: m[1],
    });
  }
  return out;
}

/** A command line as the shell would split it: single and double quotes, no expansion. */
export function splitArgs(line) {
  const args = [];
  let cur = '';
  let quote;
  let any = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      any = true;
    } else if (ch === ' ') {
      if (cur || any) args.push(cur);
      cur = '';
      any = false;
    } else cur += ch;
  }
  if (cur || any) args.push(cur);
  return args;
}

/** A scratch folder holding an empty out/. */
export function makeWorkdir() {
  const dir = mkdtempSync(join(tmpdir(), 'cpymem-docs-'));
  mkdirSync(join(dir, 'out'));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What a command printed, as the docs show it: scratch paths removed, trailing blanks cut, head=N applied. */
export function normalise(text, dir, head) {
  let lines = text.split(`${dir}/`).join('').split(dir).join('.').replace(/[ \t]+$/gm, '').replace(/\n+$/, '').split('\n');
  if (head !== undefined && lines.length > head) lines = [...lines.slice(0, head), '…'];
  return lines.join('\n');
}

/** Empty out/ again: each page starts with none of another page's files (its own examples may chain). */
export function resetOut(dir) {
  rmSync(join(dir, 'out'), { recursive: true, force: true });
  mkdirSync(join(dir, 'out'));
}

/** Run one example with a CLI `main(argv, io)`; returns what the page should show. */
export async function runExample(main, example, dir) {
  const io = { out: '', err: '', isTTY: false, cwd: ROOT, stdout: (t) => void (io.out += t), stderr: (t) => void (io.err += t) };
  const argv = splitArgs(example.command).map((a) => (a.startsWith('out/') ? join(dir, a) : a));
  if (argv[0] !== 'cpymem') throw new Error(`example does not start with cpymem: ${example.command}`);
  // yargs prints --help and its usage errors with console.log/console.error, not through io.
  const { log, error } = console;
  console.log = (...a) => io.stdout(`${a.join(' ')}\n`);
  console.error = (...a) => io.stderr(`${a.join(' ')}\n`);
  let exit;
  try {
    exit = await main(argv.slice(1), io);
  } finally {
    Object.assign(console, { log, error });
  }
  const printed = normalise(io.out + io.err, dir, example.head);
  return { exit, printed };
}

/** The region text for an example with what it printed. */
export function renderExample(example, printed, exit) {
  const body = printed === '' ? '' : `${printed}\n`;
  return `<!-- example${example.attrs}-->\n\`\`\`console\n$ ${example.command}\n${body}\`\`\`\nExit status: ${exit}.\n<!-- /example -->`;
}
