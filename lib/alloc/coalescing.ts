/**
 * The coalescing mid tier (midTier "coalescing", preset current): every request from the tiny tier's
 * end up to `coalescingMaxRequest` (COALESCING_MAX_REQUEST unless set), in regions of arena pages, as
 * glibc keeps requests below its mmap threshold in its heap. Blocks are any multiple of 16 bytes with
 * boundary tags, a freed block merges with free neighbours at once, and malloc finds a free block in
 * O(1) by two-level segregated fit (TLSF, Masmano et al.): sizes fall in power-of-two ranges, each
 * split into 32 lists, with a bitmap of non-empty ranges and one of non-empty lists per range. A
 * region is carved from its start upward (its "top", as sbrk moves): only carved bytes are touched. A
 * free block that ends at the top lowers the top, and touched bytes more than the trim threshold above
 * it are given back (they stay in the heap's resident bytes). The threshold rises as glibc's does: to
 * twice the largest block freed into a top, from TRIM_BYTES.
 *
 * A block at b (16-aligned) has its user pointer at b + 8, as glibc's chunks do:
 *   word at b       the size of the block before it, while that block is free (its boundary tag);
 *                   while that block is live, the last four of its user bytes
 *   word at b + 4   this block's size | FREE | PREV_FREE, with the header byte, MID_LIVE or MID_FREE,
 *                   as its top byte (at b + 7 = ptr - 1; user pointers here are 8 mod 16, the class
 *                   mid tier's 1 mod 512 and tiny ones 1 mod 8, so one header value serves every tier)
 *   word at b + 8   free: the next block on its list
 *   word at b + 12  free: the previous block on its list
 * A live block of S bytes lends S - 4 to its user (up to the next block's tag), so a block costs its
 * request 4 bytes and the rounding to 16; blocks are at least 16 bytes. A free block never touches
 * another free block or the top (they merge), so the block after a free one is always live; the last
 * block below a top reaches TAG bytes above it, and the region keeps them (see `reach`).
 *
 * Regions: each of their pages says KIND_COALESCING and names the first page (P.SPAN); the first
 * page's metadata holds the region's pages (P.CAPACITY), its top in bytes (P.CARVED), its touched
 * 4 KiB units (P.TOUCHED) and its links on the list at H.COALESCING_REGIONS, in address order (P.NEXT,
 * P.PREV). Every operation runs under the mid lock (a no-op on unshared heaps).
 */
import type { HeapMemory } from "./heap-memory";
import { HeapError, fmtPtr } from "./errors";
import * as header from "./header";
import * as layout from "./layout";
import * as pageArena from "./page-arena";
import * as sync from "./sync";

// Bound in this module as heap.ts binds its imports (it says why); for the same reason this module's
// exported constants are plain `const`s, exported at the end.
const { MID_FREE, MID_LIVE } = header;
const { COALESCING_LIST_COUNT, H, KIND_COALESCING, P, PAGE, PAGE_SHIFT, TOUCH_SHIFT, UNITS_PER_PAGE } = layout;
const { addTouched, allocPages, allocPagesAt, freePages, touchRun } = pageArena;
const { lock, unlock } = sync;

/** Bytes before a block's user pointer: a boundary tag and the size word with the header byte. */
const COALESCING_PREFIX = 8;
/** The next block's tag word, which a live block's user bytes run into. */
const TAG = 4;
/** Largest request the tier serves unless `coalescingMaxRequest` says; larger ones get page runs of their own (large.ts). */
const COALESCING_MAX_REQUEST = 256 * 1024 - COALESCING_PREFIX;
/** Smallest block (its size word and two links): a remainder below it stays with the block it was split from. */
const MIN_BLOCK = 16;
const FREE = 1;
const PREV_FREE = 2;
/** The size bits of a size word (at ptr - 4): blocks are multiples of 16 below 16 MiB (a region's largest). */
const SIZE_MASK = 0x00fffff0;
/** A free block's size word, less its size: FREE and the header MID_FREE. */
const FREE_WORD = (MID_FREE << 24) | FREE;
/** Largest region: its blocks' sizes must fit SIZE_MASK. */
const MAX_REGION_PAGES = (SIZE_MASK + 16) / PAGE - 1;
/** Largest `coalescingMaxRequest`: a block for it, with a region's tag above, fits the largest region. */
const COALESCING_REQUEST_LIMIT = (MAX_REGION_PAGES - 1) * PAGE;
/** Lists per power-of-two range (log2), and the sizes below which lists are 16 bytes apart. */
const SL_SHIFT = 5;
const SMALL_SIZES = 16 << SL_SHIFT;
/** Pages a new region takes when it can (a larger request takes what it needs). */
const REGION_PAGES = 16;
/**
 * How many times a moved block's bytes the last freed block must have to take it (coalescingMallocToGrow):
 * with 2, python3's json.tool copied 2.3 MB a pass, and no trace held more than 8 KiB more at its
 * peak; with 4, as many bytes copied and 96 KiB more on python3's big list (docs/footprint.md).
 */
