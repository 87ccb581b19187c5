/**
 * Where the heap's shared metadata lives inside its buffer. Everything another thread must see (arena
 * bitmap, page/slab metadata, SuperSlab table, registry, shared pool lists, merged stats) is here, so a
 * worker that attaches to the same SharedArrayBuffer sees the same heap. Per-thread state is not.
 */
import type { HeapConfig } from "./config";
import { MAX_CLASSES, MID_CLASSES } from "./size-classes";

export const PAGE_SHIFT = 16; // 64 KiB: the arena's unit and the slab size
export const PAGE = 1 << PAGE_SHIFT;
export const TOUCH_SHIFT = 12; // 4 KiB: how touched memory is counted, like RSS
/** Header-free heaps: one live bit per 8 bytes (the smallest block), 32 of them per Int32 word. */
export const LIVE_GRANULE_SHIFT = 3;
export const LIVE_WORD_SHIFT = LIVE_GRANULE_SHIFT + 5;
export const HEAP_MAGIC = 0x48414b4d; // "HAKM"
export const LAYOUT_VERSION = 2;
export const MAX_THREADS = 256;

/** Header words (Int32 indices). */
export const H = {
  MAGIC: 0, VERSION: 1, BYTES: 2, PAGES: 3,
  ARENA_LOCK: 4, POOL_LOCK: 5, MID_LOCK: 6,
  /** A random id, so a view whose SharedArrayBuffer came through postMessage can be told to be of this heap. */
  HEAP_ID: 7,
  PAGES_IN_USE: 8, PEAK_PAGES: 9, TOUCHED_4K: 10, PEAK_TOUCHED_4K: 11,
  SUPERSLABS: 12, PEAK_SUPERSLABS: 13, LIVE_THREADS: 14,
  /**
   * First page of the first mid span whose carved blocks are all free, not given back yet
   * (midReleaseSpans; 0 = none): a list doubly linked through the spans' P.NEXT and P.PREV.
   */
  MID_EMPTY_SPANS: 15,
  /** Per tiny class: head of the EMPTY-slot list (slab page index, 0 = none). */
  CLASS_SLOTS: 16,
  /** Per mid class: head of the free-block list. */
  MID_FREE: 16 + MAX_CLASSES,
  /** Per mid class: the span its fresh blocks are carved from (first page, 0 = none). */
  MID_SPAN: 16 + 2 * MAX_CLASSES,
  /** Per thread id: head of its pending-remote slab stack (slab page index, 0 = none). */
  THREAD_REMOTE: 64,
  /** Per thread id: THREAD_FREE, THREAD_ATTACHED or THREAD_LEAVING. */
  THREAD_LIVE: 64 + MAX_THREADS,
  WORDS: 64 + 2 * MAX_THREADS,
} as const;

/**
 * Thread id states (H.THREAD_LIVE). LEAVING covers a detach or a reclaim in progress: the id is not
 * free to claim yet, and a remote free that finds its owner not ATTACHED sends the slab to the orphans.
 */
export const THREAD_FREE = 0;
export const THREAD_ATTACHED = 1;
export const THREAD_LEAVING = 2;

/** Per-page metadata words; for slab pages these are the slab's metadata. */
export const P = {
  KIND: 0, CLASS: 1, FREELIST: 2, USED: 3, CARVED: 4, CAPACITY: 5, OWNER: 6,
  REMOTE_HEAD: 7, REMOTE_COUNT: 8, STATE: 9, NEXT: 10, PREV: 11,
  /** Large: span length in pages; mid: first page of the span. */
  SPAN: 12, FLAGS: 13, TOUCHED: 14, REMOTE_NEXT: 15,
  WORDS: 16,
} as const;
export const PAGE_META_SHIFT = 4; // log2(P.WORDS)
/** P.FLAGS bits. */
export const FLAG_IN_PARTIAL = 1;

/** Page kinds. */
export const KIND_FREE = 0;
export const KIND_META = 1;
export const KIND_SLAB = 2;
export const KIND_MID = 3;
export const KIND_LARGE = 4;
export const KIND_LARGE_TAIL = 5;

/** Shared-pool slot states of a slab inside a SuperSlab. */
export const SLOT_UNUSED = 0;
export const SLOT_ACTIVE = 1;
export const SLOT_EMPTY = 2;

/** Per-SuperSlab words. */
export const S = { LIVE: 0, ACTIVE: 1, EMPTY: 2, CURSOR: 3, WORDS: 4 } as const;

/** Shared stats counters (BigInt64 slots). */
export const STAT_NAMES = [
  "header_fast", "ss_hit", "mid_free", "large_free", "remote_free", "remote_drained",
  "refills", "refill_blocks", "spills", "spill_blocks", "sfc_refills", "fast_refills", "fast_refill_failures",
  "stage0_l0", "stage0_5_empty", "stage1_lockfree", "stage2_lockfree", "stage3_new_superslab",
  "slot_release", "slot_freelist", "superslab_completely_empty", "adopted_slabs", "oom", "page_fast",
] as const;
export type StatName = (typeof STAT_NAMES)[number];
export const STAT: Record<StatName, number> = Object.fromEntries(STAT_NAMES.map((n, i) => [n, i])) as Record<StatName, number>;

export interface Layout {
  pages: number;
  superslabs: number;
  ssShift: number;
  pagesPerSS: number;
  /** Byte offsets of each region. */
  statsAt: number;
  ssTableAt: number;
  registryAt: number;
  pageMetaAt: number;
  bitmapAt: number;
  /** The live bitmap of header-free heaps (aligned-heap.ts); -1 on header heaps. */
  liveBitsAt: number;
  /** Pages the metadata occupies at the start of the buffer. */
  metaPages: number;
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

export function computeLayout(config: HeapConfig): Layout {
  const pages = config.bytes >>> PAGE_SHIFT;
  const ssShift = Math.log2(config.superslabBytes);
  const superslabs = Math.max(1, config.bytes >>> ssShift);
  let at = H.WORDS * 4;
  const statsAt = align(at, 8);
  at = statsAt + STAT_NAMES.length * 8;
  const ssTableAt = align(at, 8);
  at = ssTableAt + superslabs * S.WORDS * 4;
  const registryAt = align(at, 8);
  at = registryAt + config.registrySlots * 4;
  const pageMetaAt = align(at, 64);
  at = pageMetaAt + pages * P.WORDS * 4;
  const bitmapAt = align(at, 8);
  at = bitmapAt + Math.ceil(pages / 32) * 4;
  let liveBitsAt = -1;
  if (config.align !== 1) {
    liveBitsAt = align(at, 8);
    at = liveBitsAt + ((pages << PAGE_SHIFT) >>> LIVE_WORD_SHIFT) * 4;
  }
  return {
    pages, superslabs, ssShift, pagesPerSS: 1 << (ssShift - PAGE_SHIFT),
    statsAt, ssTableAt, registryAt, pageMetaAt, bitmapAt, liveBitsAt,
    metaPages: Math.ceil(at / PAGE),
  };
}

export const MID_CLASS_COUNT = MID_CLASSES.length;
