/**
 * The tiny tier's slow path between a thread's front list and its slabs. Refill moves a batch into
 * the front list: remote frees first, then the slab freelist (or, into an empty list, the whole
 * freelist at once: tinyRefillWholeFreelist), then fresh blocks carved off the slab.
 * Spill moves half a full front list back to the slabs, giving empty slabs back to the shared pool.
 * Before a class's first slab, blocks of the coalescing mid tier may serve it (tinySlabAfterBytes),
 * each with the class's tiny header: a class a program uses little then pins no slab page. And before
 * a slab writes memory never written, a block of the next class up or the coalescing tier's written
 * bytes may serve the malloc instead.
 */
import type { Heap } from "./heap";
import type { HeapMemory } from "./heap-memory";
import * as header from "./header";
import * as layout from "./layout";
import { acquireFreshSlot, acquireReusedSlot, acquireSlot, releaseSlot } from "./shared-pool";
import { isPartialOf, slabGotBlocksBack } from "./slab-lists";
import { carve, formatSlab } from "./superslab";
import { adoptOrphans, drainRemoteFrees } from "./remote-free";
import { adoptAbandoned } from "./abandoned";
import { coalescingFree, coalescingMalloc } from "./coalescing";

// Bound in this module as heap.ts binds its imports (it says why): spill returns every block it
// spills to its slab, and refill takes them back (python3-json-regex: 200k blocks each way a pass).
const { linkWord, tierBlockOf, TINY_FREE, TINY_IN_TIER_OFFSET, TINY_LIVE } = header;
const { FLAG_IN_PARTIAL, H, KIND_COALESCING, P, PAGE_SHIFT, STAT, TOUCH_SHIFT } = layout;

/**
 * Per tiny class, the blocks of the coalescing tier it takes before its first slab: tinySlabAfterBytes
 * bytes of them, counted for the whole heap (a thread that attaches later does not pay them again).
 * None with the classes mid tier.
 */
export function initBeforeSlab(m: HeapMemory): void {
  const c = m.config;
  for (let cls = 0; cls <= c.tinyMaxClass; cls++) {
    m.i32[H.TINY_BEFORE_SLAB + cls] = m.coalescing ? Math.ceil(c.tinySlabAfterBytes / c.tinyClasses[cls]) : 0;
  }
}

/** Whether a refill of `cls` takes a block of the coalescing tier, the class having no slab yet: takes one from its count. */
function takeBeforeSlab(m: HeapMemory, cls: number): boolean {
  const at = H.TINY_BEFORE_SLAB + cls;
  if (m.i32[at] <= 0) return false;
  if (m.shared) return Atomics.sub(m.i32, at, 1) > 0;
  m.i32[at]--;
  return true;
}

/**
 * Bytes of tiny blocks in the tier one refill takes at most (at least one block): a class a program
 * uses for one block takes little more, and refill runs about as often as it does on slabs. Taken one
 * block a refill, refillAndPop ran at most mallocs of gcc-cc1's first pass, and V8 compiled it into
 * the replay loop in place of pushFree (158.4 allocator instructions an op against 110.5).
 */
const IN_TIER_REFILL_BYTES = 1024;

/**
 * Moves tiny blocks in blocks of the coalescing tier onto the empty front list of `cls`, a class with
 * no slab yet (tinySlabAfterBytes): up to `want`, IN_TIER_REFILL_BYTES of them, and the class's count.
 * Each block carries its class's tiny header TINY_IN_TIER_OFFSET bytes into its tier block, so free
 * puts it back on the front list as any tiny block; spill gives it back to the tier. Not blocks free
 * sends to the tier: that keeps free's coalescing branch hot from the first pass, and V8 compiles
 * that branch into free (perl-words: 100.6 allocator instructions an op against 73.0,
 * docs/footprint.md). Returns how many; 0 once the count is spent or the tier is out of memory.
 */
