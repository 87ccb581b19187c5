/**
 * A per-thread stash in front of the coalescing mid tier (`coalescingStashBlocks`, preset current): the
 * last few blocks a thread freed, of any size, kept whole instead of merged, so that a program which
 * frees a block and soon asks for one of its size again (gs-pages' three buffers a page, of 4, 25 and
 * 172 KB) takes it back without the tier's merge, search and top. Blocks up to the tier's trim
 * threshold only: a larger one freed into a top gives bytes back at once. A thread's frees fill its
 * slots oldest first, and when they are full the oldest block goes to the tier: the stash holds a few
 * blocks at most, so it costs no size lists and little memory, where the cache (coalescing-cache.ts)
 * holds up to its count per size and stops at 2 KiB. A malloc takes a stashed block of at least its
 * size and at most 1/32 more (the waste a TLSF list allows), the newest first; a malloc no stashed
 * block serves gives them all back to the tier first, in the order they were freed, so that the tier
 * serves it as it would have without the stash (and writes no new memory while blocks wait in it).
 * realloc gives them back too before it grows a block where it is, when it cannot at first. Where
 * the blocks mostly go back unused, the stash pauses (its score, below).
 *
 * A stashed block is as a cached one: live to the tier (its FREE flag clear, so it merges with
 * nothing), with the header MID_FREE (free refuses a second free of it), its second user word naming
 * the holding thread (reclaimThread gives back a dead thread's, coalescing-cache.ts). The heap's
 * malloc and free paths use the slots (heap.ts); this file holds what else touches them.
 */
import type { HeapMemory } from "./heap-memory";
import * as coalescing from "./coalescing";
import * as coalescingCache from "./coalescing-cache";

const { coalescingBlockSize, COALESCING_PREFIX } = coalescing;
const { giveBack, heldBlockFault } = coalescingCache;

/** Most slots a thread's stash may have. */
const STASH_MAX_BLOCKS = 64;
/** A stashed block serves a request whose block is at most 1/2^STASH_FIT_SHIFT smaller. */
const STASH_FIT_SHIFT = 5;
/**
 * A thread's stash keeps a score: STASH_SCORE_START at first and after each pause, 1 more for each
 * block a malloc takes back (to STASH_SCORE_MAX), 1 less for each block that goes back to the tier
 * unused. At 0 the stash pauses: the next coalescing frees go straight to the tier, STASH_PAUSE_MIN
 * of them the first time and twice as many each time after (to STASH_PAUSE_MAX), until the score
 * reaches STASH_SCORE_MAX again. A program whose blocks come back (gs-pages, 99%) never pauses; one
 * whose blocks mostly do not (git-log, 1 in 7) pays for the stash on a few frees in 8192.
 */
const STASH_SCORE_START = 16;
const STASH_SCORE_MAX = 1024;
const STASH_PAUSE_MIN = 64;
const STASH_PAUSE_MAX = 8192;

/**
 * Gives the `count` stashed blocks back to the tier in the order they were freed, oldest first (a block
 * freed at a top lowers it before the block freed after it, below it, comes back, as without the
 * stash); the slots end empty.
 */
export function flushStash(m: HeapMemory, slots: Int32Array, count: number): void {
  for (let i = 0; i < count; i++) {
    giveBack(m, slots[i]);
    slots[i] = 0;
  }
}

/** Bytes of the stashed blocks. */
export function stashedBytes(m: HeapMemory, slots: Int32Array): number {
  let bytes = 0;
  for (let i = 0; i < slots.length; i++) if (slots[i] !== 0) bytes += coalescingBlockSize(m, slots[i] + COALESCING_PREFIX);
  return bytes;
}

/**
 * Why this thread's stash is inconsistent with its count, its blocks' headers or holder, or its pause
 * (a paused stash holds no blocks), or null: for check().
 */
export function stashInconsistency(m: HeapMemory, slots: Int32Array, count: number, pause: number, tid: number): string | null {
  if (!(count >= 0 && count <= slots.length)) return `coalescing stash count ${count} is outside 0..${slots.length}`;
  for (let i = 0; i < slots.length; i++) {
    const b = slots[i];
    if (i >= count) {
      if (b !== 0) return `coalescing stash slot ${i} holds block ${b}, past its count ${count}`;
      continue;
    }
    if (b === 0) return `coalescing stash slot ${i} is empty, below its count ${count}`;
    const where = `coalescing stash slot ${i}: block at ${b}`;
    const fault = heldBlockFault(m, b, tid);
    if (fault !== null) return `${where} ${fault}`;
    for (let j = 0; j < i; j++) if (slots[j] === b) return `${where} is also in slot ${j}`;
  }
  if (count !== 0 && pause !== 0) return `coalescing stash holds ${count} blocks while it pauses (${pause} frees to go)`;
  return null;
}

export { STASH_FIT_SHIFT, STASH_MAX_BLOCKS, STASH_PAUSE_MAX, STASH_PAUSE_MIN, STASH_SCORE_MAX, STASH_SCORE_START };
