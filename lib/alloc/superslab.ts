/**
 * SuperSlabs: aligned runs of 64 KiB slabs (16 in 1 MiB, 32 in 2 MiB) taken from the page arena.
 * Each slab serves one tiny class at a time; its metadata (freelist, used, capacity, owner, class,
 * remote queue, pool slot state) lives in the buffer's page metadata.
 */
import type { HeapMemory } from "./heap-memory";
import * as layout from "./layout";
import * as pageArena from "./page-arena";
import * as header from "./header";
import { registerSuperSlab, unregisterSuperSlab } from "./registry";
import * as sync from "./sync";
import { releasePendingMidSpans } from "./mid";

// Bound in this module as heap.ts binds its imports (it says why): carve runs on every refill
// that takes fresh blocks.
const { H, KIND_SLAB, P, PAGE, PAGE_SHIFT, S, SLOT_ACTIVE, SLOT_UNUSED, TOUCH_SHIFT } = layout;
const { addTouched, allocPages, clearPageMeta, freePages, touchRun } = pageArena;
const { linkWord } = header;
const { fetchAdd, raiseTo, store } = sync;

/** First page of SuperSlab `ss`. */
export function ssFirstPage(m: HeapMemory, ss: number): number {
  return ss << (m.layout.ssShift - PAGE_SHIFT);
}

/** Int32 index of SuperSlab `ss`'s table entry. */
export function ssWord(m: HeapMemory, ss: number): number {
  return m.ssTable + ss * S.WORDS;
}

/** Maps a new SuperSlab (all slots UNUSED). Returns its index, or -1 when the arena has no aligned room. */
export function createSuperSlab(m: HeapMemory): number {
  const n = m.layout.pagesPerSS;
  releasePendingMidSpans(m);
  const first = allocPages(m, n, n);
  if (first === 0) return -1;
  const ss = first / n;
  for (let p = first; p < first + n; p++) {
    clearPageMeta(m, p);
    const meta = m.meta(p);
    m.i32[meta + P.KIND] = KIND_SLAB;
    m.i32[meta + P.CLASS] = -1;
    m.i32[meta + P.STATE] = SLOT_UNUSED;
    m.i32[meta + P.SPAN] = first;
  }
  // Registered before the cursor and LIVE say there is a slot: a lock-free claim (claimUnused) may
  // take one from then on, and free finds its blocks through the registry. Failing here, nothing is
  // published yet (the cursor of a previous incarnation is still closed), so the pages can go back.
  if (!registerSuperSlab(m, ss)) {
    freePages(m, first, n);
    return -1;
  }
  const w = ssWord(m, ss);
  // ACTIVE is 0 here and is not stored: a lock-free claim that read the previous incarnation as live
  // may add +1 (and, finding no slot, -1) around this point, and a store would lose one of the two.
  store(m, w + S.EMPTY, 0);
  store(m, w + S.CURSOR, 0);
  store(m, w + S.LIVE, 1);
  const live = fetchAdd(m, H.SUPERSLABS, 1) + 1;
  raiseTo(m, H.PEAK_SUPERSLABS, live);
  return ss;
}

/** Returns an empty SuperSlab's pages to the arena. Caller has taken every slot out of the pool. */
export function destroySuperSlab(m: HeapMemory, ss: number): void {
  const first = ssFirstPage(m, ss);
  let touched = 0;
  for (let p = first; p < first + m.layout.pagesPerSS; p++) touched += m.i32[m.meta(p) + P.TOUCHED];
  addTouched(m, -touched);
  unregisterSuperSlab(m, ss);
  store(m, ssWord(m, ss) + S.LIVE, 0);
  fetchAdd(m, H.SUPERSLABS, -1);
  freePages(m, first, m.layout.pagesPerSS);
}

/** Prepares slab `page` to serve blocks of `blockSize` (tiny class `cls`) for thread `owner`. */
export function formatSlab(m: HeapMemory, page: number, cls: number, blockSize: number, owner: number): void {
  const meta = m.meta(page);
  const i32 = m.i32;
  i32[meta + P.CLASS] = cls;
  i32[meta + P.FREELIST] = 0;
  i32[meta + P.USED] = 0;
  i32[meta + P.CARVED] = 0;
  i32[meta + P.CAPACITY] = Math.floor(PAGE / blockSize);
  i32[meta + P.FLAGS] = 0;
  i32[meta + P.NEXT] = 0;
  i32[meta + P.PREV] = 0;
  store(m, meta + P.REMOTE_HEAD, 0);
  store(m, meta + P.OWNER, owner);
  store(m, meta + P.STATE, SLOT_ACTIVE);
}

/**
 * Carves up to `want` fresh blocks off the slab's untouched end, linking them in front of `head`
 * (each marked free, as blocks in a cache are). Touches at most one new 4 KiB page per call, so an
 * idle class does not make the heap look bigger than it is. Returns the new head; the number carved
 * is the slab's CARVED delta.
 */
export function carve(m: HeapMemory, page: number, blockSize: number, freeHeader: number, want: number, head: number): number {
  const meta = m.meta(page);
  const i32 = m.i32;
  const carved = i32[meta + P.CARVED];
  const left = i32[meta + P.CAPACITY] - carved;
  if (left === 0) return head;
  const slabBase = page << PAGE_SHIFT;
  const end = carved * blockSize;
  const touchedEnd = i32[meta + P.TOUCHED] << TOUCH_SHIFT;
  const nextPageEnd = ((end + blockSize + (1 << TOUCH_SHIFT) - 1) >> TOUCH_SHIFT) << TOUCH_SHIFT;
  const room = Math.max(touchedEnd, nextPageEnd) - end;
  const n = Math.min(want, left, Math.max(1, Math.floor(room / blockSize)));
  const u8 = m.u8;
  for (let k = n - 1; k >= 0; k--) {
    const b = slabBase + end + k * blockSize;
    u8[b] = freeHeader;
    i32[linkWord(b)] = head;
    head = b;
  }
  i32[meta + P.CARVED] = carved + n;
  const units = (end + n * blockSize + (1 << TOUCH_SHIFT) - 1) >> TOUCH_SHIFT;
  touchRun(m, page, units);
  return head;
}
