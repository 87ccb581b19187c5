/**
 * The mid tier ("Pool TLS" in the seed): classes of 2 to 52 KiB with their own header `0xB0 | class`.
 * Each thread keeps a small list per class (up to MID_CACHE_BYTES); behind it each class has a
 * freelist in the buffer (under the mid lock when the heap is shared) and a span of whole pages
 * (at least 8 blocks) that fresh blocks are carved from as the freelist runs dry, so a span is
 * written (touched) only as far as blocks were handed out of it. Mid blocks have no owner: any thread may cache any of them. A
 * free block records the thread whose list holds it (0: the class freelist), so the blocks of a
 * thread that died with a full list can be found again (reclaimMidCache).
 */
import type { HeapMemory } from "./heap-memory";
import { HeapError, fmtPtr } from "./errors";
import { CLASS_MASK, linkWord, MID_FREE } from "./header";
import { H, KIND_MID, P, PAGE, PAGE_SHIFT, TOUCH_SHIFT } from "./layout";
import { addTouched, allocPages, freePages, touchRun } from "./page-arena";
import { pushPage, unlinkPage } from "./page-lists";
import { lock, unlock } from "./sync";
import { isLive } from "./live-bitmap";

const BLOCKS_PER_SPAN = 8;
/** P.FLAGS of a span's first page: on the list at H.MID_EMPTY_SPANS. */
const SPAN_EMPTY = 2;

/** Int32 index of the word in a free mid block naming the thread whose list holds it (0 = none). */
export function cacheOwnerWord(b: number): number {
  return linkWord(b) + 1;
}

/**
 * Most blocks of `size` bytes a thread's list may hold: `bytes` of them (config.midCacheBytes), at
 * least 2; none with 0 bytes (every free goes to the class freelist, every malloc takes one block).
 */
export function midCacheCapacity(size: number, bytes: number): number {
  return bytes === 0 ? 0 : Math.max(2, Math.floor(bytes / size));
}

/**
 * midReleaseSpans: a span whose carved blocks are all back on the class freelist is marked and
 * counted; the next request for pages from the arena (a span, a large block, a SuperSlab) or for
 * touching more of a slab gives every marked span back first (releasePendingMidSpans). Until then the
 * class reuses it, so a class going between no block and a few maps no span at every turn, and the
 * pages are back before anything else is written.
 */
function becameEmpty(m: HeapMemory, meta: number): void {
  if (!m.config.midReleaseSpans) return;
  m.i32[meta + P.FLAGS] |= SPAN_EMPTY;
  pushPage(m, H.MID_EMPTY_SPANS, m.i32[meta + P.SPAN]);
}

function notEmpty(m: HeapMemory, meta: number): void {
  const i32 = m.i32;
  if ((i32[meta + P.FLAGS] & SPAN_EMPTY) === 0) return;
  i32[meta + P.FLAGS] &= ~SPAN_EMPTY;
  unlinkPage(m, H.MID_EMPTY_SPANS, i32[meta + P.SPAN]);
}