function refillInTier(heap: Heap, cls: number, want: number): number {
  const m = heap.mem;
  const size = heap.blockSize[cls];
  const most = Math.min(want, Math.max(1, Math.floor(IN_TIER_REFILL_BYTES / size)));
  let head = 0;
  let n = 0;
  while (n < most && takeBeforeSlab(m, cls)) {
    const tier = coalescingMalloc(m, TINY_IN_TIER_OFFSET + size);
    if (tier === 0) break;
    const b = tier + TINY_IN_TIER_OFFSET;
    m.u8[tier] = cls; // for the validating routes (free-route.ts); no header byte, which free could take for one
    m.u8[b] = TINY_FREE | cls;
    m.i32[linkWord(b)] = head;
    head = b;
    n++;
  }
  if (n === 0) return 0;
  heap.heads[cls] = head;
  heap.counts[cls] = n; // the list was empty: whatever takenWhole a whole refill left is used up
  heap.takenWhole[cls] = 0;
  heap.stat[STAT.refills]++;
  heap.stat[STAT.refill_blocks] += n;
  return n;
}

/**
 * Pushes up to `want` blocks of class `cls` onto the list (`heap.heads[cls]`, counted in
 * `heap.counts[cls]`), or a slab's whole freelist (takeFromSlab). Returns how many; 0 means the heap
 * is out of memory for this class. A negative result is the user pointer, negated, of a live block
 * the malloc takes instead, the list left empty: one of the next class up (tinyBorrowNextClass), or
 * one of the coalescing tier for `size` bytes, the malloc's request (tinyTakeWrittenCoalescing). Before
 * the class's first slab, the blocks may be tiny blocks in the coalescing tier (refillInTier). `size`
 * -1: the caller takes none of these.
 */
export function refill(heap: Heap, cls: number, want: number, size = -1): number {
  const m = heap.mem;
  if (size >= 0) {
    const inTier = refillInTier(heap, cls, want);
    if (inTier > 0) return inTier;
  }
  if (heap.remotePending()) drainRemoteFrees(heap);
  const reuseFirst = m.config.tinyReuseBeforeWrite;
  const borrow = m.config.tinyBorrowNextClass;
  const takeWritten = size >= 0 && m.coalescing && m.config.tinyTakeWrittenCoalescing;
  for (;;) {
    const page = heap.current[cls];
    if (page !== 0) {
      if ((reuseFirst || borrow || takeWritten) && wouldWriteNewUnit(m, page, heap.blockSize[cls])) {
        if (reuseFirst && switchToPartialWithBlocks(heap, cls, page)) continue;
        const borrowed = borrow ? borrowNextClass(heap, cls) : 0;
        if (borrowed !== 0) return -borrowed;
        // Bytes the coalescing tier has written and holds free (a free block, or touched bytes above a
        // top) before a unit never written: a tier's fallen peak serves the other's growth, as one
        // glibc heap's top serves any size (python3-json-regex: 660 KiB less resident).
        const written = takeWritten ? coalescingMalloc(m, size, false) : 0;
        if (written !== 0) return -written;
      }
      const got = takeFromSlab(heap, page, cls, want);
      if (got > 0) {
        heap.stat[STAT.refills]++;
        heap.stat[STAT.refill_blocks] += got;
        return got;
      }
    }
    const next = nextSlab(heap, cls);
    if (next === 0) {
      heap.stat[STAT.oom]++;
      return 0;
    }
    heap.current[cls] = next;
    if (page !== 0 && m.i32[m.meta(page) + P.USED] === 0) releaseSlot(m, heap, page);
  }
}

/** Whether the slab has no free block and its next carve would write a 4 KiB unit its page never had written. */
function wouldWriteNewUnit(m: HeapMemory, page: number, blockSize: number): boolean {
  const meta = m.meta(page);
  const i32 = m.i32;
  if (i32[meta + P.FREELIST] !== 0) return false;
  const carved = i32[meta + P.CARVED];
  return carved < i32[meta + P.CAPACITY] && (carved + 1) * blockSize > i32[meta + P.WRITTEN] << TOUCH_SHIFT;
}

/**
 * A free block of the next class up, for a malloc of `cls` whose current slab would write a unit never
 * written and no partial slab of its class has a free block (tinyBorrowNextClass). The block comes off
 * the freelist of the next class's current slab; when that is empty, a partly free slab of that class
 * with free blocks becomes its current one first, as that class's own refill would do. Not off its
 * front list, whose blocks it is about to reuse. The block keeps its own class's header, so free takes
 * it home. Returns its user pointer, or 0.
 */
