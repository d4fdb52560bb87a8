// CPython's own layouts of a malloc-stats dump, read by position (Objects/obmalloc.c
// `_PyObject_DebugMallocStats` / `pymalloc_print_stats`, `printone`, `_PyDebugAllocatorStats`):
//   class row   "%5u %6u %11zu %15zu %13zu"                               54 characters
//   printone    label, padded to 35 when shorter; "="; value in 21 columns  57 characters
//   free list   "%d free %ss * %zd bytes each" right-justified in 48, " ", then printone
//
// These are MallocStatsReader's fast paths. On the lines CPython prints they read the digits
// where the format puts them and compare the rest (labels, padding) eight bytes at a time, instead
// of looking at every character: at one character per step, a reader of this format cannot be
// much faster than splitting the text into lines. Every reader still checks every byte of its
// line, and accepts only what the generic reader would read to the same values; anything else
// (other spacing, tabs, CR, wider numbers, paste prefixes, separators out of place) gets
// `undefined` or -1, and the generic reader takes the line.

import type { FreeList, SizeClassRow } from '../model/types.js';

const LF = 10;
const SPACE = 32;
const COMMA = 44;
const EQUALS = 61;
const ZERO = 48;
const NINE = 57;

/** Characters copied per window: the copy is cheap (a memcpy), and 64 KiB stays in the CPU cache. */
const WINDOW = 65536;
/** The longest line a fast path reads, with its "\n" (a free-list line with a long name). */
const LONGEST_LAYOUT_LINE = 128;
const NOT_ASCII = /[^\x00-\x7f]/;

/**
 * text[base, base + length) as bytes, for the fast paths: a copy of the chunk's characters, as
 * far as they are ASCII (all CPython prints here). A window ends before the first other character;
 * the lines from there on are left to the generic reader until the window can start past it.
 */
export class ByteWindow {
  readonly bytes = new Uint8Array(WINDOW);
  /** The same bytes, read eight or four at a time. */
  readonly view = new DataView(this.bytes.buffer);
  base = 0;
  length = 0;
  private readonly encoder = new TextEncoder();
  /** Where the last copy met a character that is not ASCII (-1: none met). */
  private notAscii = -1;

  /** Who filled the window last: a window is shared, and refilled when another reader used it since. */
  private owner: object | undefined;

  /**
   * Make the window hold LONGEST_LAYOUT_LINE characters of text from `start`, or what text has of
   * them, for `owner` (the reader reading text).
   */
  cover(text: string, start: number, owner: object): void {
    const end = this.base + this.length;
    if (owner === this.owner && start >= this.base && (start + LONGEST_LAYOUT_LINE <= end || end === text.length)) return;
    this.owner = owner;
    let to = Math.min(text.length, start + WINDOW);
    // Copy no further than a character already known not to be ASCII: lines near it are read
    // by the generic reader, each without copying the next 64 KiB again.
    if (this.notAscii >= start && this.notAscii < to) to = this.notAscii;
    const slice = text.slice(start, to);
    const { read, written } = this.encoder.encodeInto(slice, this.bytes);
    this.base = start;
    if (read === slice.length && written === read) {
      this.length = written;
    } else {
      // UTF-8 of what precedes the first character that is not ASCII is that text's ASCII.
      const k = slice.search(NOT_ASCII);
      this.length = k;
      this.notAscii = start + k;
    }
  }

  /** Forget the text (a new chunk): its positions mean something else now. */
  reset(): void {
    this.owner = undefined;
    this.base = 0;
    this.length = 0;
    this.notAscii = -1;
  }
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/** Eight bytes as one double, for a comparison of all eight at once. */
function block(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getFloat64(at, true);
}

/**
 * A constant text, compared with a window eight bytes at a time: as doubles, which are equal
 * exactly when their bytes are (printable ASCII is never a NaN or a zero).
 */
export class Word {
  readonly length: number;
  /** The bytes, when fewer than eight; else the 8-byte blocks at 0, 8, 16 … and the last eight. */
  private readonly bytes: Uint8Array;
  private readonly blocks: Float64Array;

  constructor(readonly text: string) {
    this.bytes = Uint8Array.from(text, (ch) => ch.charCodeAt(0));
    this.length = text.length;
    const blocks: number[] = [];
    if (this.length >= 8) {
      for (let k = 0; k + 8 < this.length; k += 8) blocks.push(block(this.bytes, k));
      blocks.push(block(this.bytes, this.length - 8));
    }
    this.blocks = Float64Array.from(blocks);
  }

