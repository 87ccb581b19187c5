/**
 * The 1-byte block header at `user - 1` (Phase 7). High nibble: what the block is; low nibble: its
 * class (a tiny class from 16 on reaches into the high nibble: TINY_CLASS_MASK below).
 * A tiny block in a front cache or slab freelist carries TINY_FREE instead of TINY_LIVE, which is how
 * free catches a double free in release builds without a lookup.
 */
export const TINY_LIVE = 0xa0;
export const TINY_FREE = 0x80;
export const MID_LIVE = 0xb0;
export const MID_FREE = 0x90;
export const LARGE_LIVE = 0xc0;
export const LARGE_FREE = 0xd0;
/**
 * An aligned block (alignedAlloc) inside a larger "carrier" block: its header sits at `user - 1` and
 * the 32-bit offset back to the carrier's user pointer in the four bytes before it (ALIGNED_OFFSET_AT).
 */
export const ALIGNED_LIVE = 0xe0;
export const ALIGNED_FREE = 0xf0;
/** Bytes before an aligned pointer the carrier keeps at least: its freelist words (a free carrier's first 12 bytes), the offset and the header. */
export const ALIGNED_PREFIX = 16;
/** Where the offset back to the carrier starts, before the aligned pointer. */
export const ALIGNED_OFFSET_AT = 5;

export const MAGIC_MASK = 0xf0;
export const CLASS_MASK = 0x0f;

/**
 * A tiny header's class, narrow (its bit 4 is 0) or wide. Wide tiny headers: a heap with more than 16
 * tiny classes (the coalescing mid tier's only) writes TINY_LIVE | cls and TINY_FREE | cls for every
 * class, so classes 16..31 read 0xb0 | (cls - 16) and 0x90 | (cls - 16), MID_LIVE and MID_FREE with
 * a class. On such a heap those bytes are a mid block's only at a coalescing block's user pointer
 * (8 mod 16), never at a tiny one's (1 mod 8): the pointer tells them apart, and the class mid tier,
 * whose headers they are on other heaps, is off. The fast paths pay nothing for it: free tests the
 * magic under a mask that keeps the class's fifth bit out.
 */
export const TINY_CLASS_MASK = 0x1f;
/** The bits free compares with TINY_LIVE to take a tiny block's header route. */
export function tinyMagicMask(wide: boolean): number {
  return wide ? 0xe0 : MAGIC_MASK;
}
/** What header `h` at user pointer `ptr` is (its magic bits): on a heap with wide tiny headers, a tiny one's read as TINY_LIVE or TINY_FREE. */
export function headerMagic(h: number, ptr: number, wide: boolean): number {
  if (wide && (ptr & 7) === 1 && (h & 0xc0) === 0x80) return h & (TINY_LIVE | TINY_FREE);
  return h & MAGIC_MASK;
}

/**
 * Bytes into a coalescing block's user bytes where a tiny block inside it starts (tiny-refill.ts
 * refillInTier): past the two link words the tier writes there once the block is free, so a tiny
 * block the tier has taken back still reads as free and a double free is caught; and a multiple of 8,
 * so its user pointer is 1 mod 8 as a slab block's.
 */
export const TINY_IN_TIER_OFFSET = 8;

/** The coalescing block (its user pointer) that holds the tiny block at `b` (see TINY_IN_TIER_OFFSET). */
export function tierBlockOf(b: number): number {
  return b - TINY_IN_TIER_OFFSET;
}

/** Offset of the freelist link inside a free block, from its base: 4-byte aligned, past the header. */
export const NEXT_OFFSET = 4; // see linkWord

/** What a header byte says, for messages; `magic` as headerMagic reads it where tiny headers may be wide. */
export function describeHeader(h: number, magic = h & MAGIC_MASK): string {
  switch (magic) {
    case TINY_LIVE: return `live tiny block of class ${h & TINY_CLASS_MASK}`;
    case TINY_FREE: return `free tiny block of class ${h & TINY_CLASS_MASK}`;
    case MID_LIVE: return `live mid block of class ${h & CLASS_MASK}`;
    case MID_FREE: return `free mid block of class ${h & CLASS_MASK}`;
    case LARGE_LIVE: return "live large block";
    case LARGE_FREE: return "free large block";
    case ALIGNED_LIVE: return "live aligned block";
    case ALIGNED_FREE: return "free aligned block";
    default: return `no block header (byte 0x${h.toString(16).padStart(2, "0")})`;
  }
}

/** Int32 index of the freelist link of the free block at `base`. Every freelist goes through this. */
export function linkWord(base: number): number {
  return (base >> 2) + 1;
}