const ROOM_TO_GROW = 2;
/**
 * Most spare blocks a free block gives a thread's cache (as glibc stashes blocks of a bin into its
 * tcache, up to its count of 7); a top gives up to the caller's count.
 */
const SPLIT_SPARE_MAX = 7;
/**
 * Touched bytes above a region's top kept before they are given back, until a larger block is freed
 * into a top (H.COALESCING_TRIM): glibc's trim threshold starts here and rises to twice its mmap
 * threshold, which rises to the largest mapped chunk freed. Without the rise, a program that frees
 * and takes again a block above half of it at a top (gs-pages, 172 KB a page) gives its bytes back
 * and counts them touched again each time.
 */
const TRIM_BYTES = 128 * 1024;

/** Touched bytes above a top the tier keeps (H.COALESCING_TRIM, from TRIM_BYTES). */
function trimThreshold(i32: Int32Array): number {
  return i32[H.COALESCING_TRIM] || TRIM_BYTES;
}

/** Index of the free list for blocks of `size` bytes: range * 32 + list. */
function listIndex(size: number): number {
  if (size < SMALL_SIZES) return size >>> 4;
  const range = 31 - Math.clz32(size);
  return ((range - 8) << SL_SHIFT) | ((size >>> (range - SL_SHIFT)) & 31);
}

/** Index of the lowest set bit of a non-zero word. */
function lowestBit(bits: number): number {
  return 31 - Math.clz32(bits & -bits);
}

/** The bytes of a block, header and tags included, that serves a request of `size` bytes. */
function blockBytesFor(size: number): number {
  const need = (size + TAG + 15) & ~15;
  return need < MIN_BLOCK ? MIN_BLOCK : need;
}

/** Bytes of the block at base `b`, read off its size word. */
function sizeOf(i32: Int32Array, b: number): number {
  return i32[(b >> 2) + 1] & SIZE_MASK;
}

/** Bytes of a region its blocks reach when its top is `top`: the last block's user bytes run TAG past it. */
function reach(top: number): number {
  return top === 0 ? 0 : top + TAG;
}

/**
 * Sets or clears PREV_FREE in the size word of the block at `b`, a live one (or one a thread's cache
 * holds). Its header byte shares the word and a thread's cache writes it without the mid lock
 * (coalescing-cache.ts), so on shared heaps the flag changes by an atomic or/and, which leaves that
 * byte as the other thread stored it; a plain read-modify-write could store back the header it read.
 */
function setPrevFree(m: HeapMemory, b: number, on: boolean): void {
  const w = (b >> 2) + 1;
  if (m.shared === true) {
    if (on) Atomics.or(m.i32, w, PREV_FREE);
    else Atomics.and(m.i32, w, ~PREV_FREE);
  } else if (on) m.i32[w] |= PREV_FREE;
  else m.i32[w] &= ~PREV_FREE;
}

function insertFree(m: HeapMemory, b: number, size: number): void {
  const i32 = m.i32;
  const idx = listIndex(size);
  const head = i32[H.COALESCING_HEADS + idx];
  i32[(b >> 2) + 2] = head;
  i32[(b >> 2) + 3] = 0;
  if (head !== 0) i32[(head >> 2) + 3] = b;
  i32[H.COALESCING_HEADS + idx] = b;
  i32[H.COALESCING_LISTS + (idx >> SL_SHIFT)] |= 1 << (idx & 31);
  i32[H.COALESCING_RANGES] |= 1 << (idx >> SL_SHIFT);
}

function removeFree(m: HeapMemory, b: number, size: number): void {
  const i32 = m.i32;
  if (b === i32[H.COALESCING_LAST_FREED]) i32[H.COALESCING_LAST_FREED] = 0;
  const next = i32[(b >> 2) + 2];
  const prev = i32[(b >> 2) + 3];
  if (next !== 0) i32[(next >> 2) + 3] = prev;
  if (prev !== 0) {
    i32[(prev >> 2) + 2] = next;
    return;
  }
  const idx = listIndex(size);
  i32[H.COALESCING_HEADS + idx] = next;
  if (next !== 0) return;
  const range = idx >> SL_SHIFT;
  if ((i32[H.COALESCING_LISTS + range] &= ~(1 << (idx & 31))) === 0) i32[H.COALESCING_RANGES] &= ~(1 << range);
}

/** A free block of at least `need` bytes, still on its list; 0 when there is none. */
function findFree(m: HeapMemory, need: number): number {
  const i32 = m.i32;
  const idx = listIndex(need);
  // The list `need` falls in may hold a block large enough at its head: a better fit than the next list's.
  const head = i32[H.COALESCING_HEADS + idx];
  if (head !== 0 && sizeOf(i32, head) >= need) return head;
  let range = idx >> SL_SHIFT;
  const list = (idx & 31) + 1;
  let lists = list < 32 ? i32[H.COALESCING_LISTS + range] & (-1 << list) : 0;
  if (lists === 0) {
    const ranges = range < 31 ? i32[H.COALESCING_RANGES] & (-1 << (range + 1)) : 0;
    if (ranges === 0) return 0;
    range = lowestBit(ranges);
    lists = i32[H.COALESCING_LISTS + range];
  }
  return i32[H.COALESCING_HEADS + (range << SL_SHIFT) + lowestBit(lists)];
}

