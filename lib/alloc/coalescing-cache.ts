/**
 * A per-thread cache in front of the coalescing mid tier, as glibc's tcache is in front of its bins:
 * one list per block size up to CACHE_MAX_BLOCK bytes, so a malloc of a size this thread freed before
 * pops a list, with neither the mid lock nor a search, and a free pushes one. A block freed by another
 * thread goes to the freeing thread's list (coalescing blocks have no owner). A cached block is live to
 * the tier (its FREE flag clear, so it merges with nothing) and carries the header MID_FREE, so free
 * catches a second free of it by its header as it does a tiny block's; its second user word names the
 * thread whose list holds it, so reclaimThread can give back a dead thread's. A list holds at most
 * `coalescingCacheBlocks` blocks, past which free goes to the tier, but for the fast lists of blocks up
 * to CACHE_FAST_MAX_BLOCK bytes, which hold any number on a heap no other thread shares. Before the
 * tier writes memory never written the lists go back to it when they hold more than 1/128 of the
 * heap's touched bytes (CACHE_SHARE_SHIFT, heap.ts mallocCacheMiss), or when a fast list holds more
 * than the others may: the cache adds at most that share to a resident peak, and a growing heap does
 * not give back and take again its whole cache for every page it touches. The heap's fast paths
 * push and pop (heap.ts); this file holds what else touches the lists.
 */
import type { HeapMemory } from "./heap-memory";
import * as coalescing from "./coalescing";
import * as header from "./header";
import * as layout from "./layout";
import * as sync from "./sync";

// Bound in this module as heap.ts binds its imports (it says why); for the same reason the exported
// constants are plain `const`s, exported at the end. cacheLink runs on every malloc the cache serves.
const { coalescingBlockSize, coalescingFree, COALESCING_PREFIX, walkCoalescing } = coalescing;
const { MID_FREE, MID_LIVE } = header;
const { H, KIND_COALESCING, P, PAGE_SHIFT } = layout;
const { lock, unlock } = sync;

/**
 * Largest block the cache keeps: requests up to 2 KiB and a little more (glibc's tcache stops at 1032
 * bytes; with 1040, python3-json-regex's ~1.1 KiB requests, a tenth of its mallocs, each took a TLSF
 * search; with 4112, gcc-cc1's cached 4 KiB blocks cost it 4% of utilization).
 */
const CACHE_MAX_BLOCK = 2064;
/** Lists: one per block size, 16 bytes apart, indexed by size / 16. */
const CACHE_LISTS = (CACHE_MAX_BLOCK >> 4) + 1;
/**
 * Lists of blocks up to this many bytes hold any number, as glibc's fast bins do: a program that frees a
 * burst of small blocks and then allocates as many again keeps them out of the tier's merges and
 * searches (lua-objects' 48- and 64-byte objects: with 32 a list, 98% of its frees merged in the tier).
 * They go back before the tier writes memory never written once they hold more than a list's count,
 * as glibc consolidates its fast bins before it extends its top. glibc's reach 128 bytes; here, up to
 * 128, python3-json-regex held 4% more at its peak. Not on shared heaps: a thread that only frees
 * would hold other threads' blocks for good.
 */
const CACHE_FAST_MAX_BLOCK = 64;
/** The last fast list. */
const CACHE_FAST_LAST = CACHE_FAST_MAX_BLOCK >> 4;
/** The cache's largest share of the heap's touched bytes kept when the tier must write new memory. */
const CACHE_SHARE_SHIFT = 7;
/** Most spare blocks a cache miss brings from a top (heap.ts mallocCacheMiss). */
const CACHE_SPARE_MAX = 15;
/** Largest request whose block the cache keeps. */
const CACHE_MAX_REQUEST = CACHE_MAX_BLOCK - 4;

/** The list for a request of `size` bytes: the size of the block the tier gives it, over 16. */
export function cacheListOf(size: number): number {
  return (size + 19) >> 4;
}

/**
 * The list for a request of `size` bytes (below CACHE_MAX_REQUEST + 1) when the lists are size classes
 * (`coalescingCacheClasses`): above 256 bytes its block rounded up to the next of eight sizes per
 * power of two, within CACHE_MAX_BLOCK.
 */
export function cacheClassListOf(size: number): number {
  const block = (size + 19) & ~15;
  if (block <= 256) return block >> 4;
  const step = 1 << (28 - Math.clz32(block - 1)); // an eighth of the power of two at or above the block
  const rounded = (block + step - 1) & ~(step - 1);
  return (rounded > CACHE_MAX_BLOCK ? block : rounded) >> 4;
}

/** The largest request a block of list `list` serves (the request a miss carves its block for). */
export function listRequest(list: number): number {
  return (list << 4) - 4;
}

