// Hash tables keyed by addresses, or by block numbers of the address space (floor(address / size)
// for a power of two size): what the model uses to find the pool or the arena a pointer falls in,
// once per free and realloc, and what a replay uses to translate recorded pointers. Not a JS Map:
// keys above 2^31 are heap numbers to V8, and a Map keeps deleted entries in its buckets until it
// is rehashed, so the add/delete churn of pointers that pymalloc hands out again and again gets
// slower and slower. Open addressing over a Float64Array with linear probing finds a key in one
// probe or two; deletion shifts later members of the probe run back (no tombstones).

const EMPTY = -1;
const INITIAL = 64;

/** Fibonacci hashing of an integer key below 2^53, to `bits` bits. */
function hash(k: number, bits: number): number {
  const hi = (k * 2 ** -32) | 0;
  return Math.imul((k | 0) ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> (32 - bits);
}

/**
 * The keys of an open-addressing table: probing, growth and deletion, for the two tables below,
 * which differ only in where they keep values (boxed in an array, or unboxed in a Float64Array).
 */
abstract class KeyIndex {
  protected keys = new Float64Array(INITIAL).fill(EMPTY);
  protected bits = Math.log2(INITIAL);
  protected mask = INITIAL - 1;
  size = 0;

  /** The slot holding k, or -1. */
  protected slotOf(k: number): number {
    const keys = this.keys;
    let i = hash(k, this.bits);
    while (keys[i] !== k) {
      if (keys[i] === EMPTY) return -1;
      i = (i + 1) & this.mask;
    }
    return i;
  }

  /** The slot holding k, claimed for it if it was not there. */
  protected claim(k: number): number {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    let i = hash(k, this.bits);
    while (this.keys[i] !== k && this.keys[i] !== EMPTY) i = (i + 1) & this.mask;
    if (this.keys[i] === EMPTY) {
      this.keys[i] = k;
      this.size++;
    }
    return i;
  }

  has(k: number): boolean {
    return this.slotOf(k) >= 0;
  }

  /** Remove k; false if it was not there. */
  delete(k: number): boolean {
    const { keys, mask } = this;
    let hole = this.slotOf(k);
    if (hole < 0) return false;
    // Move each later member of the run into the hole when the hole lies between its home and it.
    for (let j = (hole + 1) & mask; keys[j] !== EMPTY; j = (j + 1) & mask) {
      if (((j - hash(keys[j]!, this.bits)) & mask) >= ((j - hole) & mask)) {
        keys[hole] = keys[j]!;
        this.moveValue(j, hole);
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    this.moveValue(-1, hole);
    this.size--;
    return true;
  }

  /** Slot `from`'s value to slot `to` (from -1: clear `to`). */
  protected abstract moveValue(from: number, to: number): void;
  /** New value storage of `length` slots; returns the old one. */
  protected abstract swapValues(length: number): unknown;
  /** Refile the value of old slot `i` (in `old`) under key k. */
  protected abstract refile(old: unknown, i: number, k: number): void;

  private grow(): void {
    const keys = this.keys;
    const old = this.swapValues(keys.length * 2);
    this.keys = new Float64Array(keys.length * 2).fill(EMPTY);
    this.bits++;
    this.mask = keys.length * 2 - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) this.refile(old, i, keys[i]!);
  }
}

/** Block number (or address) → V. */
export class AddressTable<V> extends KeyIndex {
  private values: (V | undefined)[] = new Array<V | undefined>(INITIAL).fill(undefined);

  /** The value filed under k (an integer ≥ 0). */
  get(k: number): V | undefined {
    const i = this.slotOf(k);
    return i < 0 ? undefined : this.values[i];
  }

  set(k: number, v: V): void {
    const i = this.claim(k); // first: claiming can grow the table and replace `values`
    this.values[i] = v;
  }

  protected moveValue(from: number, to: number): void {
    this.values[to] = from < 0 ? undefined : this.values[from];
  }

  protected swapValues(length: number): unknown {
    const old = this.values;
    this.values = new Array<V | undefined>(length).fill(undefined);
    return old;
  }

  protected refile(old: unknown, i: number, k: number): void {
    this.set(k, (old as V[])[i]!);
  }
}

/** Address → address (both integers ≥ 0), values unboxed in a Float64Array. */
export class PointerMap extends KeyIndex {
  private values = new Float64Array(INITIAL);

  /** The value filed under k, or `otherwise`. */
  get(k: number, otherwise: number): number {
    const i = this.slotOf(k);
    return i < 0 ? otherwise : this.values[i]!;
  }

  set(k: number, v: number): void {
    const i = this.claim(k); // first: claiming can grow the table and replace `values`
    this.values[i] = v;
  }

  protected moveValue(from: number, to: number): void {
    if (from >= 0) this.values[to] = this.values[from]!;
  }

  protected swapValues(length: number): unknown {
    const old = this.values;
    this.values = new Float64Array(length);
    return old;
  }

  protected refile(old: unknown, i: number, k: number): void {
    this.set(k, (old as Float64Array)[i]!);
  }
}

/** A set of addresses: what a Set<number> of live pointers should be. */
export class PointerSet extends KeyIndex {
  add(p: number): this {
    this.claim(p);
    return this;
  }

  protected moveValue(): void {}

  protected swapValues(): unknown {
    return undefined;
  }

  protected refile(_old: unknown, _i: number, k: number): void {
    this.claim(k);
  }
}
