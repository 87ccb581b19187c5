/**
 * Where the heap's shared metadata lives inside its buffer. Everything another thread must see (arena
 * bitmap, page/slab metadata, SuperSlab table, registry, shared pool lists, merged stats) is here, so a
 * worker that attaches to the same SharedArrayBuffer sees the same heap. Per-thread state is not.
 */
import type { HeapConfig } from "./config";
import { MAX_CLASSES, MAX_TINY_CLASSES } from "./size-classes";

export const PAGE_SHIFT = 16; // 64 KiB: the arena's unit and the slab size
export const PAGE = 1 << PAGE_SHIFT;
export const TOUCH_SHIFT = 12; // 4 KiB: how touched memory is counted, like RSS
/** 4 KiB units in a page. */
export const UNITS_PER_PAGE = 1 << (PAGE_SHIFT - TOUCH_SHIFT);
/** Header-free heaps: one live bit per 8 bytes (the smallest block), 32 of them per Int32 word. */
export const LIVE_GRANULE_SHIFT = 3;
export const LIVE_WORD_SHIFT = LIVE_GRANULE_SHIFT + 5;
export const HEAP_MAGIC = 0x48414b4d; // "HAKM"
export const LAYOUT_VERSION = 8;
export const MAX_THREADS = 256;
/** Int32 words per 64-byte cache line. */
export const LINE_WORDS = 16;

/** The coalescing mid tier's free lists: 32 per power-of-two size range, 23 ranges (sizes below 2^31). */
export const COALESCING_LIST_COUNT = 23 << 5;
/** Lines a word per tiny class takes (CLASS_SLOTS, ABANDONED, TINY_BEFORE_SLAB). */
const TINY_CLASS_LINES = MAX_TINY_CLASSES / LINE_WORDS;
/** The first word after the per-class lines: THREAD_LIVE, and the words after it counted from there. */
const THREADS_AT = (7 + 2 * TINY_CLASS_LINES) * LINE_WORDS;

/**
 * Header words (Int32 indices). Words different threads write at different times sit on different
 * 64-byte lines: each lock on its own line (a spinner's CAS does not bounce another lock or a
 * counter), the touched-memory counters (lock-free adds from any carving thread) on their own, and
 * each thread's pending-remote stack head on a line of its own (a remote free's CAS onto one
 * thread's stack does not invalidate the word every other thread reads on each refill).
 */
export const H = {
  MAGIC: 0, VERSION: 1, BYTES: 2, PAGES: 3,
  /** A random id, so a view whose SharedArrayBuffer came through postMessage can be told to be of this heap. */
  HEAP_ID: 7,
  /** Written under the arena lock (pages), the pool lock (SuperSlabs), at attach and detach (threads). */
  PAGES_IN_USE: 8, PEAK_PAGES: 9, SUPERSLABS: 12, PEAK_SUPERSLABS: 13, LIVE_THREADS: 14,
  /**
   * First page of the first mid span whose carved blocks are all free, not given back yet
   * (midReleaseSpans; 0 = none): a list doubly linked through the spans' P.NEXT and P.PREV. Under the mid lock.
   */
  MID_EMPTY_SPANS: 15,
  /** The coalescing mid tier (coalescing.ts), under the mid lock: first page of its first region (0 = none), and the bitmap of its size ranges with a free block. */
  COALESCING_REGIONS: 10, COALESCING_RANGES: 11,
  /**
   * The coalescing tier's trim threshold in bytes, under the mid lock: twice the largest block freed
   * into a top once that is above TRIM_BYTES (coalescing.ts lowerTop); 0 until then.
   */
  COALESCING_TRIM: 4,
  /**
   * The free block left by the coalescing tier's last free that did not reach a top (merged with its
   * free neighbours), while it stays a free block: any removal from its list clears it (0 = none).
   * Under the mid lock.
   */
  COALESCING_LAST_FREED: 5,
  ARENA_LOCK: 1 * LINE_WORDS, POOL_LOCK: 2 * LINE_WORDS, MID_LOCK: 3 * LINE_WORDS,
  TOUCHED_4K: 4 * LINE_WORDS, PEAK_TOUCHED_4K: 4 * LINE_WORDS + 1,
  /** 4 KiB units of the arena's pages ever written (page-arena.ts touchRun): the buffer's resident size. */
  RESIDENT_4K: 4 * LINE_WORDS + 2,
  /** Per tiny class: head of the EMPTY-slot list (slab page index, 0 = none). */
  CLASS_SLOTS: 5 * LINE_WORDS,
  /** Per mid class: head of the free-block list. */
  MID_FREE: (5 + TINY_CLASS_LINES) * LINE_WORDS,
  /** Per mid class: the span its fresh blocks are carved from (first page, 0 = none). */
  MID_SPAN: (6 + TINY_CLASS_LINES) * LINE_WORDS,
  /**
   * Per tiny class: head of the list of abandoned slabs (left by a detached thread with blocks still
   * to give; 0 = none), doubly linked through P.NEXT and P.PREV. Under the pool lock (abandoned.ts).
   */
  ABANDONED: (7 + TINY_CLASS_LINES) * LINE_WORDS,
  /** Per thread id: THREAD_FREE, THREAD_ATTACHED or THREAD_LEAVING (written at attach and detach only). */
  THREAD_LIVE: THREADS_AT,
  /**
   * Per thread id, one line each (see pendingWord): head of its pending-remote stack (slab page
   * index, 0 = none); id 0 is the orphans'.
   */
  THREAD_REMOTE: THREADS_AT + MAX_THREADS,
  /** The coalescing mid tier: per size range, the bitmap of its lists with a free block. */
  COALESCING_LISTS: THREADS_AT + MAX_THREADS + MAX_THREADS * LINE_WORDS,
  /** The coalescing mid tier: per list, its first free block (0 = none). */
  COALESCING_HEADS: THREADS_AT + MAX_THREADS + MAX_THREADS * LINE_WORDS + 2 * LINE_WORDS,
  /**
   * Per tiny class: mallocs the coalescing mid tier still serves before the class's first slab
   * (tinySlabAfterBytes; tiny-refill.ts). Only decreases, by an atomic subtract on shared heaps.
   */
  TINY_BEFORE_SLAB: THREADS_AT + MAX_THREADS + MAX_THREADS * LINE_WORDS + 2 * LINE_WORDS + COALESCING_LIST_COUNT,
  WORDS: THREADS_AT + MAX_THREADS + MAX_THREADS * LINE_WORDS + 2 * LINE_WORDS + COALESCING_LIST_COUNT + TINY_CLASS_LINES * LINE_WORDS,
} as const;


