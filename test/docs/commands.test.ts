// docs/commands/*.md: every command has a page, and every example on it still prints what the page
// says (check=output) or at least ends with the documented exit status (check=exit). The examples
// run in-process through main(), exactly as `npm run docs` (docs/gen/commands.mjs) ran them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { COMMANDS_DIR, ROOT, makeWorkdir, parseExamples, resetOut, runExample } from '../../docs/gen/examples.mjs';

const pages = readdirSync(COMMANDS_DIR).filter((f) => f.endsWith('.md') && f !== 'README.md').sort();
const work = makeWorkdir();
afterAll(() => work.dispose());

/** The commands src/cli/ defines: the first word of each command module's `command`. */
async function cliCommands(): Promise<string[]> {
  const names: string[] = [];
  for (const f of readdirSync(join(ROOT, 'src', 'cli')).filter((f) => f.endsWith('.ts'))) {
    const mod = (await import(join(ROOT, 'src', 'cli', f))) as { default?: { command?: unknown } };
    if (typeof mod.default?.command === 'string') names.push(mod.default.command.split(' ')[0]!);
  }
  return names.sort();
}

describe('docs/commands', () => {
  it('has a page for every command of src/cli/, listed in its README', async () => {
    const commands = await cliCommands();
    expect(commands.length).toBeGreaterThanOrEqual(11);
    expect(pages).toEqual(commands.map((c) => `${c}.md`));
    const index = readFileSync(join(COMMANDS_DIR, 'README.md'), 'utf8');
    for (const c of commands) expect(index).toContain(`(${c}.md)`);
  });

  for (const page of pages) {
    it(`${page}: every example prints what the page shows`, { timeout: 180_000 }, async () => {
      const md = readFileSync(join(COMMANDS_DIR, page), 'utf8');
      const examples = parseExamples(md);
      // Each page shows its usage (--help) and at least one example with its exit status.
      expect(examples.length, page).toBeGreaterThanOrEqual(2);
      expect(examples.some((e) => / --help$/.test(e.command)), page).toBe(true);
      resetOut(work.dir);
      for (const ex of examples) {
        if (ex.check === 'none') continue;
        expect(['output', 'exit'], ex.command).toContain(ex.check);
        expect(ex.exit, `${ex.command}: the page gives its exit status`).toBeTypeOf('number');
        const r = await runExample(main, ex, work.dir);
        expect(r.exit, ex.command).toBe(ex.exit);
        if (ex.check === 'output') expect(r.printed, `${ex.command} (run \`npm run docs\` to regenerate)`).toBe(ex.output.replace(/\n$/, ''));
      }
    });
  }
});
