/**
 * Where free decides its route when the fast path (a live tiny header, owner's own block) does not
 * apply: the registry route (`ss_hit`, the header-less lookup), the mid and large tiers, aligned blocks
 * (their carrier goes back), and every refusal (null, double free, pointers that are not blocks,
 * corrupt headers).
 */
import { HeapError, fmtPtr } from "./errors";
import { alignedCarrierOf, badCarrier } from "./aligned-alloc";
import {
  ALIGNED_FREE, ALIGNED_LIVE, describeHeader, headerMagic, LARGE_FREE, LARGE_LIVE, MID_FREE, MID_LIVE, tierBlockOf, TINY_CLASS_MASK, TINY_FREE, TINY_IN_TIER_OFFSET, TINY_LIVE,
} from "./header";
import type { Heap } from "./heap";
import { KIND_COALESCING, KIND_LARGE, KIND_MID, KIND_SLAB, P, PAGE_SHIFT, SLOT_ACTIVE, STAT } from "./layout";
import { coalescingFree, coalescingRefusal, coalescingUsableSize } from "./coalescing";
import { LARGE_PREFIX, largeFree, largeUsableSize } from "./large";
import { midCarved, midClassOfPointer, midUsableSize } from "./mid";
import { lookupSuperSlab } from "./registry";

export function freeSlow(heap: Heap, ptr: number): void {
  if (ptr === 0) return;
  const h = headerOf(heap, ptr, "free");
  const magic = magicOf(heap, ptr, h);
  switch (magic) {
    case TINY_LIVE: {
      heap.assertAttached();
      const cls = tinyClassViaRegistry(heap, ptr, h, "free");
      const b = ptr - 1;
      if (heap.mem.shared && heap.mem.i32[heap.mem.meta(b >>> PAGE_SHIFT) + P.OWNER] !== heap.tid) {
        heap.freeRemoteBlock(b, cls);
      } else {
        heap.stat[STAT.ss_hit]++;
        heap.pushFree(b, cls);
      }
      return;
    }
    case MID_LIVE:
      heap.assertAttached();
      heap.countFast(STAT.mid_free);
      if (heap.mem.coalescing) return coalescingFree(heap.mem, checkedCoalescingBlock(heap, ptr, "free"));
      return heap.pushFreeMid(ptr - 1, midClassOfPointer(heap.mem, ptr));
    case LARGE_LIVE:
      heap.assertAttached();
      heap.stat[STAT.large_free]++;
      return largeFree(heap.mem, ptr);
    case ALIGNED_LIVE: {
      heap.assertAttached(); // before the header says free: a refused free leaves the block live
      const carrier = liveCarrier(heap, ptr, h, "free");
      heap.u8[ptr - 1] = ALIGNED_FREE;
      return heap.releaseFree(carrier);
    }
    case ALIGNED_FREE:
      notOverATierBlock(heap, ptr, h, "free");
    // fall through
    case TINY_FREE:
    case MID_FREE:
    case LARGE_FREE:
      throw new HeapError("DOUBLE_FREE", `free(${fmtPtr(ptr)}): block already freed (header says ${describeHeader(h, magic)})`, ptr);
    default:
      throw notABlock(heap, ptr, h, "free");
  }
}

/**
 * Refuses an aligned-block header where a tiny, mid or large block starts: no aligned pointer is ever
 * a block start of a tier (it is at least 2-aligned, those are 1 mod 8 or 16 past a page), so that
 * header was written over the block's own (0xff and such).
 */
function notOverATierBlock(heap: Heap, ptr: number, h: number, op: string): void {
  if (expectedHeaderAt(heap, ptr - 1) >= 0) throw notABlock(heap, ptr, h, op);
}

