/**
 * What happens when a thread lets go of a heap (`detach`, also run when a worker exits): its front
 * caches go back to the slabs, its empty slabs back to the pool, its other slabs become orphans
 * (owner 0) that the next thread to free into them adopts, and its counters are merged into the
 * heap's, so nothing is lost when a thread ends (the seed lost its thread-local counters at exit).
 */
import { HeapError } from "./errors";
import { linkWord, TINY_FREE } from "./header";
import type { Heap } from "./heap";
import { formatStats, mergeThreadStats } from "./stats";
import { H, KIND_SLAB, MAX_THREADS, P, PAGE_SHIFT, SLOT_ACTIVE } from "./layout";
import { releaseEmptySuperSlabs, releaseSlot } from "./shared-pool";
import { reclaimMidCache, releaseEmptyMidSpans } from "./mid";
import { adoptOrphans, drainPendingStack, drainRemoteFrees, drainSlab } from "./remote-free";
import { slabGotBlocksBack } from "./slab-lists";
import { cas, fetchAdd, load, store } from "./sync";
import { isLive } from "./live-bitmap";

/** `heap.trim()`: see there. */
export function trimThread(heap: Heap): void {
  const m = heap.mem;
  heap.flushFrontCaches();
  drainRemoteFrees(heap);
  adoptOrphans(heap);
  for (let cls = 0; cls < heap.blockSize.length; cls++) {
    const page = heap.current[cls];
    if (page === 0) continue;
    heap.current[cls] = 0;
    slabGotBlocksBack(heap, page, cls, m.i32[m.meta(page) + P.USED]);
  }
  if (heap.l0Slab !== 0) {
    const page = heap.l0Slab;
    heap.l0Slab = 0;
    releaseSlot(m, heap, page, false);
  }
  releaseEmptyMidSpans(m);
  releaseEmptySuperSlabs(m, heap);
}

export function detachThread(heap: Heap): void {
  const m = heap.mem;
  heap.flushFrontCaches();
  if (m.config.statsAtExit) heap.logLine(formatStats(heap.stats()));
  drainRemoteFrees(heap);
  const mine: number[] = [];
  for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
    const meta = m.meta(page);
    if (m.i32[meta + P.KIND] === KIND_SLAB && m.i32[meta + P.STATE] === SLOT_ACTIVE && load(m, meta + P.OWNER) === heap.tid) mine.push(page);
  }
  heap.current.fill(0);
  for (const list of heap.partial) list.length = 0;
  heap.l0Slab = 0;
  for (const page of mine) {
    const meta = m.meta(page);
    m.i32[meta + P.FLAGS] = 0;
    if (m.i32[meta + P.USED] === 0) releaseSlot(m, heap, page, false);
    else store(m, meta + P.OWNER, 0);
  }
  // A remote free that read this thread as owner just before the hand-over may still land on its
  // pending stack: the next thread to get this id drains it and adopts those slabs (owner 0).
  mergeThreadStats(heap);
  if (m.shared) {
    store(m, H.THREAD_LIVE + heap.tid, 0);
    fetchAdd(m, H.LIVE_THREADS, -1);
  }
}

/**
 * Takes over the heap state of a thread that died without detaching (a terminated worker): the
 * calling thread adopts its slabs, drains their remote frees, and recovers the blocks that sat in the
 * dead thread's front caches (tiny: marked free in their first byte, not live, and on no freelist;
 * mid: marked as held by that thread). Call it once no other thread is still freeing blocks into the dead thread's
 * slabs. Its counters were in the dead thread's own memory and are lost.
 */
export function reclaimThread(heap: Heap, tid: number): number {
  const m = heap.mem;
  if (!Number.isInteger(tid) || tid < 1 || tid >= MAX_THREADS || tid === heap.tid)
    throw new HeapError("INVALID_OPTION", `reclaimThread(${tid}): not the id of another thread (1..${MAX_THREADS - 1})`);
  if (load(m, H.THREAD_LIVE + tid) === 0) return 0;
  let recovered = 0;
  for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
    const meta = m.meta(page);
    if (m.i32[meta + P.KIND] !== KIND_SLAB || m.i32[meta + P.STATE] !== SLOT_ACTIVE) continue;
    if (cas(m, meta + P.OWNER, tid, heap.tid) !== tid) continue;
    m.i32[meta + P.FLAGS] = 0;
    drainSlab(heap, page);
    recovered += recoverCachedBlocks(heap, page);
    slabGotBlocksBack(heap, page, m.i32[meta + P.CLASS], m.i32[meta + P.USED]);
  }
  drainPendingStack(heap, H.THREAD_REMOTE + tid);
  recovered += reclaimMidCache(m, tid);
  store(m, H.THREAD_LIVE + tid, 0);
  fetchAdd(m, H.LIVE_THREADS, -1);
  return recovered;
}

/** Puts back on the freelist every carved block marked free that is not on it. Returns how many. */
function recoverCachedBlocks(heap: Heap, page: number): number {
  const m = heap.mem;
  const meta = m.meta(page);
  const cls = m.i32[meta + P.CLASS];
  const size = heap.blockSize[cls];
  const onFreelist = new Set<number>();
  for (let b = m.i32[meta + P.FREELIST]; b !== 0; b = m.i32[linkWord(b)]) onFreelist.add(b);
  const base = page << PAGE_SHIFT;
  let n = 0;
  for (let k = 0; k < m.i32[meta + P.CARVED]; k++) {
    const b = base + k * size;
    if (m.u8[b] !== (TINY_FREE | cls) || isLive(m, b) || onFreelist.has(b)) continue;
    m.i32[linkWord(b)] = m.i32[meta + P.FREELIST];
    m.i32[meta + P.FREELIST] = b;
    m.i32[meta + P.USED]--;
    n++;
  }
  return n;
}
