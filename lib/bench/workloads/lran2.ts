/**
 * lran2 (Wolfram Gloger, 1996), the RNG of the larson benchmark: a linear
 * congruential generator whose output is shuffled through a 97-entry table.
 * The same generator as `lran2` in scripts/native/larson.c (WORKLOADS.md).
 *
 * Every value stays below LRAN2_MAX, so `IA * x + IC` < 2^31: all arithmetic
 * is on small integers, exact in both languages and fast in V8.
 */
export const LRAN2_MAX = 714025;
const IA = 1366;
const IC = 150889;

export class Lran2 {
  private x = 0;
  private y = 0;
  private readonly v = new Int32Array(97);

  constructor(seed: number) {
    // Computed in doubles: IC - seed may leave the int32 range; `%` truncates as C's does.
    let x = Math.abs((IC - seed) % LRAN2_MAX);
    for (let j = 0; j < 97; j++) {
      x = (IA * x + IC) % LRAN2_MAX;
      this.v[j] = x;
    }
    this.x = (IA * x + IC) % LRAN2_MAX;
    this.y = this.x;
  }

  /** The next value, 0 .. LRAN2_MAX-1. */
  next(): number {
    const j = this.y % 97;
    this.y = this.v[j];
    this.x = (IA * this.x + IC) % LRAN2_MAX;
    this.v[j] = this.x;
    return this.y;
  }
}
