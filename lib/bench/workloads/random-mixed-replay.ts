/**
 * Facts about a workload that depend only on its parameters, computed by
 * replaying its RNG without allocating (lib/bench/workloads/WORKLOADS.md): the
 * reference fingerprint every harness must reproduce, and the peak live bytes
 * a heap must hold to run it.
 */
import type { Fingerprint } from './random-mixed';
import { Xorshift32 } from './rng';

export interface RandomMixedReplay {
  fingerprint: Fingerprint;
  /** The largest sum of requested sizes live at once during the loop. */
  peakLiveBytes: number;
}

/** random-mixed CYCLES WS SEED with sizes MIN..MAX, replayed as bookkeeping only. */
export function replayRandomMixed(
  cycles: number,
  ws: number,
  seed: number,
  min: number,
  max: number,
): RandomMixedReplay {
  if (!(min >= 1 && max >= min)) throw new Error(`replayRandomMixed: need 1 <= min <= max, got ${min}..${max}`);
  const rng = new Xorshift32(seed);
  const sizes = new Float64Array(ws); // 0 = empty slot (sizes are >= 1)
  const span = max - min + 1;
  let mallocs = 0;
  let frees = 0;
  let bytes = 0;
  let hash = 0;
  let live = 0;
  let peakLiveBytes = 0;
  for (let i = 0; i < cycles; i++) {
    const s = rng.draw() % ws;
    if (sizes[s] !== 0) {
      live -= sizes[s];
      sizes[s] = 0;
      frees++;
    } else {
      const size = min + (rng.draw() % span);
      sizes[s] = size;
      live += size;
      if (live > peakLiveBytes) peakLiveBytes = live;
      mallocs++;
      bytes += size;
      hash = (Math.imul(hash, 31) + size) | 0;
    }
  }
  return { fingerprint: { mallocs, frees, bytes, hash: hash >>> 0 }, peakLiveBytes };
}

/**
 * The replay of random-mixed CYCLES WS SEED (sizes MIN..MAX), once a run's fingerprint `got` is found
 * to be its own; else an Error saying that `who` did not do the specified work.
 */
export function checkedRandomMixedReplay(
  cycles: number,
  ws: number,
  seed: number,
  min: number,
  max: number,
  got: Fingerprint,
  who: string,
): RandomMixedReplay {
  const replay = replayRandomMixed(cycles, ws, seed, min, max);
  const want = replay.fingerprint;
  if (got.mallocs !== want.mallocs || got.frees !== want.frees || got.bytes !== want.bytes || got.hash !== want.hash) {
    throw new Error(
      `${who}: the run's fingerprint ${JSON.stringify(got)} differs from the workload's ` +
        `${JSON.stringify(want)}: the harness did not do the specified work`,
    );
  }
  return replay;
}
