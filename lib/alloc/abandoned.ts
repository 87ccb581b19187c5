/**
 * Abandoned slabs: a thread that detaches leaves its partly used slabs without an owner. Those that
 * still have blocks to give (on their freelist or not yet carved) go onto their class's abandoned
 * list, and the next thread that needs a slab of that class takes one from there before it asks the
 * pool for another: a new thread carries on in the memory of the one before, as a new thread of a C
 * malloc carries on in the arena of a thread that exited. Without the lists such a slab waits until
 * a remote free makes it an orphan on the pending stack (remote-free.ts), and the next thread carves
 * fresh slabs meanwhile (larson's generations: 3.6x the peak heap of one thread running on).
 *
 * The lists are page lists (page-lists.ts: P.NEXT and P.PREV are free while a slab is ACTIVE, the
 * EMPTY-slot lists use them) edited under the pool lock. A slab is listed exactly while FLAG_ABANDONED is
 * set; the flag is set before the owner word goes to 0, so a thread that adopts the slab through the
 * orphans' pending stack instead (a CAS 0 -> tid, without the lock) sees it and takes the slab off
 * the list (leaveAbandonedList) before it touches the slab's flags.
 */
import type { Heap } from "./heap";
import { FLAG_ABANDONED, H, P, STAT } from "./layout";
import { pushPage, unlinkPage } from "./page-lists";
import { cas, load, lock, store, unlock } from "./sync";

/** Detach: gives up `pages` (this thread's slabs with blocks in use); those with room are listed. */
export function abandonSlabs(heap: Heap, pages: readonly number[]): void {
  const m = heap.mem;
  const i32 = m.i32;
  lock(m, H.POOL_LOCK);
  try {
    for (const page of pages) {
      const meta = m.meta(page);
      const room = i32[meta + P.FREELIST] !== 0 || i32[meta + P.CARVED] < i32[meta + P.CAPACITY];
      i32[meta + P.FLAGS] = room ? FLAG_ABANDONED : 0;
      if (room) pushPage(m, H.ABANDONED + i32[meta + P.CLASS], page);
      store(m, meta + P.OWNER, 0); // last: an adopter that sees no owner sees the flag
    }
  } finally {
    unlock(m, H.POOL_LOCK);
  }
}

/** An abandoned slab of class `cls`, now owned by this thread (not yet its current slab); 0 if none. */
export function adoptAbandoned(heap: Heap, cls: number): number {
  const m = heap.mem;
  const word = H.ABANDONED + cls;
  if (load(m, word) === 0) return 0;
  lock(m, H.POOL_LOCK);
  try {
    for (let page = m.i32[word]; page !== 0; page = m.i32[word]) {
      unlink(heap, page);
      // Lost only to a thread that adopted it from the orphans' pending stack meanwhile.
      if (cas(m, m.meta(page) + P.OWNER, 0, heap.tid) === 0) {
        heap.ownedSlabs.add(page);
        heap.stat[STAT.adopted_abandoned]++;
        return page;
      }
    }
    return 0;
  } finally {
    unlock(m, H.POOL_LOCK);
  }
}

/** After adopting `page` by other means: takes it off its abandoned list if it is still there. */
export function leaveAbandonedList(heap: Heap, page: number): void {
  const m = heap.mem;
  if ((m.i32[m.meta(page) + P.FLAGS] & FLAG_ABANDONED) === 0) return;
  lock(m, H.POOL_LOCK);
  try {
    if ((m.i32[m.meta(page) + P.FLAGS] & FLAG_ABANDONED) !== 0) unlink(heap, page);
  } finally {
    unlock(m, H.POOL_LOCK);
  }
}

/** Under the pool lock: takes a listed slab off its class's list and clears its flag. */
function unlink(heap: Heap, page: number): void {
  const m = heap.mem;
  const meta = m.meta(page);
  unlinkPage(m, H.ABANDONED + m.i32[meta + P.CLASS], page);
  m.i32[meta + P.FLAGS] &= ~FLAG_ABANDONED;
}
