/**
 * The header-free front end (`align: 8 | 16`, preset `aligned`): `current`'s one list per class, with
 * no header byte before the user pointer. A block's user pointer is its start, so every block is
 * aligned: tiny classes are multiples of the alignment in 64 KiB slabs, mid blocks start on 2 KiB
 * boundaries, large blocks at their first page. A power-of-two request fits its class exactly.
 *
 * free finds the tier and class through the page metadata (pointer -> page -> slab class, like
 * mimalloc's page lookup) and asks the live bitmap (live-bitmap.ts) whether a live block starts at
 * the pointer: malloc sets the bit, free clears it. A double free, an interior pointer or a misaligned
 * one finds it clear and takes the slow route (page-route.ts), which names the error.
 */
import { checkAlignedRequest } from "./aligned-alloc";
import * as header from "./header";
import { Heap } from "./heap";
import type { HeapMemory } from "./heap-memory";
import * as layout from "./layout";
import * as mid from "./mid";
import { isFreedPageBlock, pageFreeSlow, pageUsableSize } from "./page-route";
import { refill } from "./tiny-refill";

// Bound here so V8 folds them (see heap.ts).
const { linkWord } = header;
const { KIND_MID, KIND_SLAB, LIVE_GRANULE_SHIFT, LIVE_WORD_SHIFT, P, PAGE_META_SHIFT, PAGE_SHIFT, STAT } = layout;
const { midRefill } = mid;
const PAGE_FAST = STAT.page_fast;
const MID_FAST = STAT.mid_free;
const META_CLASS = P.CLASS;
const META_OWNER = P.OWNER;

export class AlignedHeap extends Heap {
  /** Int32 index of the live bitmap. */
  private readonly liveBits: number;
  /** Shared heaps: other threads clear bits in the same words, so every update is atomic. */
  private readonly atomicBits: boolean;

  constructor(mem: HeapMemory, tid: number, log: (line: string) => void) {
    super(mem, tid, log);
    this.liveBits = mem.liveBits;
    this.atomicBits = mem.shared;
  }

  override malloc(size: number): number {
    if (size < this.tinyLimit && size >>> 0 === size) {
      const cls = this.classOf[size];
      const b = this.heads[cls];
      if (b !== 0) {
        this.heads[cls] = this.i32[linkWord(b)];
        this.counts[cls]--;
        this.markLive(b);
        return b;
      }
      return this.refillAndPop(cls, size);
    }
    return this.mallocSlow(size);
  }

  override free(ptr: number): void {
    const w = this.liveBits + (ptr >>> LIVE_WORD_SHIFT);
    const bit = 1 << ((ptr >>> LIVE_GRANULE_SHIFT) & 31);
    // Only a live block's start has its bit set; the first test also refuses non-integers and negatives.
    if (ptr === (ptr >>> LIVE_GRANULE_SHIFT) << LIVE_GRANULE_SHIFT && (this.i32[w] & bit) !== 0 && this.headerFree === true) {
      const meta = this.pageMeta + ((ptr >>> PAGE_SHIFT) << PAGE_META_SHIFT);
      const kind = this.i32[meta];
      if (kind === KIND_SLAB) {
        const cls = this.i32[meta + META_CLASS];
        if (this.atomicBits === true) {
          Atomics.and(this.i32, w, ~bit);
          if (this.i32[meta + META_OWNER] !== this.tid) return this.freeRemoteBlock(ptr, cls);
        } else {
          this.i32[w] ^= bit;
        }
        this.countFast(PAGE_FAST);
        this.pushFree(ptr, cls);
        return;
      }
      if (kind === KIND_MID) {
        this.clearLive(w, bit);
        this.countFast(MID_FAST);
        this.pushFreeMid(ptr, this.i32[meta + META_CLASS]);
        return;
      }
    }
    this.freeSlowPath(ptr);
  }

  private markLive(b: number): void {
    const w = this.liveBits + (b >>> LIVE_WORD_SHIFT);
    const bit = 1 << ((b >>> LIVE_GRANULE_SHIFT) & 31);
    if (this.atomicBits === true) Atomics.or(this.i32, w, bit);
    else this.i32[w] |= bit;
  }

  private clearLive(w: number, bit: number): void {
    if (this.atomicBits === true) Atomics.and(this.i32, w, ~bit);
    else this.i32[w] &= ~bit;
  }

  protected override refillAndPop(cls: number, size: number): number {
    if (refill(this, cls, this.refillCount) === 0) return this.outOfMemory(size);
    const b = this.heads[cls];
    this.heads[cls] = this.i32[linkWord(b)];
    this.counts[cls]--;
    this.markLive(b);
    return b;
  }

  /** No header to read: realloc finds the block through the page metadata. */
  protected override headerUsable(): number {
    return 0;
  }

  // The largest mid request is the largest mid class itself (no header to make room for).
  protected override midLargestRequest(): number {
    return this.midMaxRequest + 1;
  }

  protected override mallocSlow(size: number): number {
    if (size <= this.midMaxRequest + 1 && size >>> 0 === size && !this.detached) {
      const cls = this.midClassOf[(size + 511) >> 9];
      if (this.midHeads[cls] === 0 && midRefill(this.mem, this.midHeads, this.midCounts, cls, (this.midCacheCapacity[cls] >> 1) || 1, this.tid) === 0) {
        return this.outOfMemory(size);
      }
      const b = this.midHeads[cls];
      this.midHeads[cls] = this.i32[linkWord(b)];
      this.midCounts[cls]--;
      this.markLive(b);
      return b;
    }
    return this.mallocLarge(size);
  }

  protected override freeSlowPath(ptr: number): void {
    pageFreeSlow(this, ptr);
  }

  protected override blockUsable(ptr: number, op: string): number {
    this.assertAttached();
    return pageUsableSize(this, ptr, op);
  }

  /** No header byte: nothing for the debug build to watch. */
  override blockHeader(_ptr: number): number {
    return -1;
  }

  override isFreedBlock(ptr: number): boolean {
    return isFreedPageBlock(this, ptr);
  }

  /**
   * A block of class size S starts a multiple of S into a 64 KiB-aligned slab or mid span, so it is
   * aligned to every power of two dividing S: the smallest class of at least `size` bytes that the
   * alignment divides serves the request as it is (free needs nothing special). Larger alignments
   * take a large block, which starts on its page.
   */
  override alignedAlloc(alignment: number, size: number): number {
    checkAlignedRequest("alignedAlloc", alignment, size);
    this.assertAttached();
    if (alignment <= this.config.align) return this.malloc(size);
    for (const s of this.blockSize) if (s >= size && s % alignment === 0) return this.malloc(s);
    for (const s of this.mem.midSizes) if (s >= size && s % alignment === 0) return this.malloc(s);
    return this.malloc(Math.max(size, this.midMaxRequest + 2));
  }
}