/** The live carrier block of the aligned block at `ptr`, after checking that it holds the whole block's header. */
function liveCarrier(heap: Heap, ptr: number, h: number, op: string): number {
  notOverATierBlock(heap, ptr, h, op);
  const carrier = alignedCarrierOf(heap, ptr);
  if (carrier < 0) throw badCarrier(op, ptr, "the offset to its carrier block is out of range");
  const kind = magicOf(heap, carrier, heap.u8[carrier - 1]);
  if (kind !== TINY_LIVE && kind !== MID_LIVE && kind !== LARGE_LIVE) throw badCarrier(op, ptr, `its carrier ${fmtPtr(carrier)} is no live block`);
  if (usableSize(heap, carrier, op) < ptr - carrier) throw badCarrier(op, ptr, `its carrier ${fmtPtr(carrier)} ends before it`);
  return carrier;
}

/** What the header byte `h` of `ptr` is, its magic bits (a wide tiny header read as a tiny one: header.ts). */
function magicOf(heap: Heap, ptr: number, h: number): number {
  return headerMagic(h, ptr, heap.mem.wideTinyHeaders);
}

/** Reads the header byte of `ptr` after checking that `ptr` can be a user pointer of this heap. */
function headerOf(heap: Heap, ptr: number, op: string): number {
  checkUserPointer(heap, ptr, op);
  return heap.u8[ptr - 1];
}

/** Refuses what cannot be a user pointer of this heap: no integer offset, outside, or in the metadata. */
export function checkUserPointer(heap: Heap, ptr: number, op: string): void {
  if (typeof ptr !== "number" || !Number.isInteger(ptr) || ptr < 1 || ptr >= heap.mem.config.bytes)
    throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): not an offset inside this heap (1..${heap.mem.config.bytes - 1})`, ptr);
  if ((ptr >>> PAGE_SHIFT) < heap.mem.layout.metaPages)
    throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): points into the heap's metadata, not a block`, ptr);
}

/**
 * The seed's `hak_super_lookup` route: find the SuperSlab through the registry, then the slab and its
 * class; the header must agree and the pointer must start a block. A tiny block in the coalescing
 * tier has no SuperSlab: its own checks (tinyClassInTier).
 */
function tinyClassViaRegistry(heap: Heap, ptr: number, h: number, op: string): number {
  const m = heap.mem;
  const b = ptr - 1;
  if (m.i32[m.meta(b >>> PAGE_SHIFT) + P.KIND] === KIND_COALESCING) return tinyClassInTier(heap, ptr, h, op);
  if (lookupSuperSlab(m, b) < 0)
    throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): header looks like a tiny block but the address is in no SuperSlab`, ptr);
  const meta = m.meta(b >>> PAGE_SHIFT);
  const cls = m.i32[meta + P.CLASS];
  const offset = b - ((b >>> PAGE_SHIFT) << PAGE_SHIFT);
  if (m.i32[meta + P.STATE] !== SLOT_ACTIVE || cls < 0)
    throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): the slab holding it serves no class`, ptr);
  if (offset % heap.blockSize[cls] !== 0)
    throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): interior pointer, ${offset % heap.blockSize[cls] - 1} bytes into a ${heap.blockSize[cls]}-byte block`, ptr);
  if ((h & TINY_CLASS_MASK) !== cls)
    throw new HeapError("CORRUPT_HEADER", `${op}(${fmtPtr(ptr)}): header says class ${h & TINY_CLASS_MASK} but its slab serves class ${cls}`, ptr);
  return cls;
}

/**
 * Why the tiny header `h` at `ptr`, on a coalescing page, is no tiny block in the coalescing tier
 * (tiny-refill.ts refillInTier), which has no slab: its tier block must be live, and its class must
 * fit there. Null when it is one. check() reads it for the blocks on front lists.
 */
export function tinyInTierError(heap: Heap, ptr: number, h: number, op: string): HeapError | null {
  const m = heap.mem;
  const tier = tierBlockOf(ptr - 1);
  const why = coalescingRefusal(m, tier);
  if (why !== null) return new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): header looks like a tiny block in the coalescing tier, but its tier block: ${why}`, ptr);
  const cls = h & TINY_CLASS_MASK;
  const room = coalescingUsableSize(m, tier) - TINY_IN_TIER_OFFSET;
  if (cls >= heap.blockSize.length || heap.blockSize[cls] > room)
    return new HeapError("CORRUPT_HEADER", `${op}(${fmtPtr(ptr)}): header says class ${cls}, which does not fit the ${room} bytes of its coalescing block`, ptr);
  return null;
}

