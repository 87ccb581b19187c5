/**
 * The 1-byte block header at `user - 1` (Phase 7). High nibble: what the block is; low nibble: its class.
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

/** Offset of the freelist link inside a free block, from its base: 4-byte aligned, past the header. */
export const NEXT_OFFSET = 4; // see linkWord

/** What a header byte says, for messages. */
export function describeHeader(h: number): string {
  switch (h & MAGIC_MASK) {
    case TINY_LIVE: return `live tiny block of class ${h & CLASS_MASK}`;
    case TINY_FREE: return `free tiny block of class ${h & CLASS_MASK}`;
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
