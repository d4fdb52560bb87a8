// Number formatting for the page and its charts. Fixed to en-US so output does not depend on the
// machine's locale (reports are diffed byte for byte).

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 → "1,234,567"; null → "–". */
export function formatInt(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : INT.format(n);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Bytes humanised with binary prefixes: 1048576 → "1 MiB", 1572864 → "1.5 MiB", 900 → "900 B". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  const text = Number(v.toFixed(digits)).toString();
  return `${n < 0 ? '−' : ''}${text} ${UNITS[u]}`;
}

/** Exact and humanised: "1,572,864 bytes (1.5 MiB)"; small values stay exact only. */
export function formatBytesExact(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  const exact = `${INT.format(n)} bytes`;
  return Math.abs(n) < 1024 ? exact : `${exact} (${formatBytes(n)})`;
}

/** 0.1234 → "12.3%". */
export function formatPercent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(digits)}%`;
}