  /** Does the window hold this text at p? */
  at(w: ByteWindow, p: number): boolean {
    if (p < 0 || p + this.length > w.length) return false;
    if (this.length < 8) {
      for (let k = 0; k < this.length; k++) if (w.bytes[p + k] !== this.bytes[k]) return false;
      return true;
    }
    const last = this.blocks.length - 1;
    for (let k = 0; k < last; k++) if (w.view.getFloat64(p + 8 * k, true) !== this.blocks[k]) return false;
    return w.view.getFloat64(p + this.length - 8, true) === this.blocks[last];
  }
}

const SPACES_8 = block(new Uint8Array(8).fill(SPACE), 0);
const SPACES_4 = 0x20202020;

/** Are bytes [from, to) of the window spaces? Eight at a time; the last block overlaps the one before. */
function spaces(w: ByteWindow, from: number, to: number): boolean {
  const n = to - from;
  if (n >= 8) {
    for (let i = from; i + 8 < to; i += 8) if (w.view.getFloat64(i, true) !== SPACES_8) return false;
    return w.view.getFloat64(to - 8, true) === SPACES_8;
  }
  if (n >= 4) return w.view.getInt32(from, true) === SPACES_4 && w.view.getInt32(to - 4, true) === SPACES_4;
  for (let i = from; i < to; i++) if (w.bytes[i] !== SPACE) return false;
  return true;
}

/** A class row and its "\n". */
export const ROW_LENGTH = 55;
/** Where each field of "%5u %6u %11zu %15zu %13zu" ends; one space follows each but the last. */
const ROW_FIELD_ENDS = Int32Array.of(5, 12, 24, 40, 54);
/** The five numbers of the row being read. */
const rowFields = new Float64Array(5);

/**
 * A class row at p, as CPython prints it; undefined otherwise. Each field: spaces, then 1 to 15
 * digits (so that the value is exact however it is summed). The generic reader splits a row at
 * whitespace: five right-aligned fields with a space between are the same five numbers. One loop
 * over the fields, not a call per field: this is the commonest line, and V8 does not always
 * inline small helpers into a reader this size.
 */
export function readClassRow(w: ByteWindow, p: number): SizeClassRow | undefined {
  const b = w.bytes;
  if (p + 54 >= w.length || b[p + 54] !== LF) return undefined;
  let from = p;
  for (let f = 0; f < 5; f++) {
    const to = p + ROW_FIELD_ENDS[f]!;
    if (f < 4 && b[to] !== SPACE) return undefined;
    let i = to - 1;
    let value = 0;
    let scale = 1;
    for (; i >= from && isDigit(b[i]!); i--) {
      value += (b[i]! - ZERO) * scale;
      scale *= 10;
    }
    if (i === to - 1 || to - 1 - i > 15 || !spaces(w, from, i + 1)) return undefined;
    rowFields[f] = value;
    from = to + 1;
  }
  return { index: rowFields[0]!, size: rowFields[1]!, pools: rowFields[2]!, blocksInUse: rowFields[3]!, availBlocks: rowFields[4]! };
}

/**
 * printone()'s value right-aligned in bytes [from, to): spaces, then 1 to 15 digits with "," every
 * three, as printone groups them; -1 otherwise.
 */
function groupedRightAligned(w: ByteWindow, from: number, to: number): number {
  const b = w.bytes;
  let i = to - 1;
  let value = 0;
  let scale = 1;
  let digits = 0;
  let groupDigits = 0;
  let commas = 0;
  for (; i >= from; i--) {
    const ch = b[i]!;
    if (isDigit(ch)) {
      value += (ch - ZERO) * scale;
      scale *= 10;
      digits++;
      groupDigits++;
    } else if (ch === COMMA && groupDigits === 3) {
      groupDigits = 0;
      commas++;
    } else break;
  }
  if (digits === 0 || digits > 15 || (commas > 0 && (groupDigits === 0 || groupDigits > 3))) return -1;
  return spaces(w, from, i + 1) ? value : -1;
}

/** printone(): labels shorter than this are padded to it; then "=" and the value in 21 columns. */
const LABEL_WIDTH = 35;
const VALUE_WIDTH = 21;
/** A printone line whose label is at most 35 characters, and its "\n". */
export const PRINTONE_LENGTH = LABEL_WIDTH + 1 + VALUE_WIDTH + 1;

/** The value of a printone line at p whose "=" is at p + 35 (its label has ≤ 35 characters); else -1. */
export function readPrintoneValue(w: ByteWindow, p: number): number {
  const b = w.bytes;
  const lf = p + PRINTONE_LENGTH - 1;
  if (lf >= w.length || b[lf] !== LF || b[p + LABEL_WIDTH] !== EQUALS) return -1;
  return groupedRightAligned(w, p + LABEL_WIDTH + 1, lf);
}

/**
 * The printone labels of the pymalloc section with a fixed text, in the order CPython prints them
 * ("Total" ends both the arena summary and the arena-map block).
 */
export const PRINTONE_LABELS = [
  '# arenas allocated total',
  '# arenas reclaimed',
  '# arenas highwater mark',
  '# arenas allocated current',
  '# bytes in allocated blocks',
  '# bytes in available blocks',
  '# bytes lost to pool headers',
  '# bytes lost to quantization',
  '# bytes lost to arena alignment',
  'Total',
  '# arena map mid nodes',
  '# arena map bot nodes',
  '# bytes lost to arena map root',
  '# bytes lost to arena map mid',
  '# bytes lost to arena map bot',
  'Total',
];
/** Each label padded as printone pads it, with its "=": one comparison checks label and padding. */
const PADDED_LABELS = PRINTONE_LABELS.map((l) => new Word(`${l.padEnd(LABEL_WIDTH)}=`));

/**
 * Which of PRINTONE_LABELS the printone line at p has; -1 if none. `guess` (the label after the
 * previous one) is tried first: a dump prints them in order.
 */
export function printoneLabel(w: ByteWindow, p: number, guess: number): number {
  if (guess < PADDED_LABELS.length && PADDED_LABELS[guess]!.at(w, p)) return guess;
  for (let k = 0; k < PADDED_LABELS.length; k++) if (PADDED_LABELS[k]!.at(w, p)) return k;
  return -1;
}

/** Where the digits from `from` end (before `to`): `from` itself when there are none. */
function digitsEnd(b: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to && isDigit(b[i]!)) i++;
  return i;
}

