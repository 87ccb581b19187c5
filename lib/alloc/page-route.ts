/**
 * free's and usableSize's route on header-free heaps (align 8 or 16) when the fast path (a live bit
 * at the pointer, on a slab or mid page) does not apply: the large tier, the registry route, a detached
 * handle, and every refusal. With no header byte, the page metadata names the tier and the class; the
 * pointer must start a block of its slab or mid span (else: interior or misaligned), and the live
 * bitmap says whether that block is live (else: a double free, or use after free).
 */
import { HeapError, fmtPtr } from "./errors";
import { checkUserPointer } from "./free-route";
import { LARGE_FREE, MAGIC_MASK, MID_FREE, TINY_FREE } from "./header";
import type { Heap } from "./heap";
import { KIND_FREE, KIND_LARGE, KIND_LARGE_TAIL, KIND_MID, KIND_SLAB, P, PAGE, PAGE_SHIFT, SLOT_ACTIVE, STAT } from "./layout";
import { largeFree, largeUsableSize } from "./large";
import { clearLive, isLive } from "./live-bitmap";
import { midCarved, spanPages } from "./mid";
import { lookupSuperSlab } from "./registry";

/** A block start found through the page metadata: its tier, class (tiny and mid) and usable size. */
interface PageBlock {
  kind: typeof KIND_SLAB | typeof KIND_MID | typeof KIND_LARGE;
  cls: number;
  size: number;
}

/**
 * A block freed on a page that went back since (an empty slab, a mid span, a large block's pages):
 * the page serves nothing now, but the block's first byte still carries the free mark it got.
 */
const FREED_PAGE = null;

function hasFreeMark(heap: Heap, ptr: number): boolean {
  const mark = heap.u8[ptr];
  const magic = mark & MAGIC_MASK;
  return ptr % heap.config.align === 0 && (magic === TINY_FREE || magic === MID_FREE || mark === LARGE_FREE);
}

/**
 * The block starting at `ptr` by the page metadata, live or free; FREED_PAGE for a block freed on a
 * page that went back. Throws INVALID_POINTER when no block starts there.
 */
function blockAt(heap: Heap, ptr: number, op: string): PageBlock | typeof FREED_PAGE {
  checkUserPointer(heap, ptr, op);
  const m = heap.mem;
  const page = ptr >>> PAGE_SHIFT;
  const meta = m.meta(page);
  const offset = ptr - (page << PAGE_SHIFT);
  const refuse = (why: string) => new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): ${why}`, ptr);
  switch (m.i32[meta + P.KIND]) {
    case KIND_SLAB: {
      const cls = m.i32[meta + P.CLASS];
      if (m.i32[meta + P.STATE] !== SLOT_ACTIVE || cls < 0) {
        if (hasFreeMark(heap, ptr)) return FREED_PAGE;
        throw refuse("the slab holding it serves no class");
      }
      const size = heap.blockSize[cls];
      if (offset % size !== 0) throw refuse(`interior pointer, ${offset % size} bytes into a ${size}-byte block`);
      if (offset / size >= m.i32[meta + P.CARVED]) throw refuse("not a block returned by malloc (never handed out)");
      return { kind: KIND_SLAB, cls, size };
    }
    case KIND_MID: {
      const cls = m.i32[meta + P.CLASS];
      const size = m.midSizes[cls];
      const fromSpan = ptr - (m.i32[meta + P.SPAN] << PAGE_SHIFT);
      if (fromSpan % size !== 0) throw refuse(`interior pointer, ${fromSpan % size} bytes into a ${size}-byte mid block`);
      if (fromSpan + size > spanPages(m, cls) * PAGE) throw refuse("not a block returned by malloc (the end of a mid span)");
      if (!midCarved(m, ptr, cls)) throw refuse("not a block returned by malloc (never handed out)");
      return { kind: KIND_MID, cls, size };
    }
    case KIND_LARGE:
      if (offset !== 0) throw refuse(`interior pointer, ${offset} bytes into the large block at ${fmtPtr(page << PAGE_SHIFT)}`);
      return { kind: KIND_LARGE, cls: -1, size: largeUsableSize(m, ptr) };
    case KIND_LARGE_TAIL:
      throw refuse(`interior pointer into the large block at ${fmtPtr(m.i32[meta + P.SPAN] << PAGE_SHIFT)}`);
    case KIND_FREE:
      if (hasFreeMark(heap, ptr)) return FREED_PAGE;
      throw refuse("not a block returned by malloc (its page is free)");
    default:
      throw refuse("not a block returned by malloc");
  }
}

/** The live block starting at `ptr`; a free one is a double free (free) or a use after free. */
function liveBlockAt(heap: Heap, ptr: number, op: string): PageBlock {
  const block = blockAt(heap, ptr, op);
  if (block !== FREED_PAGE && (block.kind === KIND_LARGE || isLive(heap.mem, ptr))) return block;
  if (op === "free") throw new HeapError("DOUBLE_FREE", `free(${fmtPtr(ptr)}): block already freed (its live bit is clear)`, ptr);
  throw new HeapError("INVALID_POINTER", `${op}(${fmtPtr(ptr)}): block is free (use after free)`, ptr);
}

export function pageFreeSlow(heap: Heap, ptr: number): void {
  if (ptr === 0) return;
  const block = liveBlockAt(heap, ptr, "free");
  heap.assertAttached();
  const m = heap.mem;
  switch (block.kind) {
    case KIND_SLAB: {
      if (lookupSuperSlab(m, ptr) < 0)
        throw new HeapError("INVALID_POINTER", `free(${fmtPtr(ptr)}): its slab is in no SuperSlab of the registry`, ptr);
      clearLive(m, ptr);
      if (m.shared && m.i32[m.meta(ptr >>> PAGE_SHIFT) + P.OWNER] !== heap.tid) return heap.freeRemoteBlock(ptr, block.cls);
      heap.stat[STAT.ss_hit]++;
      return heap.pushFree(ptr, block.cls);
    }
    case KIND_MID:
      clearLive(m, ptr);
      heap.countFast(STAT.mid_free);
      return heap.pushFreeMid(ptr, block.cls);
    case KIND_LARGE:
      heap.stat[STAT.large_free]++;
      return largeFree(m, ptr);
  }
}

export function pageUsableSize(heap: Heap, ptr: number, op: string): number {
  return liveBlockAt(heap, ptr, op).size;
}

/** Whether a free block (or a freed large block) starts at `ptr`. */
export function isFreedPageBlock(heap: Heap, ptr: number): boolean {
  try {
    const block = blockAt(heap, ptr, "isFreedBlock");
    return block === FREED_PAGE || (block.kind !== KIND_LARGE && !isLive(heap.mem, ptr));
  } catch {
    return false;
  }
}
