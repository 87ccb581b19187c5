/**
 * The large tier: anything above the mid classes gets its own run of pages from the arena, with a
 * 16-byte prefix so the user pointer is 16-aligned and the header byte sits at `user - 1`. Freed runs
 * go straight back to the arena, where the next large or SuperSlab request reuses them.
 */
import type { HeapMemory } from "./heap-memory";
import { HeapError, fmtPtr } from "./errors";
import { LARGE_FREE, LARGE_LIVE } from "./header";
import { KIND_LARGE, KIND_LARGE_TAIL, P, PAGE, PAGE_SHIFT, TOUCH_SHIFT } from "./layout";
import { addTouched, allocPages, freePages } from "./page-arena";

/** Bytes before a large block's user pointer (its header byte is the last). */
export const LARGE_PREFIX = 16;

/** A user pointer to a large block of `size` bytes, or 0 when no run of pages is free. */
export function largeMalloc(m: HeapMemory, size: number): number {
  const pages = Math.ceil((size + LARGE_PREFIX) / PAGE);
  if (pages > m.layout.pages) return 0;
  const first = allocPages(m, pages);
  if (first === 0) return 0;
  const head = m.meta(first);
  m.i32[head + P.KIND] = KIND_LARGE;
  m.i32[head + P.SPAN] = pages;
  for (let p = first + 1; p < first + pages; p++) {
    m.i32[m.meta(p) + P.KIND] = KIND_LARGE_TAIL;
    m.i32[m.meta(p) + P.SPAN] = first;
  }
  // Only the pages the request reaches count as touched, as with a lazily committed mapping.
  const touched = Math.ceil((size + LARGE_PREFIX) / (1 << TOUCH_SHIFT));
  m.i32[head + P.TOUCHED] = touched;
  addTouched(m, touched);
  const user = (first << PAGE_SHIFT) + LARGE_PREFIX;
  m.u8[user - 1] = LARGE_LIVE;
  return user;
}

/** First page of the large block at `ptr`, after checking that it is one. */
function largeFirstPage(m: HeapMemory, ptr: number): number {
  const first = (ptr - LARGE_PREFIX) >>> PAGE_SHIFT;
  if ((ptr - LARGE_PREFIX) % PAGE !== 0 || m.i32[m.meta(first) + P.KIND] !== KIND_LARGE)
    throw new HeapError("INVALID_POINTER", `${fmtPtr(ptr)} has a large-block header but is not the start of a large block`, ptr);
  return first;
}

export function largeFree(m: HeapMemory, ptr: number): void {
  const first = largeFirstPage(m, ptr);
  const head = m.meta(first);
  m.u8[ptr - 1] = LARGE_FREE;
  addTouched(m, -m.i32[head + P.TOUCHED]);
  m.i32[head + P.TOUCHED] = 0;
  freePages(m, first, m.i32[head + P.SPAN]);
}

export function largeUsableSize(m: HeapMemory, ptr: number): number {
  return m.i32[m.meta(largeFirstPage(m, ptr)) + P.SPAN] * PAGE - LARGE_PREFIX;
}
