// Source lines for Traceback.format(), found the way Python's linecache.getline() finds them
// (Lib/linecache.py, Lib/tokenize.py): a name in <angle brackets> has none; otherwise the file is
// read (relative names against the working directory) in the encoding of its PEP 263 cookie or
// BOM (UTF-8 by default), split with universal newlines; a file that cannot be read or decoded
// has no lines. Differences, by design: Python also searches sys.path for a relative name (cpymem
// has no sys.path), and cpymem can map a path prefix (`--source-map FROM=TO`) to read the sources
// of a snapshot taken on another machine, or read none at all (`--no-source`).

import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export interface LineCacheOptions {
  /** Read no file: every frame prints without a source line (as if no source were installed). */
  disabled?: boolean;
  /** Relative file names are looked up here. */
  cwd?: string;
  /** Path prefix replacements, tried in order: a frame under `from` is read from under `to`. */
  map?: readonly { from: string; to: string }[];
}

// str.strip() with no argument removes what Py_UNICODE_ISSPACE calls whitespace; this differs from
// JavaScript's trim() (which keeps U+001C–U+001F and U+0085 and removes U+FEFF).
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/** Python's str.strip(). */
export function pyStrip(s: string): string {
  return s.replace(STRIP, '');
}

const COOKIE = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/;
const BLANK = /^[ \t\f]*(?:[#\r\n]|$)/;

/** tokenize's encoding name normalisation, for the names TextDecoder knows. */
function normaliseEncoding(name: string): string {
  const enc = name.slice(0, 12).toLowerCase().replace(/_/g, '-');
  if (enc === 'utf-8' || enc.startsWith('utf-8-')) return 'utf-8';
  if (['latin-1', 'iso-8859-1', 'iso-latin-1'].includes(enc) || /^(latin-1|iso-8859-1|iso-latin-1)-/.test(enc)) return 'iso-8859-1';
  return name;
}

/** tokenize.detect_encoding(): the BOM, or a cookie on line 1 or (after a blank/comment line 1) line 2. */
function detectEncoding(buf: Buffer): { encoding: string; skip: number } | null {
  let skip = 0;
  let bom = false;
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    bom = true;
    skip = 3;
  }
  const lines: string[] = [];
  let pos = skip;
  for (let n = 0; n < 2 && pos < buf.length; n++) {
    let nl = buf.indexOf(0x0a, pos);
    if (nl < 0) nl = buf.length;
    lines.push(buf.toString('latin1', pos, nl + 1));
    pos = nl + 1;
  }
  for (let n = 0; n < lines.length; n++) {
    const m = COOKIE.exec(lines[n]!);
    if (m) {
      const enc = normaliseEncoding(m[1]!);
      if (bom && enc !== 'utf-8') return null; // "encoding problem: utf-8" (SyntaxError)
      return { encoding: enc, skip };
    }
    if (!BLANK.test(lines[n]!)) break;
  }
  return { encoding: 'utf-8', skip };
}

export class LineCache {
  private readonly cache = new Map<string, string[]>();
  constructor(private readonly opts: LineCacheOptions = {}) {}

  /** The path a frame's file name is read from, or null when it has no source by rule. */
  pathOf(filename: string): string | null {
    if (!filename || (filename.startsWith('<') && filename.endsWith('>'))) return null;
    let name = filename;
    for (const m of this.opts.map ?? []) {
      if (name.startsWith(m.from)) {
        name = m.to + name.slice(m.from.length);
        break;
      }
    }
    return isAbsolute(name) ? name : resolve(this.opts.cwd ?? process.cwd(), name);
  }

  /** All lines of a file, without their line ends; [] when it has none. */
  getlines(filename: string): string[] {
    let lines = this.cache.get(filename);
    if (lines) return lines;
    lines = this.opts.disabled ? [] : this.read(filename);
    this.cache.set(filename, lines);
    return lines;
  }

  /** linecache.getline(filename, lineno): the line, or '' (lines are 1-based). */
  getline(filename: string, lineno: number): string {
    const lines = this.getlines(filename);
    return lineno >= 1 && lineno <= lines.length ? lines[lineno - 1]! : '';
  }

  private read(filename: string): string[] {
    const path = this.pathOf(filename);
    if (path === null) return [];
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch {
      return [];
    }
    const enc = detectEncoding(buf);
    if (!enc) return [];
    let text: string;
    try {
      text = new TextDecoder(enc.encoding, { fatal: true, ignoreBOM: true }).decode(buf.subarray(enc.skip));
    } catch {
      return []; // unknown encoding (LookupError → SyntaxError) or undecodable (UnicodeDecodeError)
    }
    const lines = text.split(/\r\n|\r|\n/);
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    return lines;
  }
}
