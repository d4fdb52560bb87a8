// JSON with sorted keys, so report data diffs cleanly and two runs give the same bytes.

/** JSON.stringify with object keys sorted at every depth; undefined members are dropped as usual. */
export function stableStringify(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` become \u escapes (still the
 * same JSON), so no `</script>` or `<!--` in a file name can end the block early.
 */
export function scriptSafeJson(value: unknown): string {
  return stableStringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
