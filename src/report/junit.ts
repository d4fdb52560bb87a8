// JUnit XML for `cpymem check --junit`: one test case per gate, the form CI systems (GitHub Actions
// reporters, GitLab, Jenkins) show as a test list. Written by hand: the format is a dozen lines and
// every XML package would be a dependency for that.

import type { GateResult } from '../analysis/gates.js';

function xml(text: string): string {
  // Characters XML 1.0 forbids are dropped; the five specials escaped.
  return text.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD]/g, '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function junitXml(results: readonly GateResult[], suite = 'cpymem check'): string {
  const failures = results.filter((r) => !r.pass).length;
  const cases = results.map((r) => {
    const name = `${r.gate}: ${r.subject}`;
    const open = `  <testcase classname="cpymem.check" name="${xml(name)}">`;
    if (r.pass) return `${open}<system-out>${xml(r.message)}</system-out></testcase>`;
    return `${open}\n    <failure message="${xml(r.message)}" type="${xml(r.gate)}">${xml(r.message)}</failure>\n  </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(suite)}" tests="${results.length}" failures="${failures}">`,
    `<testsuite name="${xml(suite)}" tests="${results.length}" failures="${failures}" errors="0" skipped="0">`,
    ...cases,
    '</testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