/** A cached block's link to the next: its first user word. */
export function cacheLink(b: number): number {
  return (b + COALESCING_PREFIX) >> 2;
}

/** The thread whose list holds a cached block: its second user word (blocks have 12 user bytes at least). */
export function cacheHolder(b: number): number {
  return ((b + COALESCING_PREFIX) >> 2) + 1;
}

/** Frees a cached or stashed block into the tier: live again for a moment, then merged with its free neighbours. */
export function giveBack(m: HeapMemory, b: number): void {
  m.u8[b + COALESCING_PREFIX - 1] = MID_LIVE;
  coalescingFree(m, b + COALESCING_PREFIX);
}

/** Gives every cached block back to the tier (thread exit, trim, out of memory). */
export function flushCoalescingCache(m: HeapMemory, heads: Int32Array, counts: Int32Array): void {
  for (let list = 0; list < CACHE_LISTS; list++) {
    for (let b = heads[list]; b !== 0; ) {
      const next = m.i32[cacheLink(b)];
      giveBack(m, b);
      b = next;
    }
    heads[list] = 0;
    counts[list] = 0;
  }
}

/** Blocks each list may hold: `capacity`, and any number in the fast lists unless the heap is shared. */
export function cacheListRoom(capacity: number, shared: boolean): Int32Array {
  const room = new Int32Array(CACHE_LISTS).fill(capacity);
  if (!shared) room.fill(0x7fffffff, 1, CACHE_FAST_LAST + 1);
  return room;
}

/** Whether a fast list holds more than `capacity` blocks, the most any other list holds. */
export function fastListsOver(counts: Int32Array, capacity: number): boolean {
  for (let list = 1; list <= CACHE_FAST_LAST; list++) if (counts[list] > capacity) return true;
  return false;
}

/** Bytes of blocks in the cache (a list holds blocks of 16 times its index). */
export function cachedBytes(counts: Int32Array): number {
  let bytes = 0;
  for (let list = 0; list < CACHE_LISTS; list++) bytes += counts[list] * (list << 4);
  return bytes;
}

/**
 * Gives back to the tier every block a dead thread's lists or stash held (reclaimThread): the blocks
 * the tier sees as live with the header MID_FREE and that thread named as their holder. Returns how
 * many.
 */
export function reclaimCoalescingCache(m: HeapMemory, tid: number): number {
  const held: number[] = [];
  lock(m, H.MID_LOCK);
  try {
    walkCoalescing(m, {
      block({ base, free }) {
        if (!free && m.u8[base + COALESCING_PREFIX - 1] === MID_FREE && m.i32[cacheHolder(base)] === tid) held.push(base);
      },
    });
  } finally {
    unlock(m, H.MID_LOCK);
  }
  for (const b of held) giveBack(m, b);
  return held.length;
}

/**
 * What is wrong with `b` as a block this thread's cache or stash holds (in a coalescing region, with
 * the header MID_FREE, naming thread `tid` as its holder), or null.
 */
export function heldBlockFault(m: HeapMemory, b: number, tid: number): string | null {
  if (m.i32[m.meta(b >>> PAGE_SHIFT) + P.KIND] !== KIND_COALESCING) return "is not in a coalescing region";
  const header = m.u8[b + COALESCING_PREFIX - 1];
  if (header !== MID_FREE) return `has header 0x${header.toString(16)}, not MID_FREE`;
  const holder = m.i32[cacheHolder(b)];
  if (holder !== tid) return `names thread ${holder} as its holder, not ${tid}`;
  return null;
}

/** Why this thread's cache lists are inconsistent, or null: for check(). */
export function cacheInconsistency(m: HeapMemory, heads: Int32Array, counts: Int32Array, tid: number): string | null {
  for (let list = 0; list < CACHE_LISTS; list++) {
    let n = 0;
    for (let b = heads[list]; b !== 0; b = m.i32[cacheLink(b)]) {
      const where = `coalescing cache list ${list}: block at ${b}`;
      const fault = heldBlockFault(m, b, tid);
      if (fault !== null) return `${where} ${fault}`;
      const size = coalescingBlockSize(m, b + COALESCING_PREFIX);
      if (size >> 4 !== list) return `${where} has ${size} bytes`;
      if (++n > counts[list]) return `coalescing cache list ${list} is longer than its count ${counts[list]} (or has a cycle)`;
    }
    if (n !== counts[list]) return `coalescing cache list ${list} holds ${n} blocks, its count says ${counts[list]}`;
  }
  return null;
}

export { CACHE_FAST_LAST, CACHE_FAST_MAX_BLOCK, CACHE_LISTS, CACHE_MAX_BLOCK, CACHE_MAX_REQUEST, CACHE_SHARE_SHIFT, CACHE_SPARE_MAX };