function borrowNextClass(heap: Heap, cls: number): number {
  const next = cls + 1;
  if (next >= heap.blockSize.length) return 0;
  const page = heap.current[next];
  if (page === 0) return 0;
  if (heap.mem.i32[heap.mem.meta(page) + P.FREELIST] === 0 && !switchToPartialWithBlocks(heap, next, page)) return 0;
  return takeOffFreelist(heap, heap.current[next], next);
}

/** Takes the first block off the freelist of `page`, a slab of `cls` with one, as a live block; its user pointer. */
function takeOffFreelist(heap: Heap, page: number, cls: number): number {
  const m = heap.mem;
  const meta = m.meta(page);
  const b = m.i32[meta + P.FREELIST];
  m.i32[meta + P.FREELIST] = m.i32[linkWord(b)];
  m.i32[meta + P.USED]++;
  m.u8[b] = TINY_LIVE | cls;
  return b + 1;
}

/**
 * Makes a partly free slab of `cls` with blocks on its freelist the current one, before `current`
 * writes memory never written: the current slab goes onto the partial list, to carve later. Stale
 * entries met on the way are dropped. False when no listed slab has free blocks.
 */
function switchToPartialWithBlocks(heap: Heap, cls: number, current: number): boolean {
  const m = heap.mem;
  const i32 = m.i32;
  const list = heap.partial[cls];
  for (let k = list.length - 1; k >= 0; k--) {
    const page = list[k];
    if (!isPartialOf(heap, page, cls)) {
      list.splice(k, 1);
      continue;
    }
    if (i32[m.meta(page) + P.FREELIST] === 0) continue;
    list.splice(k, 1);
    i32[m.meta(page) + P.FLAGS] &= ~FLAG_IN_PARTIAL;
    i32[m.meta(current) + P.FLAGS] |= FLAG_IN_PARTIAL;
    list.unshift(current);
    heap.current[cls] = page;
    return true;
  }
  return false;
}

/**
 * Moves up to `want` blocks from the slab (freelist, then carving) onto the front list; or, with
 * tinyRefillWholeFreelist, into an empty list the slab's whole freelist, however long.
 */
function takeFromSlab(heap: Heap, page: number, cls: number, want: number): number {
  const m = heap.mem;
  const i32 = m.i32;
  const meta = m.meta(page);
  let head = heap.heads[cls];
  if (head === 0 && m.config.tinyRefillWholeFreelist) {
    // The list is empty: whatever takenWhole the last whole refill left is used up.
    heap.counts[cls] = 0;
    heap.takenWhole[cls] = 0;
    const free = i32[meta + P.CARVED] - i32[meta + P.USED];
    if (free > 0) return takeWholeFreelist(heap, meta, cls, free);
  }
  let b = i32[meta + P.FREELIST];
  let n = 0;
  while (b !== 0 && n < want) {
    const next = i32[linkWord(b)];
    i32[linkWord(b)] = head;
    head = b;
    b = next;
    n++;
  }
  i32[meta + P.FREELIST] = b;
  if (n === 0 || (n < want && !(m.config.tinyReuseBeforeWrite && wouldWriteNewUnit(m, page, heap.blockSize[cls])))) {
    const before = i32[meta + P.CARVED];
    head = carve(m, page, heap.blockSize[cls], TINY_FREE | cls, want - n, head);
    n += i32[meta + P.CARVED] - before;
  }
  i32[meta + P.USED] += n;
  heap.heads[cls] = head;
  heap.counts[cls] += n;
  return n;
}

/**
 * Makes the slab's freelist (`free` blocks: all it has not handed out) the empty front list of `cls`,
 * without a walk. Walking `refillCount` blocks off it was a chain of dependent loads of blocks long
 * out of cache: on python3-json-regex, 400k blocks a pass came back this way, and its refills took
 * 5% of the replay's samples (docs/footprint.md "Refill: a slab's whole freelist"). The blocks are
 * left out of `counts` (heap.ts takenWhole), so the next frees do not spill them straight back.
 */