/** The first page of the region holding byte `b`. */
function regionOf(m: HeapMemory, b: number): number {
  return m.i32[m.meta(b >>> PAGE_SHIFT) + P.SPAN];
}

/**
 * Makes the free block `b` of `size` bytes (off its list) serve `need` bytes: the rest, when it is a
 * block's worth, goes back as a free block; else the block after it learns its neighbour is live.
 */
function takeFree(m: HeapMemory, b: number, size: number, need: number): void {
  const i32 = m.i32;
  if (size - need >= MIN_BLOCK) {
    const rest = b + need;
    const restSize = size - need;
    i32[(rest >> 2) + 1] = restSize | FREE_WORD;
    i32[(b + size) >> 2] = restSize;
    insertFree(m, rest, restSize);
    i32[(b >> 2) + 1] = need;
  } else {
    setPrevFree(m, b + size, false);
    i32[(b >> 2) + 1] = size;
  }
}

/** Counts the bytes its blocks reach below and at a region's top as touched. */
function touchUpTo(m: HeapMemory, first: number, top: number): void {
  const units = (reach(top) + (1 << TOUCH_SHIFT) - 1) >> TOUCH_SHIFT;
  // Checked here, so the call is left for a top rising past its touched bytes: mostly it rises through
  // bytes a block freed into it left touched.
  if (units > m.i32[m.meta(first) + P.TOUCHED]) touchRun(m, first, units);
}

/**
 * A block of `need` bytes carved at the top of the lowest region with room (growing one or mapping one
 * when none has); 0 when out of memory. With `writeNew` false, only where the bytes have been written
 * before (0 when no region has them): carving there adds nothing to the heap's resident bytes.
 */
function carveTop(m: HeapMemory, need: number, writeNew: boolean): number {
  const i32 = m.i32;
  let first = 0;
  for (let r = i32[H.COALESCING_REGIONS]; r !== 0; r = i32[m.meta(r) + P.NEXT]) {
    const head = m.meta(r);
    const room = writeNew === true ? i32[head + P.CAPACITY] << PAGE_SHIFT : writtenReach(m, r, head);
    if (reach(i32[head + P.CARVED] + need) <= room) {
      first = r;
      break;
    }
  }
  if (first === 0 && writeNew !== true) return 0;
  if (first === 0) first = growRegion(m, need);
  if (first === 0) first = newRegion(m, need);
  if (first === 0) return 0;
  const head = m.meta(first);
  const top = i32[head + P.CARVED];
  const b = (first << PAGE_SHIFT) + top;
  i32[(b >> 2) + 1] = need;
  i32[head + P.CARVED] = top + need;
  touchUpTo(m, first, top + need);
  return b;
}

/**
 * Bytes from region `first`'s start its pages have had written (P.WRITTEN), at least its touched ones.
 * A top that fell and gave its touched bytes back rises again through them without writing memory
 * never written: a thread's cache need not go back to the tier for it (heap.ts mallocCacheMiss).
 */
function writtenReach(m: HeapMemory, first: number, head: number): number {
  const i32 = m.i32;
  const end = first + i32[head + P.CAPACITY];
  let units = i32[head + P.TOUCHED];
  for (let p = first + Math.floor(units / UNITS_PER_PAGE); p < end; p++) {
    const written = i32[m.meta(p) + P.WRITTEN];
    const start = (p - first) * UNITS_PER_PAGE;
    if (start + written <= units) break;
    units = start + written;
    if (written < UNITS_PER_PAGE) break;
  }
  return units << TOUCH_SHIFT;
}

/** Grows a region whose top is too low for `need` by the free pages after it; its first page, or 0. */
function growRegion(m: HeapMemory, need: number): number {
  for (let r = m.i32[H.COALESCING_REGIONS]; r !== 0; r = m.i32[m.meta(r) + P.NEXT]) {
    if (extendRegion(m, r, m.i32[m.meta(r) + P.CARVED] + need)) return r;
  }
  return 0;
}

/**
 * Makes the region at `first` reach a top of `top` bytes, taking the free arena pages after it when it
 * must; false when they are not free or the region would grow past its largest.
 */
function extendRegion(m: HeapMemory, first: number, top: number): boolean {
  const head = m.meta(first);
  const pages = m.i32[head + P.CAPACITY];
  const more = Math.ceil(reach(top) / PAGE) - pages;
  if (more <= 0) return true;
  if (pages + more > MAX_REGION_PAGES || !allocPagesAt(m, first + pages, more)) return false;
  markRegionPages(m, first, first + pages, first + pages + more);
  m.i32[head + P.CAPACITY] = pages + more;
  return true;
}

function markRegionPages(m: HeapMemory, first: number, from: number, to: number): void {
  for (let p = from; p < to; p++) {
    m.i32[m.meta(p) + P.KIND] = KIND_COALESCING;
    m.i32[m.meta(p) + P.SPAN] = first;
  }
}

