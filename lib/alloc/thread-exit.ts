/**
 * What happens when a thread lets go of a heap (`detach`, also run when a worker exits): its front
 * caches go back to the slabs, its empty slabs back to the pool, its other slabs become orphans
 * (owner 0) that the next thread to free into them adopts, and its counters are merged into the
 * heap's, so nothing is lost when a thread ends (the seed lost its thread-local counters at exit).
 */
import type { Heap } from "./heap";
import { formatStats, mergeThreadStats } from "./stats";
import { H, KIND_SLAB, P, SLOT_ACTIVE } from "./layout";
import { releaseSlot } from "./shared-pool";
import { drainRemoteFrees } from "./remote-free";
import { fetchAdd, load, store } from "./sync";

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
  const l0 = heap.l0Slab;
  heap.l0Slab = 0;
  for (const page of mine) {
    const meta = m.meta(page);
    m.i32[meta + P.FLAGS] = 0;
    if (page === l0 || m.i32[meta + P.USED] === 0) releaseSlot(m, heap, page, false);
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
