/**
 * `alignedAlloc(alignment, size)` on heaps whose blocks carry the 1-byte header (tiny user pointers
 * are 1 mod 8, mid ones 1 mod 2 KiB, large ones 16-aligned). An aligned block lives inside a larger
 * "carrier" block from malloc: at the first aligned address at least ALIGNED_PREFIX bytes in, with
 * the header ALIGNED_LIVE at `ptr - 1` and the offset back to the carrier's user pointer in the four
 * bytes before that. The prefix keeps both clear of the words a free carrier writes (its freelist
 * link and owner), so a second free still reads ALIGNED_FREE. free and usableSize reach such a block
 * through their slow route (free-route.ts): malloc's and free's fast paths do not change.
 */
import { HeapError, fmtPtr, fmtValue } from "./errors";
import { ALIGNED_LIVE, ALIGNED_OFFSET_AT, ALIGNED_PREFIX } from "./header";
import type { Heap } from "./heap";
import { LARGE_PREFIX } from "./large";

/** Largest alignment alignedAlloc serves: the page size. */
export const MAX_ALIGNMENT = 65536;

/** Refuses an alignment that is not a power of two from 1 to MAX_ALIGNMENT, or a bad size. */
export function checkAlignedRequest(op: string, alignment: number, size: number): void {
  const call = `${op}(${fmtValue(alignment)}, ${fmtValue(size)})`;
  if (typeof alignment !== "number" || !Number.isInteger(alignment) || alignment < 1)
    throw new HeapError("INVALID_SIZE", `${call}: alignment ${fmtValue(alignment)} is not a positive integer`);
  if ((alignment & (alignment - 1)) !== 0 || alignment > 2 ** 30)
    throw new HeapError("INVALID_SIZE", `${call}: alignment ${alignment} is not a power of two`);
  if (alignment > MAX_ALIGNMENT)
    throw new HeapError("INVALID_SIZE", `${call}: alignment ${alignment} is above the largest supported, ${MAX_ALIGNMENT} (the page size)`);
  if (typeof size !== "number" || !Number.isInteger(size) || size < 0)
    throw new HeapError("INVALID_SIZE", `${call}: size must be a non-negative integer`);
}

/** An `alignment`-aligned block of `size` bytes (arguments checked), or 0 when the heap is out of memory. */
export function headerAlignedAlloc(heap: Heap, alignment: number, size: number): number {
  // Alignment 1 is malloc's; large blocks are 16-aligned already.
  if (alignment === 1 || (alignment <= LARGE_PREFIX && size > heap.mem.midMaxRequest)) return heap.malloc(size);
  const carrier = heap.malloc(size + ALIGNED_PREFIX + alignment - 1);
  if (carrier === 0) return 0;
  const ptr = (carrier + ALIGNED_PREFIX + alignment - 1) & -alignment;
  const offset = ptr - carrier;
  const u8 = heap.u8;
  const at = ptr - ALIGNED_OFFSET_AT;
  u8[at] = offset & 255;
  u8[at + 1] = (offset >>> 8) & 255;
  u8[at + 2] = (offset >>> 16) & 255;
  u8[at + 3] = offset >>> 24;
  u8[ptr - 1] = ALIGNED_LIVE;
  return ptr;
}

/**
 * The carrier's user pointer of the aligned block at `ptr` (its header byte already read), or -1 when
 * the offset before it cannot be one alignedAlloc wrote. The caller checks that the carrier is live.
 */
export function alignedCarrierOf(heap: Heap, ptr: number): number {
  const u8 = heap.u8;
  const at = ptr - ALIGNED_OFFSET_AT;
  const offset = (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) | (u8[at + 3] << 24)) >>> 0;
  if (offset < ALIGNED_PREFIX || offset >= ALIGNED_PREFIX + MAX_ALIGNMENT || ptr - offset < 1) return -1;
  return ptr - offset;
}

/** Message text for an aligned header whose carrier does not hold up. */
export function badCarrier(op: string, ptr: number, why: string): HeapError {
  return new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): the byte before it says aligned block, but ${why}: not a block returned by alignedAlloc`, ptr);
}