/** Maps a region for at least `need` bytes and puts it on the list in address order; its first page, or 0. */
function newRegion(m: HeapMemory, need: number): number {
  const pages = Math.ceil(reach(need) / PAGE);
  let first = pages < REGION_PAGES ? allocPages(m, REGION_PAGES) : 0;
  const got = first !== 0 ? REGION_PAGES : pages;
  if (first === 0) first = allocPages(m, pages);
  if (first === 0) return 0;
  markRegionPages(m, first, first, first + got);
  const i32 = m.i32;
  const head = m.meta(first);
  i32[head + P.CAPACITY] = got;
  i32[head + P.CARVED] = 0;
  i32[head + P.TOUCHED] = 0;
  // The list is in address order, so a carve takes the lowest region with room: an older region's
  // bytes written above its fallen top serve before a newer region's untouched ones (redis-server on
  // `current`, newest first: 216 KiB more resident).
  let prev = 0;
  let next = i32[H.COALESCING_REGIONS];
  while (next !== 0 && next < first) {
    prev = next;
    next = i32[m.meta(next) + P.NEXT];
  }
  i32[head + P.NEXT] = next;
  i32[head + P.PREV] = prev;
  if (next !== 0) i32[m.meta(next) + P.PREV] = first;
  if (prev !== 0) i32[m.meta(prev) + P.NEXT] = first;
  else i32[H.COALESCING_REGIONS] = first;
  return first;
}

/**
 * A user pointer to a block for `size` bytes (at most the heap's `coalescingMaxRequest`), or 0 when out of memory;
 * with `writeNew` false, also 0 when serving it would write bytes never written (the heap's resident
 * bytes would grow). With `spare`, a block carved at a top brings up to `spareMax` more of its size
 * while the region has touched bytes for them (see carveSpare): a thread's cache fills in one call
 * while a program grows.
 */
