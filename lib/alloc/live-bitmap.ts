/**
 * The live bitmap of header-free heaps (align 8 or 16): one bit per 8 bytes of the buffer, set while
 * a block starting there is handed out to the program, clear while it is free (in a cache, on a
 * freelist) or when no block starts there. With no header byte to read, this is how free tells a live
 * block from a double free, an interior or a misaligned pointer. Header heaps have none (liveBits -1).
 * On shared heaps the owner's mallocs and other threads' frees share words: they use Atomics.
 */
import type { HeapMemory } from "./heap-memory";
import { LIVE_GRANULE_SHIFT, LIVE_WORD_SHIFT } from "./layout";

/** Int32 index of the word holding the live bit of the block at `b`. */
export function liveWord(m: HeapMemory, b: number): number {
  return m.liveBits + (b >>> LIVE_WORD_SHIFT);
}

export function liveMask(b: number): number {
  return 1 << ((b >>> LIVE_GRANULE_SHIFT) & 31);
}

/** Whether the block at `b` is live by the bitmap; always false on header heaps (their header says). */
export function isLive(m: HeapMemory, b: number): boolean {
  return m.liveBits >= 0 && (m.i32[liveWord(m, b)] & liveMask(b)) !== 0;
}

export function setLive(m: HeapMemory, b: number): void {
  if (m.shared) Atomics.or(m.i32, liveWord(m, b), liveMask(b));
  else m.i32[liveWord(m, b)] |= liveMask(b);
}

export function clearLive(m: HeapMemory, b: number): void {
  if (m.shared) Atomics.and(m.i32, liveWord(m, b), ~liveMask(b));
  else m.i32[liveWord(m, b)] &= ~liveMask(b);
}
