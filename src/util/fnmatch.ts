// Shell-style patterns with the semantics of Python's fnmatch.fnmatchcase() (Lib/fnmatch.py,
// 3.9+ translate()): `*` any run, `?` one character, `[seq]` / `[!seq]` sets with ranges; an
// unclosed `[` is literal; reversed ranges (`[z-a]`) match nothing; the whole name must match.
// Characters are code points (a JavaScript regex with the `u` flag), as in Python's str.
// POSIX: os.path.normcase() is the identity, so matching is case-sensitive, as tracemalloc's
// Filter is on Linux and macOS.

const cache = new Map<string, RegExp>();

/** Escape one code point for use outside a character class. */
function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/** Escape one code point inside a character class. */
function escapeClassChar(c: string): string {
  return /[\\\]^[-]/.test(c) ? `\\${c}` : c;
}

/** The pattern as an anchored JavaScript regex (cached). */
export function fnmatchRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re) return re;
  const pat = Array.from(pattern); // code points
  const n = pat.length;
  let out = '';
  let i = 0;
  let lastStar = false;
  while (i < n) {
    const c = pat[i++]!;
    if (c === '*') {
      if (!lastStar) out += '.*';
      lastStar = true;
      continue;
    }
    lastStar = false;
    if (c === '?') {
      out += '.';
    } else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') j++;
      if (j < n && pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) {
        out += '\\[';
        continue;
      }
      out += charClass(pat.slice(i, j));
      i = j + 1;
    } else {
      out += escapeChar(c);
    }
  }
  re = new RegExp(`^(?:${out})$`, 'su');
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** `[...]` contents → a regex class; ranges split on '-' as fnmatch.translate() does. */
function charClass(body: string[]): string {
  const negate = body[0] === '!';
  const items = negate ? body.slice(1) : body;
  // Split into chunks at each '-' that can make a range (not the first character); after a split
  // the next '-' may come no sooner than two characters later ("a-c-e" is a-c then literal -e…).
  const chunks: string[][] = [];
  let start = 0;
  let k = 1;
  for (;;) {
    let found = -1;
    for (let p = k; p < items.length; p++) {
      if (items[p] === '-') {
        found = p;
        break;
      }
    }
    if (found < 0) break;
    chunks.push(items.slice(start, found));
    start = found + 1;
    k = found + 3;
  }
  const last = items.slice(start);
  if (last.length) chunks.push(last);
  else if (chunks.length) chunks[chunks.length - 1]!.push('-');
  else chunks.push([]);
  // Remove empty (reversed) ranges, as Python 3.9+ does.
  for (let c = chunks.length - 1; c > 0; c--) {
    const a = chunks[c - 1]!;
    const b = chunks[c]!;
    if (a.length && b.length && a[a.length - 1]!.codePointAt(0)! > b[0]!.codePointAt(0)!) {
      chunks[c - 1] = [...a.slice(0, -1), ...b.slice(1)];
      chunks.splice(c, 1);
    }
  }
  const inner = chunks.map((ch) => ch.map(escapeClassChar).join('')).join('-');
  if (!inner) return negate ? '.' : '(?!)';
  return negate ? `[^${inner}]` : `[${inner}]`;
}

/** fnmatch.fnmatchcase(name, pattern). */
export function fnmatch(name: string, pattern: string): boolean {
  return fnmatchRegExp(pattern).test(name);
}
