/**
 * The few synchronised operations of the slow paths. On a plain ArrayBuffer heap they are plain loads
 * and stores: single-thread heaps pay nothing for being thread-ready.
 */
import type { HeapMemory } from "./heap-memory";

const SPINS_BEFORE_WAIT = 64;

export function lock(m: HeapMemory, word: number): void {
  if (!m.shared) return;
  const i32 = m.i32;
  let spins = 0;
  while (Atomics.compareExchange(i32, word, 0, 1) !== 0) {
    if (++spins > SPINS_BEFORE_WAIT) Atomics.wait(i32, word, 1, 1);
  }
}

export function unlock(m: HeapMemory, word: number): void {
  if (!m.shared) return;
  Atomics.store(m.i32, word, 0);
  Atomics.notify(m.i32, word, 1);
}

/** Compare-and-swap; returns the value found. */
export function cas(m: HeapMemory, word: number, expected: number, value: number): number {
  if (m.shared) return Atomics.compareExchange(m.i32, word, expected, value);
  const found = m.i32[word];
  if (found === expected) m.i32[word] = value;
  return found;
}

/** Adds and returns the previous value. */
export function fetchAdd(m: HeapMemory, word: number, delta: number): number {
  if (m.shared) return Atomics.add(m.i32, word, delta);
  const old = m.i32[word];
  m.i32[word] = old + delta;
  return old;
}

export function load(m: HeapMemory, word: number): number {
  return m.shared ? Atomics.load(m.i32, word) : m.i32[word];
}

export function store(m: HeapMemory, word: number, value: number): void {
  if (m.shared) Atomics.store(m.i32, word, value);
  else m.i32[word] = value;
}

export function exchange(m: HeapMemory, word: number, value: number): number {
  if (m.shared) return Atomics.exchange(m.i32, word, value);
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
