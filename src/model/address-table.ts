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

/** Block number (or address) → V. */
export class AddressTable<V> {
  private keys = new Float64Array(INITIAL).fill(EMPTY);
  private values: (V | undefined)[] = new Array<V | undefined>(INITIAL).fill(undefined);
  private bits = Math.log2(INITIAL);
  private mask = INITIAL - 1;
  size = 0;

  /** The value filed under k (an integer ≥ 0). */
  get(k: number): V | undefined {
    const keys = this.keys;
    let i = hash(k, this.bits);
    while (keys[i] !== k) {
      if (keys[i] === EMPTY) return undefined;
      i = (i + 1) & this.mask;
    }
    return this.values[i];
  }

  set(k: number, v: V): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    let i = hash(k, this.bits);
    while (this.keys[i] !== k && this.keys[i] !== EMPTY) i = (i + 1) & this.mask;
    if (this.keys[i] === EMPTY) {
      this.keys[i] = k;
      this.size++;
    }
    this.values[i] = v;
  }

  delete(k: number): void {
    const { keys, values, mask } = this;
    let hole = hash(k, this.bits);
    while (keys[hole] !== k) {
      if (keys[hole] === EMPTY) return;
      hole = (hole + 1) & mask;
    }
    // Move each later member of the run into the hole when the hole lies between its home and it.
    for (let j = (hole + 1) & mask; keys[j] !== EMPTY; j = (j + 1) & mask) {
      if (((j - hash(keys[j]!, this.bits)) & mask) >= ((j - hole) & mask)) {
        keys[hole] = keys[j]!;
        values[hole] = values[j];
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    values[hole] = undefined;
    this.size--;
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(keys.length * 2).fill(EMPTY);
    this.values = new Array<V | undefined>(keys.length * 2).fill(undefined);
    this.bits++;
    this.mask = keys.length * 2 - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) this.set(keys[i]!, values[i]!);
  }
}

/** Address → address (both integers ≥ 0), values unboxed in a Float64Array. */
export class PointerMap {
  private keys = new Float64Array(INITIAL).fill(EMPTY);
  private values = new Float64Array(INITIAL);
  private bits = Math.log2(INITIAL);
  private mask = INITIAL - 1;
  size = 0;

  has(k: number): boolean {
    const keys = this.keys;
    let i = hash(k, this.bits);
    while (keys[i] !== k) {
      if (keys[i] === EMPTY) return false;
      i = (i + 1) & this.mask;
    }
    return true;
  }

  /** The value filed under k, or `otherwise`. */
  get(k: number, otherwise: number): number {
    const keys = this.keys;
    let i = hash(k, this.bits);
    while (keys[i] !== k) {
      if (keys[i] === EMPTY) return otherwise;
      i = (i + 1) & this.mask;
    }
    return this.values[i]!;
  }

  set(k: number, v: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    let i = hash(k, this.bits);
    while (this.keys[i] !== k && this.keys[i] !== EMPTY) i = (i + 1) & this.mask;
    if (this.keys[i] === EMPTY) {
      this.keys[i] = k;
      this.size++;
    }
    this.values[i] = v;
  }

  delete(k: number): void {
    const { keys, values, mask } = this;
    let hole = hash(k, this.bits);
    while (keys[hole] !== k) {
      if (keys[hole] === EMPTY) return;
      hole = (hole + 1) & mask;
    }
    for (let j = (hole + 1) & mask; keys[j] !== EMPTY; j = (j + 1) & mask) {
      if (((j - hash(keys[j]!, this.bits)) & mask) >= ((j - hole) & mask)) {
        keys[hole] = keys[j]!;
        values[hole] = values[j]!;
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    this.size--;
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(keys.length * 2).fill(EMPTY);
    this.values = new Float64Array(keys.length * 2);
    this.bits++;
    this.mask = keys.length * 2 - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) this.set(keys[i]!, values[i]!);
  }
}

/** A set of addresses (a PointerMap without values): what a Set<number> of live pointers should be. */
export class PointerSet {
  private readonly map = new PointerMap();

  get size(): number {
    return this.map.size;
  }

  has(p: number): boolean {
    return this.map.has(p);
  }

  add(p: number): this {
    this.map.set(p, 1);
    return this;
  }

  delete(p: number): boolean {
    const had = this.map.has(p);
    if (had) this.map.delete(p);
    return had;
  }
}
