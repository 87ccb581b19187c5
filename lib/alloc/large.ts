/**
 * The large tier: anything above the mid classes gets its own run of pages from the arena. On header
 * heaps a 16-byte prefix makes the user pointer 16-aligned with the header byte at `user - 1`;
 * header-free heaps start the block at its first page (64 KiB-aligned) and mark it in the live bitmap.
 * Freed runs go straight back to the arena, where the next large or SuperSlab request reuses them.
 */
import type { HeapMemory } from "./heap-memory";
import { HeapError, fmtPtr } from "./errors";
import { LARGE_FREE, LARGE_LIVE } from "./header";
import { KIND_LARGE, KIND_LARGE_TAIL, P, PAGE, PAGE_SHIFT, TOUCH_SHIFT } from "./layout";
import { addTouched, allocPages, allocPagesAt, freePages, touchRun } from "./page-arena";
import { clearLive, setLive } from "./live-bitmap";
import { releasePendingMidSpans } from "./mid";

/** Bytes before a large block's user pointer on header heaps (its header byte is the last). */
export const LARGE_PREFIX = 16;

/** Bytes before a large block's user pointer on this heap. */
export function largePrefix(m: HeapMemory): number {
  return m.liveBits < 0 ? LARGE_PREFIX : 0;
}

/** A user pointer to a large block of `size` bytes, or 0 when no run of pages is free. */
export function largeMalloc(m: HeapMemory, size: number): number {
  const prefix = largePrefix(m);
  const pages = Math.ceil((size + prefix) / PAGE);
  if (pages > m.layout.pages) return 0;
  releasePendingMidSpans(m);
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
  const touched = Math.max(1, Math.ceil((size + prefix) / (1 << TOUCH_SHIFT)));
  touchRun(m, first, touched);
  const user = (first << PAGE_SHIFT) + prefix;
  if (prefix !== 0) m.u8[user - 1] = LARGE_LIVE;
  else setLive(m, user);
  return user;
}

/** First page of the large block at `ptr`, after checking that it is one. */
function largeFirstPage(m: HeapMemory, ptr: number): number {
  const prefix = largePrefix(m);
  const first = (ptr - prefix) >>> PAGE_SHIFT;
  if ((ptr - prefix) % PAGE !== 0 || m.i32[m.meta(first) + P.KIND] !== KIND_LARGE)
    throw new HeapError("INVALID_POINTER", `${fmtPtr(ptr)} ${prefix !== 0 ? "has a large-block header but " : ""}is not the start of a large block`, ptr);
  return first;
}

/**
 * Frees the large block at `ptr`. Its first byte before (header heaps) or at (header-free heaps, where
 * the page is free memory from now on) `ptr` says LARGE_FREE, so a second free reads a double free.
 */
export function largeFree(m: HeapMemory, ptr: number): void {
  const first = largeFirstPage(m, ptr);
  const head = m.meta(first);
  if (largePrefix(m) !== 0) m.u8[ptr - 1] = LARGE_FREE;
  else {
    clearLive(m, ptr);
    m.u8[ptr] = LARGE_FREE;
  }
  addTouched(m, -m.i32[head + P.TOUCHED]);
  m.i32[head + P.TOUCHED] = 0;
  freePages(m, first, m.i32[head + P.SPAN]);
}

export function largeUsableSize(m: HeapMemory, ptr: number): number {
  return m.i32[m.meta(largeFirstPage(m, ptr)) + P.SPAN] * PAGE - largePrefix(m);
}

/**
 * Grows the large block at `ptr` (a header heap's, checked by the caller) to `size` bytes where it
 * is, when the pages after its run are free: as a native realloc does with mremap, the block keeps
 * its address and nothing is copied. Returns false, changing nothing, when those pages are taken.
 */
export function largeGrowInPlace(m: HeapMemory, ptr: number, size: number): boolean {
  const first = (ptr - LARGE_PREFIX) >>> PAGE_SHIFT;
  const head = m.meta(first);
  const span = m.i32[head + P.SPAN];
  const pages = Math.ceil((size + LARGE_PREFIX) / PAGE);
  if (pages <= span) return false;
  releasePendingMidSpans(m);
  if (!allocPagesAt(m, first + span, pages - span)) return false;
  for (let p = first + span; p < first + pages; p++) {
    m.i32[m.meta(p) + P.KIND] = KIND_LARGE_TAIL;
    m.i32[m.meta(p) + P.SPAN] = first;
  }
  m.i32[head + P.SPAN] = pages;
  touchRun(m, first, Math.ceil((size + LARGE_PREFIX) / (1 << TOUCH_SHIFT)));
  return true;
}

/**
 * Shrinks the large block at `ptr` (a header heap's, checked by the caller) to `size` bytes where it
 * is: the whole pages past the new size go back to the arena, as a native realloc gives a mapping's
 * tail back. The block keeps its address (and its alignment), and nothing is copied.
 */
export function largeShrinkInPlace(m: HeapMemory, ptr: number, size: number): void {
  const first = (ptr - LARGE_PREFIX) >>> PAGE_SHIFT;
  const head = m.meta(first);
  const span = m.i32[head + P.SPAN];
  const pages = Math.max(1, Math.ceil((size + LARGE_PREFIX) / PAGE));
  if (pages >= span) return;
  const units = pages << (PAGE_SHIFT - TOUCH_SHIFT);
  const touched = m.i32[head + P.TOUCHED];
  if (touched > units) {
    addTouched(m, units - touched);
    m.i32[head + P.TOUCHED] = units;
  }
  m.i32[head + P.SPAN] = pages;
  freePages(m, first + pages, span - pages);
}
