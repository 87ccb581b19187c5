/**
 * The page arena: the provider under every tier. It hands out runs of 64 KiB pages from a bitmap in
 * the buffer (1 = free), aligned when asked (SuperSlabs are aligned to their size so `ptr & ~mask`
 * finds them). Runs under the arena lock. Also keeps two counts of memory at 4 KiB granularity: the
 * bytes the tiers hold written ("touched", which falls when a tier gives pages back, as a native
 * heap's resident size falls on munmap), and the bytes ever written ("resident"): a buffer cannot give
 * pages back to the system, so a page once written stays resident in the process.
 */
import type { HeapMemory } from "./heap-memory";
import * as layout from "./layout";
import * as sync from "./sync";

// Bound in this module so that V8 folds them (heap.ts says why): touchRun runs on every carve.
const { H, KIND_FREE, KIND_META, P, UNITS_PER_PAGE } = layout;
const { fetchAdd, lock, raiseTo, unlock } = sync;

/** Marks every page free except the metadata pages. Called once when a heap is created. */
export function initArena(m: HeapMemory): void {
  const { pages, metaPages } = m.layout;
  for (let p = 0; p < pages; p++) {
    const meta = m.meta(p);
    m.i32[meta + P.KIND] = p < metaPages ? KIND_META : KIND_FREE;
    if (p >= metaPages) setFree(m, p, true);
  }
}

function isFree(m: HeapMemory, page: number): boolean {
  return (m.i32[m.bitmap + (page >>> 5)] & (1 << (page & 31))) !== 0;
}

function setFree(m: HeapMemory, page: number, free: boolean): void {
  const w = m.bitmap + (page >>> 5);
  if (free) m.i32[w] |= 1 << (page & 31);
  else m.i32[w] &= ~(1 << (page & 31));
}

/**
 * Takes `count` contiguous free pages starting at a multiple of `alignPages`.
 * Returns the first page index, or 0 when no such run exists (page 0 is always metadata).
 */
export function allocPages(m: HeapMemory, count: number, alignPages = 1): number {
  lock(m, H.ARENA_LOCK);
  try {
    const first = findRun(m, count, alignPages);
    if (first !== 0) takePages(m, first, count);
    return first;
  } finally {
    unlock(m, H.ARENA_LOCK);
  }
}

/** Takes the `count` pages from `first` on if every one is free (growing a run in place); false otherwise. */
export function allocPagesAt(m: HeapMemory, first: number, count: number): boolean {
  lock(m, H.ARENA_LOCK);
  try {
    if (first + count > m.layout.pages) return false;
    for (let p = first; p < first + count; p++) if (!isFree(m, p)) return false;
    takePages(m, first, count);
    return true;
  } finally {
    unlock(m, H.ARENA_LOCK);
  }
}

/** Marks the free run `first`..`first + count - 1` in use and counts it (arena lock held). */
function takePages(m: HeapMemory, first: number, count: number): void {
  for (let p = first; p < first + count; p++) setFree(m, p, false);
  const inUse = m.i32[H.PAGES_IN_USE] + count;
  m.i32[H.PAGES_IN_USE] = inUse;
  if (inUse > m.i32[H.PEAK_PAGES]) m.i32[H.PEAK_PAGES] = inUse;
}

export function freePages(m: HeapMemory, first: number, count: number): void {
  lock(m, H.ARENA_LOCK);
  try {
    for (let p = first; p < first + count; p++) {
      clearPageMeta(m, p);
      m.i32[m.meta(p) + P.KIND] = KIND_FREE;
      setFree(m, p, true);
    }
    m.i32[H.PAGES_IN_USE] -= count;
  } finally {
    unlock(m, H.ARENA_LOCK);
  }
}

/**
 * Zeroes page `p`'s metadata but for what it has had written (P.WRITTEN): stale words must not make a
 * later reader take this page for a slab.
 */
export function clearPageMeta(m: HeapMemory, p: number): void {
  const meta = m.meta(p);
  const written = m.i32[meta + P.WRITTEN];
  m.i32.fill(0, meta, meta + P.WORDS);
  m.i32[meta + P.WRITTEN] = written;
}

function findRun(m: HeapMemory, count: number, alignPages: number): number {
  const pages = m.layout.pages;
  let start = Math.ceil(m.layout.metaPages / alignPages) * alignPages;
  while (start + count <= pages) {
    // Skip whole words with no free page at all.
    if ((start & 31) === 0 && m.i32[m.bitmap + (start >>> 5)] === 0) {
      start += Math.max(32, alignPages);
      continue;
    }
    let run = 0;
    while (run < count && isFree(m, start + run)) run++;
    if (run === count) return start;
    // The page at start+run is taken: the next candidate is the first aligned start past it.
    start = (Math.floor((start + run) / alignPages) + 1) * alignPages;
  }
  return 0;
}

/**
 * Raises the run that starts at page `first` to `units` 4 KiB units touched from its start (nothing
 * when it has as many): the tier's count on the run's first page (P.TOUCHED) and the heap's, and the
 * units its pages ever had written (P.WRITTEN, H.RESIDENT_4K). Every tier touches a run from its start
 * up, so a prefix of units is what each page has written.
 */
export function touchRun(m: HeapMemory, first: number, units: number): void {
  const head = m.meta(first);
  const had = m.i32[head + P.TOUCHED];
  if (units <= had) return;
  m.i32[head + P.TOUCHED] = units;
  addTouched(m, units - had);
  let raised = 0;
  for (let p = first + Math.floor(had / UNITS_PER_PAGE); (p - first) * UNITS_PER_PAGE < units; p++) {
    const w = m.meta(p) + P.WRITTEN;
    const now = Math.min(UNITS_PER_PAGE, units - (p - first) * UNITS_PER_PAGE);
    if (now > m.i32[w]) {
      raised += now - m.i32[w];
      m.i32[w] = now;
    }
  }
  if (raised > 0) fetchAdd(m, H.RESIDENT_4K, raised);
}

/** Counts memory as touched (4 KiB units, negative when a tier gives it back), keeping the high-water mark. */
export function addTouched(m: HeapMemory, units: number): void {
  const now = fetchAdd(m, H.TOUCHED_4K, units) + units;
  if (units > 0) raiseTo(m, H.PEAK_TOUCHED_4K, now);
}