/** Gives the marked empty spans back to the arena (see becameEmpty), if there are any. */
export function releasePendingMidSpans(m: HeapMemory): void {
  if (m.i32[H.MID_EMPTY_SPANS] === 0) return;
  lock(m, H.MID_LOCK);
  try {
    releaseMarkedLocked(m);
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

/**
 * releasePendingMidSpans with the mid lock held: one walk of the freelist of each class with a
 * marked span drops the marked spans' blocks, then their pages go back.
 */
function releaseMarkedLocked(m: HeapMemory): void {
  const i32 = m.i32;
  let classes = 0;
  for (let s = i32[H.MID_EMPTY_SPANS]; s !== 0; s = i32[m.meta(s) + P.NEXT]) classes |= 1 << i32[m.meta(s) + P.CLASS];
  for (let cls = 0; cls < m.midSizes.length; cls++) {
    if ((classes & (1 << cls)) === 0) continue;
    let head = 0;
    let tail = 0;
    for (let b = i32[H.MID_FREE + cls]; b !== 0; b = i32[linkWord(b)]) {
      if ((i32[m.meta(i32[m.meta(b >>> PAGE_SHIFT) + P.SPAN]) + P.FLAGS] & SPAN_EMPTY) !== 0) continue;
      if (tail === 0) head = b;
      else i32[linkWord(tail)] = b;
      tail = b;
    }
    if (tail !== 0) i32[linkWord(tail)] = 0;
    i32[H.MID_FREE + cls] = head;
  }
  for (let s = i32[H.MID_EMPTY_SPANS]; s !== 0; ) {
    const meta = m.meta(s);
    const next = i32[meta + P.NEXT];
    const cls = i32[meta + P.CLASS];
    if (i32[H.MID_SPAN + cls] === s) i32[H.MID_SPAN + cls] = 0;
    addTouched(m, -i32[meta + P.TOUCHED]);
    freePages(m, s, spanPages(m, cls));
    s = next;
  }
  i32[H.MID_EMPTY_SPANS] = 0;
}

/** Int32 index of the count of blocks of the span holding `b` that are not on the class freelist (live or in a thread's list). */
function usedWord(m: HeapMemory, b: number): number {
  return m.meta(m.i32[m.meta(b >>> PAGE_SHIFT) + P.SPAN]) + P.USED;
}

/**
 * Moves up to `want` blocks of class `cls` onto a thread's list (`heads`/`counts`): from the class
 * freelist, then fresh ones carved off the class's span, then off a new span when both were empty.
 * Returns how many; 0 = out of memory. Blocks come in the order a span threaded whole onto the
 * freelist behind the freed ones would give.
 */
export function midRefill(m: HeapMemory, heads: Int32Array, counts: Int32Array, cls: number, want: number, tid: number): number {
  lock(m, H.MID_LOCK);
  try {
    let b = m.i32[H.MID_FREE + cls];
    let n = 0;
    while (b !== 0 && n < want) {
      const next = m.i32[linkWord(b)];
      m.i32[linkWord(b)] = heads[cls];
      m.i32[cacheOwnerWord(b)] = tid;
      const used = usedWord(m, b);
      if (m.i32[used]++ === 0) notEmpty(m, used - P.USED);
      heads[cls] = b;
      b = next;
      n++;
    }
    m.i32[H.MID_FREE + cls] = b;
    if (n < want) {
      let got = carveMid(m, heads, cls, want - n, tid);
      if (got === 0 && n === 0 && growClass(m, cls)) got = carveMid(m, heads, cls, want, tid);
      n += got;
    }
    counts[cls] += n;
    return n;
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

/**
 * Carves up to `want` fresh blocks off the class's span onto a thread's list, as the tiny tier's
 * carve does: at least one, and no more than reach the 4 KiB page the first one ends in (what is
 * written ahead of use stays under a page). Counts the bytes they reach as touched.
 */
function carveMid(m: HeapMemory, heads: Int32Array, cls: number, want: number, tid: number): number {
  const span = m.i32[H.MID_SPAN + cls];
  if (span === 0) return 0;
  const meta = m.meta(span);
  const carved = m.i32[meta + P.CARVED];
  const size = m.midSizes[cls];
  const end = carved * size;
  const pageEnd = Math.max(m.i32[meta + P.TOUCHED] << TOUCH_SHIFT, ((end + size + (1 << TOUCH_SHIFT) - 1) >> TOUCH_SHIFT) << TOUCH_SHIFT);
  const n = Math.min(want, m.i32[meta + P.CAPACITY] - carved, Math.max(1, Math.floor((pageEnd - end) / size)));
  const base = span << PAGE_SHIFT;
  for (let k = carved; k < carved + n; k++) {
    const b = base + k * size;
    m.u8[b] = MID_FREE | cls;
    m.i32[linkWord(b)] = heads[cls];
    m.i32[cacheOwnerWord(b)] = tid;
    heads[cls] = b;
  }
  m.i32[meta + P.CARVED] = carved + n;
  if (m.i32[meta + P.USED] === 0) notEmpty(m, meta);
  m.i32[meta + P.USED] += n;
  const units = ((carved + n) * size + (1 << TOUCH_SHIFT) - 1) >> TOUCH_SHIFT;
  touchRun(m, span, units);
  return n;
}

/**
 * midCacheBytes 0 on an unshared heap: a block of class `cls` off the class freelist for malloc, 0 when
 * the list is empty (then midRefill carves one).
 */
export function midPopFree(m: HeapMemory, cls: number): number {
  const i32 = m.i32;
  const b = i32[H.MID_FREE + cls];
  if (b === 0) return 0;
  i32[H.MID_FREE + cls] = i32[linkWord(b)];
  const used = usedWord(m, b);
  if (i32[used]++ === 0) notEmpty(m, used - P.USED);
  return b;
}

/**
 * midCacheBytes 0 on an unshared heap, the class freelist empty: a fresh block carved off the class's
 * span (a new span when it has none left), 0 when out of memory. The caller writes its header.
 */
export function midCarveOne(m: HeapMemory, cls: number): number {
  const i32 = m.i32;
  let span = i32[H.MID_SPAN + cls];
  if (span === 0 || i32[m.meta(span) + P.CARVED] === i32[m.meta(span) + P.CAPACITY]) {
    if (!growClass(m, cls)) return 0;
    span = i32[H.MID_SPAN + cls];
  }
  const meta = m.meta(span);
  const carved = i32[meta + P.CARVED];
  const size = m.midSizes[cls];
  const b = (span << PAGE_SHIFT) + carved * size;
  i32[meta + P.CARVED] = carved + 1;
  if (i32[meta + P.USED]++ === 0) notEmpty(m, meta);
  const units = ((carved + 1) * size + (1 << TOUCH_SHIFT) - 1) >> TOUCH_SHIFT;
  touchRun(m, span, units);
  return b;
}

/** midCacheBytes 0 on an unshared heap: a freed block (header already free) straight onto the class freelist. */
export function midPushFree(m: HeapMemory, b: number, cls: number): void {
  const i32 = m.i32;
  i32[linkWord(b)] = i32[H.MID_FREE + cls];
  i32[cacheOwnerWord(b)] = 0;
  i32[H.MID_FREE + cls] = b;
  const used = usedWord(m, b);
  if (--i32[used] === 0) becameEmpty(m, used - P.USED);
}

/** Moves `n` blocks from a thread's list back to the class freelist. */
export function midSpill(m: HeapMemory, heads: Int32Array, counts: Int32Array, cls: number, n: number): void {
  lock(m, H.MID_LOCK);
  try {
    for (let k = 0; k < n; k++) {
      const b = heads[cls];
      heads[cls] = m.i32[linkWord(b)];
      m.i32[linkWord(b)] = m.i32[H.MID_FREE + cls];
      m.i32[cacheOwnerWord(b)] = 0;
      m.i32[H.MID_FREE + cls] = b;
      const used = usedWord(m, b);
      if (--m.i32[used] === 0) becameEmpty(m, used - P.USED);
    }
    counts[cls] -= n;
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

/** Pages of one span of class `cls`. */
export function spanPages(m: HeapMemory, cls: number): number {
  return Math.ceil((BLOCKS_PER_SPAN * m.midSizes[cls]) / PAGE);
}

/** Maps a new span for `cls` (nothing carved or touched yet) and makes it the class's span; false when out of memory. */
function growClass(m: HeapMemory, cls: number): boolean {
  const pages = spanPages(m, cls);
  if (m.i32[H.MID_EMPTY_SPANS] !== 0) releaseMarkedLocked(m);
  const first = allocPages(m, pages);
  if (first === 0) return false;
  for (let p = first; p < first + pages; p++) {
    const meta = m.meta(p);
    m.i32[meta + P.KIND] = KIND_MID;
    m.i32[meta + P.CLASS] = cls;
    m.i32[meta + P.SPAN] = first;
  }
  const head = m.meta(first);
  m.i32[head + P.TOUCHED] = 0;
  m.i32[head + P.CARVED] = 0;
  m.i32[head + P.USED] = 0;
  m.i32[head + P.FLAGS] = 0;
  m.i32[head + P.CAPACITY] = Math.floor((pages * PAGE) / m.midSizes[cls]);
  m.i32[H.MID_SPAN + cls] = first;
  return true;
}

/** Whether the mid block starting at `b` was ever handed out of its span (carved). */
export function midCarved(m: HeapMemory, b: number, cls: number): boolean {
  const span = m.i32[m.meta(b >>> PAGE_SHIFT) + P.SPAN];
  return (b - (span << PAGE_SHIFT)) / m.midSizes[cls] < m.i32[m.meta(span) + P.CARVED];
}

/** Checks that `ptr` is the user pointer of a mid block and returns its class. */
export function midClassOfPointer(m: HeapMemory, ptr: number): number {
  const b = ptr - 1;
  const cls = m.u8[b] & CLASS_MASK;
  const meta = m.meta(b >>> PAGE_SHIFT);
  const spanBase = m.i32[meta + P.SPAN] << PAGE_SHIFT;
  if (m.i32[meta + P.KIND] !== KIND_MID || m.i32[meta + P.CLASS] !== cls || (b - spanBase) % m.midSizes[cls] !== 0 || !midCarved(m, b, cls))
    throw new HeapError("INVALID_POINTER", `${fmtPtr(ptr)} has a mid-block header but is not the start of a mid block`, ptr);
  return cls;
}

export function midUsableSize(m: HeapMemory, ptr: number): number {
  return m.midSizes[midClassOfPointer(m, ptr)] - 1;
}

/**
 * Returns to the arena every span whose blocks are all on its class freelist (blocks in threads'
 * lists are not: flush them first). Walks the freelists: for trim, out-of-memory, and (midReleaseSpans)
 * when marked empty spans wait.
 */
export function releaseEmptyMidSpans(m: HeapMemory): number {
  lock(m, H.MID_LOCK);
  try {
    return releaseEmptySpansLocked(m);
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

/** releaseEmptyMidSpans with the mid lock held. */
function releaseEmptySpansLocked(m: HeapMemory): number {
  let released = 0;
  for (let cls = 0; cls < m.midSizes.length; cls++) {
    const freeIn = new Map<number, number>();
    for (let b = m.i32[H.MID_FREE + cls]; b !== 0; b = m.i32[linkWord(b)]) {
      const span = m.i32[m.meta(b >>> PAGE_SHIFT) + P.SPAN];
      freeIn.set(span, (freeIn.get(span) ?? 0) + 1);
    }
    // The class's span with nothing carved yet is empty too.
    const carving = m.i32[H.MID_SPAN + cls];
    if (carving !== 0 && m.i32[m.meta(carving) + P.CARVED] === 0) freeIn.set(carving, 0);
    const empty = new Set([...freeIn].filter(([span, n]) => n === m.i32[m.meta(span) + P.CARVED]).map(([span]) => span));
    if (empty.size === 0) continue;
    released += releaseSpans(m, cls, empty);
  }
  // Every span with all its carved blocks free is gone now, the marked ones with them.
  m.i32[H.MID_EMPTY_SPANS] = 0;
  return released;
}

/**
 * Gives spans of class `cls` whose carved blocks are all on the class freelist back to the arena:
 * the list is rebuilt without their blocks (keeping the others' order). Caller holds the mid lock.
 * Returns how many.
 */
function releaseSpans(m: HeapMemory, cls: number, empty: Set<number>): number {
  let head = 0;
  let tail = 0;
  for (let b = m.i32[H.MID_FREE + cls]; b !== 0; b = m.i32[linkWord(b)]) {
    if (empty.has(m.i32[m.meta(b >>> PAGE_SHIFT) + P.SPAN])) continue;
    if (tail === 0) head = b;
    else m.i32[linkWord(tail)] = b;
    tail = b;
  }
  if (tail !== 0) m.i32[linkWord(tail)] = 0;
  m.i32[H.MID_FREE + cls] = head;
  if (empty.has(m.i32[H.MID_SPAN + cls])) m.i32[H.MID_SPAN + cls] = 0;
  const pages = spanPages(m, cls);
  for (const span of empty) {
    addTouched(m, -m.i32[m.meta(span) + P.TOUCHED]);
    freePages(m, span, pages);
  }
  return empty.size;
}

/**
 * Puts the free mid blocks held in the lists of thread `tid` (which died with them) back on their
 * class freelists. Walks every mid span. Returns how many blocks came back.
 */
export function reclaimMidCache(m: HeapMemory, tid: number): number {
  let n = 0;
  lock(m, H.MID_LOCK);
  try {
    for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
      const meta = m.meta(page);
      if (m.i32[meta + P.KIND] !== KIND_MID || m.i32[meta + P.SPAN] !== page) continue;
      const cls = m.i32[meta + P.CLASS];
      const size = m.midSizes[cls];
      const base = page << PAGE_SHIFT;
      for (let b = base; b < base + m.i32[meta + P.CARVED] * size; b += size) {
        if (m.u8[b] !== (MID_FREE | cls) || m.i32[cacheOwnerWord(b)] !== tid || isLive(m, b)) continue;
        m.i32[cacheOwnerWord(b)] = 0;
        const used = usedWord(m, b);
        if (--m.i32[used] === 0) becameEmpty(m, used - P.USED);
        m.i32[linkWord(b)] = m.i32[H.MID_FREE + cls];
        m.i32[H.MID_FREE + cls] = b;
        n++;
      }
    }
  } finally {
    unlock(m, H.MID_LOCK);
  }
  return n;
}