/** The value of the digits [from, to), summed from the left as the generic reader sums them. */
function digitsValue(b: Uint8Array, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + (b[i]! - ZERO);
  return value;
}

/** The numbers in "N arenas * S bytes/arena" or "N unused pools * S bytes". */
export interface GeometryLabel {
  count: number;
  bytes: number;
  /** Where the label ends (the padding starts). */
  labelEnd: number;
}

/**
 * The label of a printone line whose value readPrintoneValue() read, when it is "%zu<what>%d<unit>"
 * with the counts as plain digits, padded with spaces; undefined otherwise.
 */
function readGeometryLabel(w: ByteWindow, p: number, what: Word, unit: Word): GeometryLabel | undefined {
  const b = w.bytes;
  const eq = p + LABEL_WIDTH;
  const countEnd = digitsEnd(b, p, eq);
  if (countEnd === p || !what.at(w, countEnd)) return undefined;
  const bytesFrom = countEnd + what.length;
  const bytesEnd = digitsEnd(b, bytesFrom, eq);
  const labelEnd = bytesEnd + unit.length;
  if (bytesEnd === bytesFrom || labelEnd > eq || !unit.at(w, bytesEnd) || !spaces(w, labelEnd, eq)) return undefined;
  return { count: digitsValue(b, p, countEnd), bytes: digitsValue(b, bytesFrom, bytesEnd), labelEnd };
}

const ARENAS_TIMES = new Word(' arenas * ');
const BYTES_PER_ARENA = new Word(' bytes/arena');
const UNUSED_POOLS_TIMES = new Word(' unused pools * ');
const BYTES = new Word(' bytes');

/** "N arenas * ARENA_SIZE bytes/arena", a printone label at p. */
export function readArenasLabel(w: ByteWindow, p: number): GeometryLabel | undefined {
  return readGeometryLabel(w, p, ARENAS_TIMES, BYTES_PER_ARENA);
}

/** "N unused pools * POOL_SIZE bytes", a printone label at p. */
export function readUnusedPoolsLabel(w: ByteWindow, p: number): GeometryLabel | undefined {
  return readGeometryLabel(w, p, UNUSED_POOLS_TIMES, BYTES);
}

/** "Small block threshold = %d, in %d size classes.", the first line of a pymalloc dump. */
const THRESHOLD_IS = new Word('Small block threshold = ');
const COMMA_IN = new Word(', in ');
const SIZE_CLASSES = new Word(' size classes.\n');

/** The header line of a pymalloc dump at p, in plain digits, and its length; undefined otherwise. */
export function readHeader(w: ByteWindow, p: number): { threshold: number; classes: number; length: number } | undefined {
  if (!THRESHOLD_IS.at(w, p)) return undefined;
  const b = w.bytes;
  const end = Math.min(w.length, p + LONGEST_LAYOUT_LINE);
  const thresholdFrom = p + THRESHOLD_IS.length;
  const thresholdEnd = digitsEnd(b, thresholdFrom, end);
  if (thresholdEnd === thresholdFrom || !COMMA_IN.at(w, thresholdEnd)) return undefined;
  const classesFrom = thresholdEnd + COMMA_IN.length;
  const classesEnd = digitsEnd(b, classesFrom, end);
  if (classesEnd === classesFrom || !SIZE_CLASSES.at(w, classesEnd)) return undefined;
  return {
    threshold: digitsValue(b, thresholdFrom, thresholdEnd),
    classes: digitsValue(b, classesFrom, classesEnd),
    length: classesEnd + SIZE_CLASSES.length - p,
  };
}

