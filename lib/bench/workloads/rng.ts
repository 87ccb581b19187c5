/**
 * xorshift32, the one RNG every harness uses (lib/bench/workloads/WORKLOADS.md).
 *
 * The state is kept as a signed int32 so V8 holds it in a register as a small
 * integer; only its bits matter. Hot loops call `xorshift32Next` on a local and
 * derive the draw themselves (`x >>> 1`), so nothing is allocated or loaded
 * from an object per draw.
 */

/** The initial state for a seed: its low 32 bits, with 0 meaning 1. */
export function xorshift32Seed(seed: number): number {
  const x = seed | 0;
  return x === 0 ? 1 : x;
}

/** One xorshift32 step on a state from `xorshift32Seed` or a previous step. */
export function xorshift32Next(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x | 0;
}

/** The top 31 bits of a state, 0 .. 2^31-1: small enough for V8's integer `%`. */
export function xorshift32Draw(x: number): number {
  return x >>> 1;
}

/** A stateful generator for code off the hot path (replays, statistics). */
export class Xorshift32 {
  private x: number;

  constructor(seed: number) {
    this.x = xorshift32Seed(seed);
  }

  /** Advances the state and returns its top 31 bits. */
  draw(): number {
    this.x = xorshift32Next(this.x);
    return xorshift32Draw(this.x);
  }
}