// MID_FREE and MID_SPAN hold a word per mid class on a line each; the tiny classes' words fill whole lines.
if (MAX_CLASSES > LINE_WORDS || MAX_TINY_CLASSES % LINE_WORDS !== 0) throw new Error("layout: the classes do not fit their lines");

/** Int32 index of thread `tid`'s pending-remote stack head (tid 0: the orphans'). */
export function pendingWord(tid: number): number {
  return H.THREAD_REMOTE + tid * LINE_WORDS;
}

/**
 * Thread id states (H.THREAD_LIVE). LEAVING covers a detach or a reclaim in progress: the id is not
 * free to claim yet, and a remote free that finds its owner not ATTACHED sends the slab to the orphans.
 */
export const THREAD_FREE = 0;
export const THREAD_ATTACHED = 1;
export const THREAD_LEAVING = 2;

/**
 * Per-page metadata words, two lines per page; for slab pages these are the slab's metadata. The
 * first line holds what the owner writes (freelist, counts, list links) and what is read-mostly
 * (kind, class, owner); the second what other threads write: the remote-free stack (CAS by every
 * remote free) and the slab's link on a pending stack. So a remote free into a slab does not
 * invalidate the line its owner refills from and reads on every free.
 */
export const P = {
  KIND: 0, CLASS: 1, FREELIST: 2, USED: 3, CARVED: 4, CAPACITY: 5, OWNER: 6,
  STATE: 7, NEXT: 8, PREV: 9,
  /** Large: span length in pages; mid: first page of the span. */
  SPAN: 10, FLAGS: 11, TOUCHED: 12,
  /** 4 KiB units of this page ever written, from its start (0..16): kept when the page is freed or reformatted. */
  WRITTEN: 13,
  REMOTE_HEAD: 16, REMOTE_NEXT: 17,
  WORDS: 32,
} as const;
export const PAGE_META_SHIFT = 5; // log2(P.WORDS)
/** P.FLAGS bits of a slab. */
export const FLAG_IN_PARTIAL = 1;
/** On its class's abandoned list (set and cleared under the pool lock, while the slab has no owner). */
export const FLAG_ABANDONED = 4;

/** Page kinds. */
export const KIND_FREE = 0;
export const KIND_META = 1;
export const KIND_SLAB = 2;
export const KIND_MID = 3;
export const KIND_LARGE = 4;
export const KIND_LARGE_TAIL = 5;
/** A page of a region of the coalescing mid tier (coalescing.ts). */
export const KIND_COALESCING = 6;

/** Shared-pool slot states of a slab inside a SuperSlab. */
export const SLOT_UNUSED = 0;
export const SLOT_ACTIVE = 1;
export const SLOT_EMPTY = 2;

/** Per-SuperSlab words: a line each, so claims in neighbouring SuperSlabs do not share one. */
export const S = { LIVE: 0, ACTIVE: 1, EMPTY: 2, CURSOR: 3, WORDS: LINE_WORDS } as const;

/** Shared stats counters (BigInt64 slots). */
export const STAT_NAMES = [
  "header_fast", "ss_hit", "mid_free", "large_free", "remote_free", "remote_drained",
  "refills", "refill_blocks", "spills", "spill_blocks", "sfc_refills", "fast_refills", "fast_refill_failures",
  "stage0_l0", "stage0_5_empty", "stage1_lockfree", "stage2_lockfree", "stage3_new_superslab",
  "slot_release", "slot_freelist", "superslab_completely_empty", "adopted_slabs", "oom", "page_fast", "adopted_abandoned",
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
  const statsAt = align(at, 64);
  at = statsAt + STAT_NAMES.length * 8;
  const ssTableAt = align(at, 64);
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