interface KnownName {
  name: string;
  word: Word;
  /** The name of the free-list line that followed this one last time. */
  next?: KnownName;
}

/** A name the fast path may match: "free " and printable ASCII without "*" (so no "s * " in it). */
const SHAREABLE_NAME = /^free [\x20-\x29\x2b-\x7e]+$/;

/**
 * Free-list names, one flat string each, shared by every dump that names them (which also keeps a
 * dump from holding on to the text it was read from). Learnt from the lines the generic reader
 * reads: the fast path reads free-list lines with names it knows. Every dump of a stream names the
 * same free lists in the same order, so the name after the previous line's is tried first.
 */
export class FreeListNames {
  private readonly known = new Map<string, KnownName>();
  private previous: KnownName | undefined;

  /** The shared string for a name the generic reader read. */
  share(name: string): string {
    const k = this.known.get(name);
    if (k) return k.name;
    // A stream has a few dozen names; the bound keeps a hostile input from making a slow list.
    if (this.known.size >= 256 || !SHAREABLE_NAME.test(name)) return name;
    const flat = Array.from(name).join('');
    this.known.set(flat, { name: flat, word: new Word(flat) });
    return flat;
  }

  /** The known name that ends at `end` (exclusive) in the window, not before `from`. */
  endingAt(w: ByteWindow, from: number, end: number): KnownName | undefined {
    let found = this.previous?.next;
    if (!found || end - found.word.length < from || !found.word.at(w, end - found.word.length)) {
      found = undefined;
      for (const k of this.known.values()) {
        if (end - k.word.length >= from && k.word.at(w, end - k.word.length)) {
          found = k;
          break;
        }
      }
      if (!found) return undefined;
    }
    if (this.previous) this.previous.next = found;
    this.previous = found;
    return found;
  }
}

const FREE_LIST_LABEL_WIDTH = 48;
/** A free-list line with a label of at most 48 characters, and its "\n". */
const FREE_LIST_LENGTH = FREE_LIST_LABEL_WIDTH + 2 + VALUE_WIDTH + 1;
const BYTES_EACH = new Word(' bytes each');
const PLURAL_TIMES = new Word('s * ');

/**
 * A free-list line at p, as CPython prints it, with its length; undefined otherwise. Read from the
 * right: the value before the "\n", " = ", " bytes each", S, "s * ", a known NAME, " ", N, spaces.
 * The generic reader takes NAME up to the first "s * " after "free "; a known name has none in it.
 */
export function readFreeListLine(w: ByteWindow, p: number, names: FreeListNames): { freeList: FreeList; length: number } | undefined {
  const b = w.bytes;
  // Labels longer than 48 characters ("2000 free 20-sized PyTupleObjects * 184 bytes each") move
  // the "=" and the value right.
  let lf = p + FREE_LIST_LENGTH - 1;
  while (lf < w.length && b[lf] !== LF && lf < p + FREE_LIST_LENGTH + 2) lf++;
  if (lf >= w.length || b[lf] !== LF) return undefined;
  const eq = lf - VALUE_WIDTH - 1;
  if (b[eq] !== EQUALS || b[eq - 1] !== SPACE) return undefined;
  const totalBytes = groupedRightAligned(w, eq + 1, lf);
  const eachAt = eq - 1 - BYTES_EACH.length;
  if (totalBytes < 0 || !BYTES_EACH.at(w, eachAt)) return undefined;
  let sizeFrom = eachAt;
  while (sizeFrom > p && isDigit(b[sizeFrom - 1]!)) sizeFrom--;
  if (sizeFrom === eachAt || !PLURAL_TIMES.at(w, sizeFrom - PLURAL_TIMES.length)) return undefined;
  const nameEnd = sizeFrom - PLURAL_TIMES.length;
  const name = names.endingAt(w, p + 2, nameEnd);
  if (!name) return undefined;
  const countEnd = nameEnd - name.word.length - 1;
  if (b[countEnd] !== SPACE) return undefined;
  let countFrom = countEnd;
  while (countFrom > p && isDigit(b[countFrom - 1]!)) countFrom--;
  if (countFrom === countEnd || !spaces(w, p, countFrom)) return undefined;
  const freeList = { type: name.name, count: digitsValue(b, countFrom, countEnd), bytesEach: digitsValue(b, sizeFrom, eachAt), totalBytes };
  return { freeList, length: lf + 1 - p };
}
