/**
 * Waiting between worker threads in shared memory, for the workloads whose threads meet (mstress's
 * rounds, xmalloc-test's batch queue): spin a little, then sleep, so that on an oversubscribed core
 * the thread being waited for gets to run.
 */

/** Fruitless looks before a sleep, and how long one sleep lasts (WORKLOADS.md: 64 tries, then 50 us). */
const SPINS_BEFORE_SLEEP = 64;
const SLEEP_MS = 0.05;

/**
 * One more fruitless look: after SPINS_BEFORE_SLEEP in a row, sleeps SLEEP_MS on `words[quiet]`, a word
 * that stays 0 and that no one notifies. Returns the new count of fruitless looks.
 */
export function pauseAfter(words: Int32Array, quiet: number, idle: number): number {
  if (idle < SPINS_BEFORE_SLEEP) return idle + 1;
  Atomics.wait(words, quiet, 0, SLEEP_MS);
  return 0;
}

/** Words a barrier takes: an arrival count, then a generation. */
export const BARRIER_WORDS = 2;

/**
 * Waits until `parties` threads have called it on the same words (`words[at]`, `words[at + 1]`, both 0 at
 * first); reusable, round after round. The last to arrive resets the count and bumps the generation.
 */
export function barrier(words: Int32Array, at: number, parties: number): void {
  const generation = Atomics.load(words, at + 1);
  if (Atomics.add(words, at, 1) === parties - 1) {
    Atomics.store(words, at, 0);
    Atomics.add(words, at + 1, 1);
    Atomics.notify(words, at + 1);
    return;
  }
  for (let spins = 0; Atomics.load(words, at + 1) === generation; spins++) {
    if (spins >= SPINS_BEFORE_SLEEP) Atomics.wait(words, at + 1, generation);
  }
}
