// A hash table keyed by a block number of the address space (floor(address / size) for a power of
// two size): what the model uses to find the pool or the arena a pointer falls in, once per free
// and realloc. Not a JS Map: keys above 2^31 are heap numbers to V8, and open addressing over a
// Float64Array with linear probing finds a key in one probe or two. Deletion shifts later members
// of the probe run back (no tombstones), so pools and arenas coming and going for hours cost nothing.

const EMPTY = -1;

export class AddressTable<V> {
  private keys = new Float64Array(64).fill(EMPTY);
  private values: (V | undefined)[] = new Array<V | undefined>(64).fill(undefined);
  private mask = 63;
  size = 0;

  /** The value filed under block number k (an integer ≥ 0). */
  get(k: number): V | undefined {
    const keys = this.keys;
    let i = this.home(k);
    while (keys[i] !== k) {
      if (keys[i] === EMPTY) return undefined;
      i = (i + 1) & this.mask;
    }
    return this.values[i];
  }

  set(k: number, v: V): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    let i = this.home(k);
    while (this.keys[i] !== k && this.keys[i] !== EMPTY) i = (i + 1) & this.mask;
    if (this.keys[i] === EMPTY) {
      this.keys[i] = k;
      this.size++;
    }
    this.values[i] = v;
  }

  delete(k: number): void {
    const { keys, values, mask } = this;
    let hole = this.home(k);
    while (keys[hole] !== k) {
      if (keys[hole] === EMPTY) return;
      hole = (hole + 1) & mask;
    }
    // Move each later member of the run into the hole when the hole lies between its home and it.
    for (let j = (hole + 1) & mask; keys[j] !== EMPTY; j = (j + 1) & mask) {
      if (((j - this.home(keys[j]!)) & mask) >= ((j - hole) & mask)) {
        keys[hole] = keys[j]!;
        values[hole] = values[j];
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    values[hole] = undefined;
    this.size--;
  }

  private home(k: number): number {
    // Fibonacci hashing of the low 32 bits: neighbouring blocks (the pools of one arena) are
    // neighbouring keys, which this spreads without collisions.
    return Math.imul(k | 0, 0x9e3779b1) & this.mask;
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(keys.length * 2).fill(EMPTY);
    this.values = new Array<V | undefined>(keys.length * 2).fill(undefined);
    this.mask = keys.length * 2 - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) this.set(keys[i]!, values[i]!);
  }
}