/** The class of a tiny block in the coalescing tier, after tinyInTierError's checks. */
function tinyClassInTier(heap: Heap, ptr: number, h: number, op: string): number {
  const error = tinyInTierError(heap, ptr, h, op);
  if (error !== null) throw error;
  return h & TINY_CLASS_MASK;
}

/** Why `ptr`, whose header byte is no block header, was refused: an overwritten header, or no block. */
function notABlock(heap: Heap, ptr: number, h: number, op: string): HeapError {
  const expected = expectedHeaderAt(heap, ptr - 1);
  if (expected >= 0)
    return new HeapError("CORRUPT_HEADER", `${op}(${fmtPtr(ptr)}): block header overwritten (byte 0x${hex(h)}, expected 0x${hex(expected)})`, ptr);
  return new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): not a block returned by malloc (${describeHeader(h, magicOf(heap, ptr, h))})`, ptr);
}

/** The live header a block starting at `b` would carry, judged from the page metadata; -1 if no block starts there. */
function expectedHeaderAt(heap: Heap, b: number): number {
  const m = heap.mem;
  const page = b >>> PAGE_SHIFT;
  const meta = m.meta(page);
  const offset = b - (page << PAGE_SHIFT);
  switch (m.i32[meta + P.KIND]) {
    case KIND_SLAB: {
      const cls = m.i32[meta + P.CLASS];
      if (m.i32[meta + P.STATE] !== SLOT_ACTIVE || cls < 0) return -1;
      const size = heap.blockSize[cls];
      return offset % size === 0 && offset / size < m.i32[meta + P.CARVED] ? TINY_LIVE | cls : -1;
    }
    case KIND_MID: {
      const cls = m.i32[meta + P.CLASS];
      const fromSpan = b - (m.i32[meta + P.SPAN] << PAGE_SHIFT);
      return fromSpan % m.midSizes[cls] === 0 && midCarved(m, b, cls) ? MID_LIVE | cls : -1;
    }
    case KIND_LARGE:
      return offset === LARGE_PREFIX - 1 ? LARGE_LIVE : -1;
    case KIND_COALESCING: {
      if (coalescingRefusal(m, b + 1) === null) return MID_LIVE;
      // A tiny block in the tier keeps its class in its tier block's first byte (tiny-refill.ts).
      const tier = tierBlockOf(b);
      return coalescingRefusal(m, tier) === null ? TINY_LIVE | m.u8[tier] : -1;
    }
    default:
      return -1;
  }
}

/** `ptr` after checking that it is a live block of the coalescing mid tier. */
function checkedCoalescingBlock(heap: Heap, ptr: number, op: string): number {
  const why = coalescingRefusal(heap.mem, ptr);
  if (why !== null) throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): ${why}`, ptr);
  return ptr;
}

const hex = (v: number) => v.toString(16).padStart(2, "0");

export function usableSize(heap: Heap, ptr: number, op = "usableSize"): number {
  const h = headerOf(heap, ptr, op);
  switch (magicOf(heap, ptr, h)) {
    case TINY_LIVE:
      return heap.blockSize[tinyClassViaRegistry(heap, ptr, h, op)] - 1;
    case MID_LIVE:
      if (heap.mem.coalescing) return coalescingUsableSize(heap.mem, checkedCoalescingBlock(heap, ptr, op));
      return midUsableSize(heap.mem, ptr);
    case LARGE_LIVE:
      return largeUsableSize(heap.mem, ptr);
    case ALIGNED_LIVE: {
      const carrier = liveCarrier(heap, ptr, h, op);
      return usableSize(heap, carrier, op) - (ptr - carrier);
    }
    case ALIGNED_FREE:
      notOverATierBlock(heap, ptr, h, op);
    // fall through
    case TINY_FREE:
    case MID_FREE:
    case LARGE_FREE:
      throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): block is free (use after free)`, ptr);
    default:
      throw notABlock(heap, ptr, h, op);
  }
}
