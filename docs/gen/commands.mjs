#!/usr/bin/env node
// Regenerate the examples of docs/commands/*.md from what the commands print now (`npm run docs`,
// which builds dist/ first). Only the example regions are rewritten (docs/gen/examples.mjs); the
// prose around them is the page's own. Usage: node docs/gen/commands.mjs [page.md …]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { COMMANDS_DIR, ROOT, makeWorkdir, parseExamples, renderExample, resetOut, runExample } from './examples.mjs';

// CPYMEM_DIST: another build of src/ to run (default dist/).
const dist = process.env.CPYMEM_DIST ?? join(ROOT, 'dist');
const { main } = await import(pathToFileURL(join(dist, 'cli.js')).href);

// Fixture paths in the examples are relative to the repository's root.
process.chdir(ROOT);
const wanted = process.argv.slice(2).map((p) => basename(p));
const pages = readdirSync(COMMANDS_DIR).filter((f) => f.endsWith('.md') && f !== 'README.md' && (wanted.length === 0 || wanted.includes(f)));
const work = makeWorkdir();
try {
  for (const page of pages.sort()) {
    const file = join(COMMANDS_DIR, page);
    const md = readFileSync(file, 'utf8');
    let out = '';
    let at = 0;
    resetOut(work.dir);
    for (const ex of parseExamples(md)) {
      // check=none examples need more than this machine may have (capture: a CPython, a C compiler):
      // what they printed when last run is kept.
      if (ex.check === 'none' && ex.exit !== undefined) continue;
      const { exit, printed } = await runExample(main, ex, work.dir);
      out += md.slice(at, ex.start) + renderExample(ex, printed, exit);
      at = ex.end;
      process.stderr.write(`${page}: ${ex.command} → exit ${exit}\n`);
    }
    out += md.slice(at);
    if (out !== md) writeFileSync(file, out);
  }
} finally {
  work.dispose();
}