function takeWholeFreelist(heap: Heap, meta: number, cls: number, free: number): number {
  const i32 = heap.mem.i32;
  heap.heads[cls] = i32[meta + P.FREELIST];
  i32[meta + P.FREELIST] = 0;
  i32[meta + P.USED] += free;
  heap.takenWhole[cls] = free;
  return free;
}

/**
 * The next slab to serve `cls`: one of this thread's partly free slabs (orphans adopted first), else
 * one a detached thread abandoned, else a slot from the pool.
 */
function nextSlab(heap: Heap, cls: number): number {
  const m = heap.mem;
  const partial = heap.partial[cls];
  while (partial.length > 0) {
    const page = partial.pop()!;
    if (!isPartialOf(heap, page, cls)) continue; // stale entry: the slab left this list meanwhile
    m.i32[m.meta(page) + P.FLAGS] &= ~FLAG_IN_PARTIAL;
    return page;
  }
  adoptOrphans(heap);
  if (partial.length > 0) return nextSlab(heap, cls);
  const adopted = adoptAbandoned(heap, cls);
  if (adopted !== 0) return adopted;
  const page = m.config.tinyFreshSlabLast ? reusedElseFreshSlot(heap, cls) : acquireSlot(m, heap, cls);
  if (page !== 0) formatSlab(m, page, cls, heap.blockSize[cls], heap.tid);
  return page;
}

/**
 * A slot for `cls` that has been written before, else a never-used one (tinyFreshSlabLast). Before the
 * latter, this thread's other front lists go back to their slabs: a list of a class the program has
 * left holds a block or more on each of its slabs, so none could go EMPTY (perl's regex substitutions
 * over text: its 256-byte class held 1 KiB live on 15 slabs, 920 KiB written; docs/footprint.md).
 */
function reusedElseFreshSlot(heap: Heap, cls: number): number {
  const m = heap.mem;
  const reused = acquireReusedSlot(m, heap, cls);
  if (reused !== 0) return reused;
  return (spillFrontLists(heap, cls) ? acquireReusedSlot(m, heap, cls) : 0) || acquireFreshSlot(m, heap, cls);
}

/** Moves every block on this thread's tiny front lists but `except`'s (-1: none) back to its slab; whether any moved. */
export function spillFrontLists(heap: Heap, except: number): boolean {
  let moved = false;
  for (let cls = 0; cls < heap.blockSize.length; cls++) {
    if (cls === except || heap.frontLength(cls) === 0) continue;
    spill(heap, cls, heap.frontLength(cls));
    moved = true;
  }
  return moved;
}

/**
 * Moves `n` blocks from the front list of `cls` back to their slabs, or to the coalescing tier for a
 * block it holds (refillInTier). Blocks freed together mostly share a slab, so each run of them on
 * one slab is linked onto its freelist as one: the slab's count and state are settled once a run, not
 * once a block. The freelist ends as pushing block by block would leave it. What stays on the list is
 * counted in full from here on (no takenWhole).
 */
export function spill(heap: Heap, cls: number, n: number): void {
  const m = heap.mem;
  const i32 = m.i32;
  let b = heap.heads[cls];
  let k = 0;
  while (k < n) {
    const page = b >>> PAGE_SHIFT;
    const meta = m.meta(page);
    if (i32[meta + P.KIND] === KIND_COALESCING) {
      const next = i32[linkWord(b)];
      coalescingFree(m, tierBlockOf(b));
      b = next;
      k++;
      continue;
    }
    let free = i32[meta + P.FREELIST];
    const start = k;
    do {
      const next = i32[linkWord(b)];
      i32[linkWord(b)] = free;
      free = b;
      b = next;
      k++;
    } while (k < n && b >>> PAGE_SHIFT === page);
    i32[meta + P.FREELIST] = free;
    slabGotBlocksBack(heap, page, cls, (i32[meta + P.USED] -= k - start));
  }
  heap.heads[cls] = b;
  heap.counts[cls] += heap.takenWhole[cls] - n;
  heap.takenWhole[cls] = 0;
  heap.stat[STAT.spills]++;
  heap.stat[STAT.spill_blocks] += n;
}