export function coalescingMalloc(m: HeapMemory, size: number, writeNew = true, spare: Int32Array | null = null, spareMax = 0): number {
  // Unshared heaps skip the lock and the try/finally, whose bookkeeping V8 keeps even where the lock
  // does nothing (with it, removeFree and setPrevFree were calls too: docs/footprint.md).
  if (m.shared !== true) return mallocLocked(m, size, writeNew, spare, spareMax);
  lock(m, H.MID_LOCK);
  try {
    return mallocLocked(m, size, writeNew, spare, spareMax);
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

function mallocLocked(m: HeapMemory, size: number, writeNew: boolean, spare: Int32Array | null, spareMax: number): number {
  const need = blockBytesFor(size);
  if (spare !== null) spare[0] = 0;
  let b = findFree(m, need);
  if (b !== 0) {
    const free = sizeOf(m.i32, b);
    removeFree(m, b, free);
    // Spare blocks from a free block: at most SPLIT_SPARE_MAX, leaving at least a block's worth free.
    const extra = spare === null ? 0 : Math.min(spareMax, SPLIT_SPARE_MAX, Math.floor((free - need - MIN_BLOCK) / need));
    takeFree(m, b, free, need * (1 + (extra > 0 ? extra : 0)));
    if (extra > 0) splitSpare(m, b, need, extra, spare!);
  } else {
    b = carveTop(m, need, writeNew);
    if (b === 0) return 0;
    if (spare !== null) carveSpare(m, b, need, spare, spareMax);
  }
  m.u8[b + 7] = MID_LIVE;
  return b + COALESCING_PREFIX;
}

/**
 * The block at `b`, `need` * (1 + `extra`) bytes taken from a free block, cut into one of `need` bytes
 * and `extra` spare ones after it: their bases in spare[1..], their count in spare[0]. The spares are
 * live to the tier with the header MID_FREE, as a thread's cache keeps its blocks.
 */
function splitSpare(m: HeapMemory, b: number, need: number, extra: number, spare: Int32Array): void {
  const i32 = m.i32;
  i32[(b >> 2) + 1] = need;
  for (let k = 1; k <= extra; k++) {
    const x = b + k * need;
    i32[(x >> 2) + 1] = need | (MID_FREE << 24);
    spare[k] = x;
  }
  spare[0] = extra;
}

/**
 * Blocks of `need` bytes after `b`, just carved at its region's top, while the region's touched bytes
 * hold them: their bases in spare[1..], their count (at most `max`) in spare[0]. They are live to the
 * tier with the header MID_FREE, as a thread's cache keeps its blocks (coalescing-cache.ts).
 */
function carveSpare(m: HeapMemory, b: number, need: number, spare: Int32Array, max: number): void {
  const i32 = m.i32;
  const first = regionOf(m, b);
  const head = m.meta(first);
  const touched = i32[head + P.TOUCHED] << TOUCH_SHIFT;
  const base = first << PAGE_SHIFT;
  let top = i32[head + P.CARVED];
  let n = 0;
  while (n < max && reach(top + need) <= touched) {
    i32[((base + top) >> 2) + 1] = need | (MID_FREE << 24);
    spare[++n] = base + top;
    top += need;
  }
  i32[head + P.CARVED] = top;
  spare[0] = n;
}

/** Frees the live block at user pointer `ptr` (checked by the caller, or trusted as the header route trusts). */
export function coalescingFree(m: HeapMemory, ptr: number): void {
  if (m.shared !== true) return freeLocked(m, ptr - COALESCING_PREFIX); // as coalescingMalloc
  lock(m, H.MID_LOCK);
  try {
    freeLocked(m, ptr - COALESCING_PREFIX);
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

function freeLocked(m: HeapMemory, b: number): void {
  const i32 = m.i32;
  const first = regionOf(m, b);
  const head = m.meta(first);
  const base = first << PAGE_SHIFT;
  const word = i32[(b >> 2) + 1];
  let size = word & SIZE_MASK;
  m.u8[b + 7] = MID_FREE;
  let end = b + size;
  if (end !== base + i32[head + P.CARVED]) {
    const after = i32[(end >> 2) + 1];
    if ((after & FREE) !== 0) {
      const afterSize = after & SIZE_MASK;
      removeFree(m, end, afterSize);
      size += afterSize;
      end += afterSize;
    }
  }
  if ((word & PREV_FREE) !== 0) {
    const before = b - i32[b >> 2];
    const beforeSize = sizeOf(i32, before);
    removeFree(m, before, beforeSize);
    b = before;
    size += beforeSize;
  }
  if (end === base + i32[head + P.CARVED]) return lowerTop(m, first, b - base, word & SIZE_MASK);
  i32[(b >> 2) + 1] = size | FREE_WORD;
  i32[end >> 2] = size;
  setPrevFree(m, end, true);
  insertFree(m, b, size);
  i32[H.COALESCING_LAST_FREED] = b;
}

/**
 * The region's top falls to `top` as a block of `freed` bytes merges into it. Mostly that is all;
 * see trimTop for the rest.
 */
function lowerTop(m: HeapMemory, first: number, top: number, freed: number): void {
  const i32 = m.i32;
  const head = m.meta(first);
  i32[head + P.CARVED] = top;
  const trim = trimThreshold(m.i32);
  const pastTrim = (i32[head + P.TOUCHED] << TOUCH_SHIFT) - reach(top) > trim;
  if (top === 0 || pastTrim || 2 * freed > trim) trimTop(m, first, top, freed, trim, pastTrim);
}

/**
 * After a region's top fell to `top`: an empty region goes back whole unless it is the only one;
 * with `pastTrim` (touched bytes more than the trim threshold `trim` above the top) those bytes go
 * back; then the threshold rises to twice `freed` when that is more (after the check, as glibc gives
 * back the first mapped chunk of a size and keeps the next ones).
 */
function trimTop(m: HeapMemory, first: number, top: number, freed: number, trim: number, pastTrim: boolean): void {
  const i32 = m.i32;
  const head = m.meta(first);
  if (top === 0 && (i32[head + P.NEXT] !== 0 || i32[head + P.PREV] !== 0)) return releaseRegion(m, first);
  if (pastTrim) untouchAbove(m, head, top);
  if (2 * freed > trim) i32[H.COALESCING_TRIM] = 2 * freed;
}

function untouchAbove(m: HeapMemory, head: number, top: number): void {
  const units = (reach(top) + (1 << TOUCH_SHIFT) - 1) >> TOUCH_SHIFT;
  addTouched(m, units - m.i32[head + P.TOUCHED]);
  m.i32[head + P.TOUCHED] = units;
}

function releaseRegion(m: HeapMemory, first: number): void {
  const i32 = m.i32;
  const head = m.meta(first);
  const next = i32[head + P.NEXT];
  const prev = i32[head + P.PREV];
  if (prev !== 0) i32[m.meta(prev) + P.NEXT] = next;
  else i32[H.COALESCING_REGIONS] = next;
  if (next !== 0) i32[m.meta(next) + P.PREV] = prev;
  addTouched(m, -i32[head + P.TOUCHED]);
  freePages(m, first, i32[head + P.CAPACITY]);
}

/** Usable bytes of the live block at user pointer `ptr` (trusted). */
export function coalescingUsableSize(m: HeapMemory, ptr: number): number {
  return sizeOf(m.i32, ptr - COALESCING_PREFIX) - COALESCING_PREFIX + TAG;
}

/** Bytes of the block at user pointer `ptr` (trusted): its usable bytes and what the tier keeps for it. */
export function coalescingBlockSize(m: HeapMemory, ptr: number): number {
  return sizeOf(m.i32, ptr - COALESCING_PREFIX);
}

/**
 * Grows the live block at `ptr` to serve `size` bytes where it is: into the free block after it, or
 * by raising the top when it is the last block. False, changing nothing, when neither has room.
 */
export function coalescingGrowInPlace(m: HeapMemory, ptr: number, size: number): boolean {
  if (size > m.midMaxRequest) return false;
  if (m.shared !== true) return growInPlaceLocked(m, ptr - COALESCING_PREFIX, blockBytesFor(size)); // as coalescingMalloc
  lock(m, H.MID_LOCK);
  try {
    return growInPlaceLocked(m, ptr - COALESCING_PREFIX, blockBytesFor(size));
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

function growInPlaceLocked(m: HeapMemory, b: number, need: number): boolean {
  const i32 = m.i32;
  const first = regionOf(m, b);
  const head = m.meta(first);
  const base = first << PAGE_SHIFT;
  const word = i32[(b >> 2) + 1];
  const have = word & SIZE_MASK;
  const end = b + have;
  if (end === base + i32[head + P.CARVED]) {
    // The last block grows past its region's end too, where the arena's pages after it are free, as
    // glibc's mremap grows a block it mapped: a move leaves a hole of the old size. python3-json-regex's
    // buffer that grows by 1/8 from 95 to 800 KB moved at 12 of its 19 growths, now at 6.
    const top = b - base + need;
    if (!extendRegion(m, first, top)) return false;
    i32[(b >> 2) + 1] = need | (word & ~SIZE_MASK);
    i32[head + P.CARVED] = top;
    touchUpTo(m, first, top);
    return true;
  }
  const after = i32[(end >> 2) + 1];
  const afterSize = after & SIZE_MASK;
  if ((after & FREE) === 0 || have + afterSize < need) return false;
  removeFree(m, end, afterSize);
  takeFree(m, b, have + afterSize, need);
  i32[(b >> 2) + 1] |= word & ~SIZE_MASK;
  return true;
}

/**
 * A block for `size` bytes for a realloc that moves a growing block (`reallocRoomToGrow`): at the start
 * of the free block the tier's last free left (H.COALESCING_LAST_FREED), when that has ROOM_TO_GROW
 * times the block's bytes, so the rest stays free after it and the next reallocs grow it where it
 * is. python3's json.tool (not bundled) grows buffers from 608 to 8,800 bytes by an eighth at a
 * time, over and over: in glibc each starts where the last one was freed and grows there, 1 MB
 * copied a pass, where good fits here, with little room after each block, copied 10.9 MB. 0 when
 * that block is missing or too small: the caller mallocs as usual.
 */
export function coalescingMallocToGrow(m: HeapMemory, size: number): number {
  if (m.shared !== true) return mallocToGrowLocked(m, size); // as coalescingMalloc
  lock(m, H.MID_LOCK);
  try {
    return mallocToGrowLocked(m, size);
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

function mallocToGrowLocked(m: HeapMemory, size: number): number {
  const i32 = m.i32;
  const b = i32[H.COALESCING_LAST_FREED];
  if (b === 0) return 0;
  const need = blockBytesFor(size);
  const free = sizeOf(i32, b);
  if (free < need * ROOM_TO_GROW) return 0;
  removeFree(m, b, free);
  takeFree(m, b, free, need);
  m.u8[b + 7] = MID_LIVE;
  return b + COALESCING_PREFIX;
}

/**
 * Shrinks the live block at `ptr` to serve `size` bytes where it is, as glibc's realloc does: the rest,
 * when it is a block's worth, is freed, and merges with a free block or the top after it.
 */
export function coalescingShrinkInPlace(m: HeapMemory, ptr: number, size: number): void {
  const need = blockBytesFor(size);
  const b = ptr - COALESCING_PREFIX;
  lock(m, H.MID_LOCK);
  try {
    const i32 = m.i32;
    const word = i32[(b >> 2) + 1];
    const rest = (word & SIZE_MASK) - need;
    if (rest < MIN_BLOCK) return;
    i32[(b >> 2) + 1] = need | (word & ~SIZE_MASK);
    // The rest as a live block of its own (its neighbour below, this one, is live), then freed.
    i32[((b + need) >> 2) + 1] = rest | (MID_LIVE << 24);
    freeLocked(m, b + need);
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

/**
 * Gives back what the tier holds and no block uses: every empty region, the whole pages inside free
 * blocks (splitting their regions), the pages of each region above its top, and the touched bytes
 * above the top. For trim() and out of memory.
 */
export function trimCoalescing(m: HeapMemory): void {
  lock(m, H.MID_LOCK);
  try {
    const i32 = m.i32;
    // A split leaves the blocks above its free block a region of their own, the next to split (the
    // region split is gone when no block was below the free one).
    for (let r = i32[H.COALESCING_REGIONS]; r !== 0; ) {
      const upper = splitAtFreePages(m, r);
      r = upper !== 0 ? upper : i32[m.meta(r) + P.NEXT];
    }
    for (let r = i32[H.COALESCING_REGIONS]; r !== 0; ) {
      const head = m.meta(r);
      const next = i32[head + P.NEXT];
      const top = i32[head + P.CARVED];
      const keep = Math.ceil(reach(top) / PAGE);
      const had = i32[head + P.CAPACITY];
      if (keep === 0) {
        releaseRegion(m, r);
      } else {
        untouchAbove(m, head, top);
        if (keep < had) {
          freePages(m, r + keep, had - keep);
          i32[head + P.CAPACITY] = keep;
        }
      }
      r = next;
    }
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

/**
 * Splits region `first` at its first free block with a whole page or more inside: those pages go back
 * to the arena, the blocks below stay the region's (its top falls to the free block's start) and the
 * blocks above become a region of their own, the free block's bytes on their first page its first
 * block. Otherwise a region's pages below its top go back only when it empties, and no other tier can
 * have them: an 8 MiB heap with 150 KiB live (a 6 MiB block freed below it) refused malloc(8), as no
 * SuperSlab could be mapped. Trim only. Returns the first page of the region above, or 0 when none
 * of its free blocks has a whole page inside.
 */
function splitAtFreePages(m: HeapMemory, first: number): number {
  const i32 = m.i32;
  const head = m.meta(first);
  const base = first << PAGE_SHIFT;
  const top = i32[head + P.CARVED];
  for (let b = base; b < base + top; b += sizeOf(i32, b)) {
    if ((i32[(b >> 2) + 1] & FREE) === 0) continue;
    const size = sizeOf(i32, b);
    const end = b + size; // a live block starts here: a free block never ends at a top
    const below = Math.ceil(reach(b - base) / PAGE); // the pages the blocks below it reach
    const upper = end >>> PAGE_SHIFT; // the page the blocks above it start on
    if (upper <= first + below) continue;
    removeFree(m, b, size);
    const ub = upper << PAGE_SHIFT;
    if (end > ub) {
      i32[(ub >> 2) + 1] = (end - ub) | FREE_WORD;
      i32[end >> 2] = end - ub;
      insertFree(m, ub, end - ub);
    } else setPrevFree(m, end, false);
    const pages = i32[head + P.CAPACITY];
    const uhead = m.meta(upper);
    markRegionPages(m, upper, upper, first + pages);
    i32[uhead + P.CAPACITY] = first + pages - upper;
    i32[uhead + P.CARVED] = top - (ub - base);
    i32[uhead + P.TOUCHED] = i32[head + P.TOUCHED] - (upper - first) * UNITS_PER_PAGE;
    const next = i32[head + P.NEXT];
    i32[uhead + P.NEXT] = next;
    if (next !== 0) i32[m.meta(next) + P.PREV] = upper;
    if (below === 0) {
      const prev = i32[head + P.PREV];
      i32[uhead + P.PREV] = prev;
      if (prev !== 0) i32[m.meta(prev) + P.NEXT] = upper;
      else i32[H.COALESCING_REGIONS] = upper;
    } else {
      i32[uhead + P.PREV] = first;
      i32[head + P.NEXT] = upper;
      i32[head + P.CAPACITY] = below;
      i32[head + P.CARVED] = b - base;
      i32[head + P.TOUCHED] = below * UNITS_PER_PAGE;
    }
    const freed = upper - first - below;
    addTouched(m, -freed * UNITS_PER_PAGE);
    freePages(m, first + below, freed);
    return upper;
  }
  return 0;
}

/** A block of a region, as walked from its start: its base, bytes and whether it is free. */
export interface CoalescingBlock {
  base: number;
  size: number;
  free: boolean;
}

/** Calls `visit` for each region (its first page, top and touched units) and each of its blocks. */
export function walkCoalescing(
  m: HeapMemory,
  visit: { region?(first: number, top: number, touchedUnits: number, pages: number): void; block?(block: CoalescingBlock): void },
): void {
  const i32 = m.i32;
  for (let r = i32[H.COALESCING_REGIONS]; r !== 0; r = i32[m.meta(r) + P.NEXT]) {
    const head = m.meta(r);
    const base = r << PAGE_SHIFT;
    const top = i32[head + P.CARVED];
    visit.region?.(r, top, i32[head + P.TOUCHED], i32[head + P.CAPACITY]);
    for (let b = base; b < base + top; ) {
      const size = sizeOf(i32, b);
      if (size < MIN_BLOCK) throw new HeapError("HEAP_CORRUPT", `coalescing mid tier: region at page ${r}: block ${fmtPtr(b)} has size ${size}`);
      visit.block?.({ base: b, size, free: (i32[(b >> 2) + 1] & FREE) !== 0 });
      b += size;
    }
  }
}

/**
 * Null when `ptr` is the user pointer of a live block of the tier, else why not. Walks the region
 * from its start (no tag inside a block can be told from user data), under the mid lock (another
 * thread may be splitting or merging blocks of the region), so it serves the validating routes only:
 * refusals, usableSize, aligned blocks' carriers and the debug build.
 */
export function coalescingRefusal(m: HeapMemory, ptr: number): string | null {
  lock(m, H.MID_LOCK);
  try {
    return refusalLocked(m, ptr);
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

function refusalLocked(m: HeapMemory, ptr: number): string | null {
  const i32 = m.i32;
  const b = ptr - COALESCING_PREFIX;
  const meta = m.meta(b >>> PAGE_SHIFT);
  if (b < 0 || i32[meta + P.KIND] !== KIND_COALESCING) return "not a block returned by malloc";
  const base = i32[meta + P.SPAN] << PAGE_SHIFT;
  const top = base + i32[m.meta(i32[meta + P.SPAN]) + P.CARVED];
  for (let x = base; x < top; ) {
    const size = sizeOf(i32, x);
    if (size < MIN_BLOCK) return "not a block returned by malloc (its region is corrupt)";
    if (b < x + size) {
      if (x !== b) return `interior pointer, ${ptr - x - COALESCING_PREFIX} bytes into the ${size - COALESCING_PREFIX + TAG}-byte mid block at ${fmtPtr(x + COALESCING_PREFIX)}`;
      return (i32[(x >> 2) + 1] & FREE) !== 0 ? "block is free" : null;
    }
    x += size;
  }
  return "not a block returned by malloc (above its region's top)";
}

/** Why the tier's free lists, bitmaps and regions disagree, or null: for check(). */
export function coalescingInconsistency(m: HeapMemory): string | null {
  const i32 = m.i32;
  const onLists = new Map<number, number>();
  for (let idx = 0; idx < COALESCING_LIST_COUNT; idx++) {
    const range = idx >> SL_SHIFT;
    const listed = (i32[H.COALESCING_LISTS + range] & (1 << (idx & 31))) !== 0;
    if (listed !== (i32[H.COALESCING_HEADS + idx] !== 0)) return `free list ${idx}: its bitmap bit says ${listed ? "" : "not "}in use`;
    if (((i32[H.COALESCING_RANGES] >> range) & 1) !== (i32[H.COALESCING_LISTS + range] !== 0 ? 1 : 0)) return `range ${range}: its bitmap bit disagrees with its lists`;
    let prev = 0;
    for (let b = i32[H.COALESCING_HEADS + idx]; b !== 0; b = i32[(b >> 2) + 2]) {
      if (onLists.has(b)) return `free block ${fmtPtr(b)} is on a list twice (or a list has a cycle)`;
      if (i32[(b >> 2) + 3] !== prev) return `free block ${fmtPtr(b)}: its back link is ${i32[(b >> 2) + 3]}, not ${prev}`;
      if (listIndex(sizeOf(i32, b)) !== idx) return `free block ${fmtPtr(b)} of ${sizeOf(i32, b)} bytes is on list ${idx}`;
      onLists.set(b, idx);
      prev = b;
    }
  }
  const lastFreed = i32[H.COALESCING_LAST_FREED];
  if (lastFreed !== 0 && !onLists.has(lastFreed)) return `the last freed block ${fmtPtr(lastFreed)} is on no free list`;
  let why: string | null = null;
  let previousFree = false;
  let previousSize = 0;
  let touchedBad = "";
  let regionTop = 0;
  let lastRegion = 0;
  walkCoalescing(m, {
    region(first, top, units, pages) {
      if (first <= lastRegion) touchedBad = `region at page ${first} is listed after the region at page ${lastRegion}, out of address order`;
      lastRegion = first;
      previousFree = false;
      regionTop = (first << PAGE_SHIFT) + top;
      if (reach(top) > pages * PAGE) touchedBad = `region at page ${first}: top ${top} beyond its ${pages} pages`;
      if (units << TOUCH_SHIFT < reach(top)) touchedBad = `region at page ${first}: ${units} touched units below its top ${top}`;
      for (let p = first; p < first + pages; p++) {
        if (i32[m.meta(p) + P.KIND] !== KIND_COALESCING || i32[m.meta(p) + P.SPAN] !== first) touchedBad = `page ${p} of the region at page ${first} is not marked as its`;
      }
    },
    block({ base, size, free }) {
      if (why !== null) return;
      const word = i32[(base >> 2) + 1];
      const header = m.u8[base + 7];
      if (((word & PREV_FREE) !== 0) !== previousFree) why = `block ${fmtPtr(base)}: PREV_FREE disagrees with the block before it`;
      else if (previousFree && i32[base >> 2] !== previousSize) why = `block ${fmtPtr(base)}: the tag of the free block before it says ${i32[base >> 2]}, not ${previousSize}`;
      else if (free && previousFree) why = `blocks before ${fmtPtr(base)}: two free blocks side by side`;
      else if (free && base + size === regionTop) why = `free block ${fmtPtr(base)} ends at its region's top`;
      else if (free !== onLists.has(base)) why = `block ${fmtPtr(base)} is ${free ? "free but on no list" : "live but on a free list"}`;
      // A block a thread's cache holds is live to the tier with the header MID_FREE (coalescing-cache.ts).
      else if (free ? header !== MID_FREE : header !== MID_LIVE && header !== MID_FREE) why = `block ${fmtPtr(base)}: header byte 0x${header.toString(16)} for a ${free ? "free" : "live"} block`;
      onLists.delete(base);
      previousFree = free;
      previousSize = size;
    },
  });
  if (why === null && touchedBad !== "") why = touchedBad;
  if (why === null && onLists.size > 0) why = `free block ${fmtPtr([...onLists.keys()][0])} is on a list but in no region`;
  return why;
}

export { blockBytesFor, sizeOf, trimThreshold, COALESCING_MAX_REQUEST, COALESCING_PREFIX, COALESCING_REQUEST_LIMIT, SIZE_MASK };
