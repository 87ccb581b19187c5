/**
 * The debug build: every front-end variant wrapped with full checks, as the seed's debug builds had.
 * It keeps a shadow table of live blocks, so any pointer that is not a live block's start is caught
 * (double free, interior or misaligned pointers, pointers to nothing), checks the header byte on
 * every free (corruption), and can trace each free's route (HAKMEM_FREE_ROUTE_TRACE). The table is
 * per thread: on a shared heap, blocks of other threads, and entries they made stale, get the release checks only.
 * Release builds construct the undecorated classes: none of this is on their path.
 */
import { HeapError, fmtPtr } from "./errors";
import { ALIGNED_LIVE, describeHeader, headerMagic, LARGE_LIVE, MID_LIVE, TINY_CLASS_MASK, TINY_LIVE } from "./header";
import type { HeapClass } from "./heap";
import { KIND_LARGE, KIND_MID, KIND_SLAB, P, PAGE_SHIFT } from "./layout";

const decorated = new Map<HeapClass, HeapClass>();

/** The debug build of a front-end class (made once per class). */
export function debugBuildOf(Base: HeapClass): HeapClass {
  let Debug = decorated.get(Base);
  if (!Debug) {
    Debug = withDebugChecks(Base);
    decorated.set(Base, Debug);
  }
  return Debug;
}

function withDebugChecks(Base: HeapClass): HeapClass {
  return class DebugHeap extends Base {
    /** Live user pointer -> its header byte at malloc time. */
    private readonly live = new Map<number, number>();

    /** Nesting of allocations: an out-of-memory retry calls malloc again from inside, alignedAlloc calls it for its carrier. */
    private depth = 0;

    override malloc(size: number): number {
      return this.track(() => super.malloc(size), size);
    }

    /** realloc's new block when it moves a block it grows. */
    protected override mallocToGrow(size: number): number {
      return this.track(() => super.mallocToGrow(size), size);
    }

    /** The aligned pointer is the live block; its carrier, malloc'd inside, is not one the program may free. */
    override alignedAlloc(alignment: number, size: number): number {
      return this.track(() => super.alignedAlloc(alignment, size), size);
    }

    /** Runs an allocation and records the block it returns, unless it is nested in another. */
    private track(allocate: () => number, size: number): number {
      this.depth++;
      let p: number;
      try {
        p = allocate();
      } finally {
        this.depth--;
      }
      if (p !== 0 && this.depth === 0) {
        // On a shared heap another thread may have freed this thread's block, unseen by this table.
        if (this.live.has(p) && !this.mem.shared)
          throw new HeapError("HEAP_CORRUPT", `malloc(${size}) returned ${fmtPtr(p)}, which is already live`, p);
        this.live.set(p, this.blockHeader(p));
      }
      return p;
    }

    override free(ptr: number): void {
      if (ptr === 0) return;
      this.assertLive(ptr, "free");
      if (this.mem.config.freeRouteTrace) this.logLine(`[FREE_ROUTE] ${this.routeOf(ptr)} ptr=0x${ptr.toString(16)}`);
      this.live.delete(ptr);
      super.free(ptr);
    }

    override realloc(ptr: number, size: number): number {
      if (ptr !== 0) this.assertLive(ptr, "realloc");
      return super.realloc(ptr, size);
    }

    override usableSize(ptr: number): number {
      this.assertLive(ptr, "usableSize");
      return super.usableSize(ptr);
    }

    private assertLive(ptr: number, op: string): void {
      const expected = this.live.get(ptr);
      if (expected === undefined) {
        // Another thread's block of a shared heap is not in this thread's table: the release checks apply.
        if (this.mem.shared) return;
        const { bytes } = this.mem.config;
        const inBlocks = typeof ptr === "number" && Number.isInteger(ptr) && ptr >= 1 && ptr < bytes && ptr >>> PAGE_SHIFT >= this.mem.layout.metaPages;
        if (!inBlocks) throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): not an offset of this heap's blocks (the metadata ends at ${this.mem.layout.metaPages << PAGE_SHIFT}, the heap at ${bytes})`, ptr);
        if (this.isFreedBlock(ptr)) {
          const h = this.u8[ptr - 1];
          const says = this.config.align === 1 ? `header says ${describeHeader(h, headerMagic(h, ptr, this.mem.wideTinyHeaders))}` : "its live bit is clear";
          if (op === "free") throw new HeapError("DOUBLE_FREE", `free(${fmtPtr(ptr)}): block is not live (${says})`, ptr);
          throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): block is free (use after free)`, ptr);
        }
        const owner = this.containingBlock(ptr);
        if (owner !== 0)
          throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): interior pointer, ${ptr - owner} bytes into the live block at ${fmtPtr(owner)}`, ptr);
        throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): not a live block of this heap`, ptr);
      }
      const header = this.blockHeader(ptr);
      if (header === expected) return;
      if (this.mem.shared) {
        // Stale: another thread freed this block and it was handed out again since (maybe as another class).
        this.live.delete(ptr);
        return;
      }
      throw new HeapError("CORRUPT_HEADER", `${op}(${fmtPtr(ptr)}): header byte is 0x${header.toString(16)}, was 0x${expected.toString(16)} (written over by a buffer underrun?)`, ptr);
    }

    /** The live block whose user bytes contain `ptr`, or 0. */
    private containingBlock(ptr: number): number {
      for (const [p] of this.live) if (ptr > p && ptr < p + super.usableSize(p)) return p;
      return 0;
    }

    private routeOf(ptr: number): string {
      if (this.config.align !== 1) return this.pageRouteOf(ptr);
      const h = this.u8[ptr - 1];
      switch (headerMagic(h, ptr, this.mem.wideTinyHeaders)) {
        case TINY_LIVE: {
          const owner = this.mem.i32[this.mem.meta((ptr - 1) >>> PAGE_SHIFT) + P.OWNER];
          if (this.mem.shared && owner !== this.tid) return "remote";
          return this.mem.config.freeRoute === "lookup" ? "ss_hit" : `header_fast class=${h & TINY_CLASS_MASK}`;
        }
        case MID_LIVE: return "mid";
        case LARGE_LIVE: return "large";
        case ALIGNED_LIVE: return "aligned";
        default: return "invalid";
      }
    }

    /** The route of a header-free heap's free: by the kind of the block's page. */
    private pageRouteOf(ptr: number): string {
      const meta = this.mem.meta(ptr >>> PAGE_SHIFT);
      switch (this.mem.i32[meta + P.KIND]) {
        case KIND_SLAB:
          if (this.mem.shared && this.mem.i32[meta + P.OWNER] !== this.tid) return "remote";
          return `page_fast class=${this.mem.i32[meta + P.CLASS]}`;
        case KIND_MID: return "mid";
        case KIND_LARGE: return "large";
        default: return "invalid";
      }
    }
  };
}
