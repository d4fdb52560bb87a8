/** "256KiB", "1MiB", "16384", "4 KiB" → bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*(B|KiB|K|KB|MiB|M|MB|GiB|G|GB)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? 'B').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}
