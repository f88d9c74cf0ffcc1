// Fast, seeded, normally distributed numbers for random weights. A xorshift32 stream indexes a
// 65,536-entry table of standard normal samples (drawn once per seed with Box-Muller): two table
// lookups per generator step, instead of a log, a sqrt and a cos per value.

const TABLE_BITS = 16;

export class SeededNormal {
  private state: number;
  private readonly table: Float32Array;

  constructor(seed: number) {
    this.state = (seed ^ 0x9e3779b9) >>> 0 || 0x6d2b79f5; // xorshift must not start at 0
    for (let i = 0; i < 16; i++) this.next(); // let a small seed's bits spread
    this.table = new Float32Array(1 << TABLE_BITS);
    // Samples come in +-pairs and are rescaled to unit variance, so the table's own sampling
    // error adds no bias to the weights.
    let sumOfSquares = 0;
    for (let i = 0; i < this.table.length; i += 2) {
      const u1 = (this.next() + 1) / 4294967297; // in (0, 1): log stays finite
      const u2 = this.next() / 4294967296;
      const sample = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      this.table[i] = sample;
      this.table[i + 1] = -sample;
      sumOfSquares += 2 * sample * sample;
    }
    const scale = 1 / Math.sqrt(sumOfSquares / this.table.length);
    for (let i = 0; i < this.table.length; i++) this.table[i]! *= scale;
  }

  /** Fills `out` with normal(0, std) values. */
  fill(out: Float32Array, std: number): Float32Array {
    const table = this.table;
    let x = this.state;
    const even = out.length & ~1;
    for (let i = 0; i < even; i += 2) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = table[x >>> 16]! * std;
      out[i + 1] = table[x & 0xffff]! * std;
    }
    if (even < out.length) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[even] = table[x >>> 16]! * std;
    }
    this.state = x >>> 0;
    return out;
  }

  private next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
}
