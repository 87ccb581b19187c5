/**
 * The few synchronised operations of the slow paths. On a plain ArrayBuffer heap they are plain loads
 * and stores: single-thread heaps pay nothing for being thread-ready.
 */
import type { HeapMemory } from "./heap-memory";

const SPINS_BEFORE_WAIT = 64;

/** Lock word states: free; held; held, and a thread may be asleep on it (its unlock must wake one). */
const UNLOCKED = 0;
const LOCKED = 1;
const LOCKED_WAITERS = 2;

/**
 * A three-state lock (Drepper, "Futexes Are Tricky", mutex 2): taken by a CAS 0 -> 1; a thread that
 * spun for a while marks the word 2 before it sleeps, so only an unlock that finds 2 calls
 * Atomics.notify. A notify is far from free in V8 (a runtime call that takes a process-wide mutex and
 * touches the buffer's shared reference count), so an unlock with no sleeper must not make one.
 */
export function lock(m: HeapMemory, word: number): void {
  if (m.shared !== true) return;
  const i32 = m.i32;
  let c = Atomics.compareExchange(i32, word, UNLOCKED, LOCKED);
  if (c === UNLOCKED) return;
  for (let spins = 0; spins < SPINS_BEFORE_WAIT; spins++) {
    if (c === UNLOCKED && (c = Atomics.compareExchange(i32, word, UNLOCKED, LOCKED)) === UNLOCKED) return;
    if (c === LOCKED_WAITERS) break;
    c = Atomics.load(i32, word);
  }
  // From here the word says 2 whenever this thread may sleep; whoever takes it from here leaves 2,
  // so the unlock after it wakes the next sleeper (at worst one notify too many, never one too few).
  while (Atomics.exchange(i32, word, LOCKED_WAITERS) !== UNLOCKED) Atomics.wait(i32, word, LOCKED_WAITERS);
}

export function unlock(m: HeapMemory, word: number): void {
  if (m.shared !== true) return;
  if (Atomics.exchange(m.i32, word, UNLOCKED) === LOCKED_WAITERS) Atomics.notify(m.i32, word, 1);
}

/** Compare-and-swap; returns the value found. */
export function cas(m: HeapMemory, word: number, expected: number, value: number): number {
  if (m.shared === true) return Atomics.compareExchange(m.i32, word, expected, value);
  const found = m.i32[word];
  if (found === expected) m.i32[word] = value;
  return found;
}

/** Adds and returns the previous value. */
export function fetchAdd(m: HeapMemory, word: number, delta: number): number {
  if (m.shared === true) return Atomics.add(m.i32, word, delta);
  const old = m.i32[word];
  m.i32[word] = old + delta;
  return old;
}

export function load(m: HeapMemory, word: number): number {
  return m.shared === true ? Atomics.load(m.i32, word) : m.i32[word];
}

export function store(m: HeapMemory, word: number, value: number): void {
  if (m.shared === true) Atomics.store(m.i32, word, value);
  else m.i32[word] = value;
}

export function exchange(m: HeapMemory, word: number, value: number): number {
  if (m.shared === true) return Atomics.exchange(m.i32, word, value);
  const old = m.i32[word];
  m.i32[word] = value;
  return old;
}

/** Raises a high-water mark word to at least `value`. */
export function raiseTo(m: HeapMemory, word: number, value: number): void {
  for (;;) {
    const old = load(m, word);
    if (old >= value || cas(m, word, old, value) === old) return;
  }
}

// The lock words' values, plain `const`s so that this module's uses fold (heap.ts says why).
export { LOCKED, LOCKED_WAITERS, UNLOCKED };
