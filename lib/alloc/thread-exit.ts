/**
 * What happens when a thread lets go of a heap (`detach`, also run when a worker exits): its front
 * caches go back to the slabs, its empty slabs back to the pool, its other slabs lose their owner
 * (abandoned.ts: the next thread that needs a slab of their class, or frees into one, adopts it),
 * and its counters are merged into the heap's, so nothing is lost when a thread ends (the seed lost
 * its thread-local counters at exit).
 */
import { HeapError } from "./errors";
import { linkWord, TINY_FREE } from "./header";
import type { Heap } from "./heap";
import { formatStats, mergeThreadStats } from "./stats";
import { H, KIND_SLAB, MAX_THREADS, P, PAGE_SHIFT, pendingWord, SLOT_ACTIVE, THREAD_ATTACHED, THREAD_FREE, THREAD_LEAVING } from "./layout";
import { releaseEmptySuperSlabs, releaseSlot } from "./shared-pool";
import { reclaimMidCache, releaseEmptyMidSpans } from "./mid";
import { trimCoalescing } from "./coalescing";
import { reclaimCoalescingCache } from "./coalescing-cache";
import { adoptOrphans, drainRemoteFrees, forwardToOrphans, takeRemoteFrees } from "./remote-free";
import { abandonSlabs } from "./abandoned";
import { slabGotBlocksBack } from "./slab-lists";
import { cas, exchange, fetchAdd, store } from "./sync";
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
  trimCoalescing(m);
  releaseEmptySuperSlabs(m, heap);
}

export function detachThread(heap: Heap): void {
  const m = heap.mem;
  heap.flushFrontCaches();
  if (m.config.statsAtExit) heap.logLine(formatStats(heap.stats()));
  // Marked first: a remote free that reaches this thread's pending stack after the drain below sees
  // the mark and sends the slab to the orphans itself (remote-free.ts).
  if (m.shared) store(m, H.THREAD_LIVE + heap.tid, THREAD_LEAVING);
  drainRemoteFrees(heap);
  // This thread's slabs, also those the drain just adopted: no page scan.
  const mine = [...heap.ownedSlabs];
  heap.ownedSlabs.clear();
  heap.current.fill(0);
  for (const list of heap.partial) list.length = 0;
  heap.l0Slab = 0;
  const inUse: number[] = [];
  for (const page of mine) {
    const meta = m.meta(page);
    m.i32[meta + P.FLAGS] = 0;
    if (m.i32[meta + P.USED] === 0) releaseSlot(m, heap, page, false);
    else inUse.push(page);
  }
  abandonSlabs(heap, inUse);
  // Slabs pushed since the drain by remote frees that read this thread as their owner: orphans now.
  forwardToOrphans(heap, heap.tid);
  mergeThreadStats(heap);
  if (m.shared) {
    store(m, H.THREAD_LIVE + heap.tid, THREAD_FREE);
    fetchAdd(m, H.LIVE_THREADS, -1);
  }
}

/**
 * Takes over the heap state of a thread that died without detaching (a terminated worker): the
 * calling thread adopts its slabs (found by a page scan: their list died with the thread), drains
 * their remote frees, and recovers the blocks that sat in the dead thread's front caches (tiny:
 * marked free in their first byte, not live, and on no freelist; mid and coalescing: marked as held
 * by that thread). Call it once no other thread is still freeing blocks into the dead thread's slabs. Its
 * counters were in the dead thread's own memory and are lost.
 */
export function reclaimThread(heap: Heap, tid: number): number {
  const m = heap.mem;
  if (!Number.isInteger(tid) || tid < 1 || tid >= MAX_THREADS || tid === heap.tid)
    throw new HeapError("INVALID_OPTION", `reclaimThread(${tid}): not the id of another thread (1..${MAX_THREADS - 1})`);
  // LEAVING from here: remote frees that still reach its pending stack send the slabs to the orphans.
  if (cas(m, H.THREAD_LIVE + tid, THREAD_ATTACHED, THREAD_LEAVING) !== THREAD_ATTACHED) return 0;
  // Its pending slabs are its own (it never detached), each drained below: the stack is dropped
  // first, so that no slab drained (and maybe released) here is left on it as a stale entry.
  exchange(m, pendingWord(tid), 0);
  let recovered = 0;
  for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
    const meta = m.meta(page);
    if (m.i32[meta + P.KIND] !== KIND_SLAB || m.i32[meta + P.STATE] !== SLOT_ACTIVE) continue;
    if (cas(m, meta + P.OWNER, tid, heap.tid) !== tid) continue;
    heap.ownedSlabs.add(page);
    m.i32[meta + P.FLAGS] = 0;
    // Settled once, after both: settling after the drain too released a slab the drain emptied twice.
    takeRemoteFrees(heap, page);
    recovered += recoverCachedBlocks(heap, page);
    slabGotBlocksBack(heap, page, m.i32[meta + P.CLASS], m.i32[meta + P.USED]);
  }
  recovered += reclaimMidCache(m, tid);
  recovered += reclaimCoalescingCache(m, tid);
  store(m, H.THREAD_LIVE + tid, THREAD_FREE);
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
