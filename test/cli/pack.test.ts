// The packed tarball is what users install: `npx cpymem` must work from an empty directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, mallocStatsFixtures } from '../helpers/fixtures.js';

describe('npm pack', () => {
  it('installs into an empty directory and runs there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpymem-pack-'));
    const env = { ...process.env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false' };
    execFileSync('npm', ['pack', '--pack-destination', dir], { cwd: ROOT, env, stdio: 'pipe' });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), '{"name":"app","version":"1.0.0","private":true}');
    execFileSync('npm', ['install', '--no-save', join(dir, tgz)], { cwd: app, env, stdio: 'pipe' });
    const help = execFileSync('npx', ['--no-install', 'cpymem', '--help'], { cwd: app, env, encoding: 'utf8' });
    expect(help).toContain('cpymem inspect <file>');
    const version = execFileSync('npx', ['--no-install', 'cpymem', '--version'], { cwd: app, env, encoding: 'utf8' });
    expect(version.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const completion = execFileSync('npx', ['--no-install', 'cpymem', 'completion'], { cwd: app, env, encoding: 'utf8' });
    expect(completion).toContain('_cpymem_yargs_completions');
    const words = execFileSync('npx', ['--no-install', 'cpymem', '--get-yargs-completions', 'cpymem', 're'], { cwd: app, env, encoding: 'utf8' });
    expect(words.split('\n')).toEqual(expect.arrayContaining(['replay', 'report']));
    const f = mallocStatsFixtures().find((x) => x.name.endsWith('3.13.0-linux-x86_64/mimalloc-dump.txt'))!;
    const out = execFileSync('npx', ['--no-install', 'cpymem', 'inspect', f.txt, '--json'], { cwd: app, env, encoding: 'utf8' });
    expect(JSON.parse(out).dumps[0].mimalloc.bytesCommitted).toBe(Object.fromEntries(f.truth.dumps[0]!.printed.mimalloc!)['Bytes Committed']);
  }, 180_000);
});
