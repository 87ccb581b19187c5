/**
 * Remote frees: a tiny block freed by a thread that does not own its slab is pushed onto the slab's
 * remote stack (lock-free, CAS). The push that makes the stack non-empty also pushes the slab onto
 * its owner's pending stack, so the owner finds it in O(1) when it next refills and drains it into
 * the slab freelist. Slabs of a detached thread have owner 0: their pending stack is the orphans',
 * drained by whichever thread adopts them.
 *
 * Detach and remote free agree through the owner's state word (H.THREAD_LIVE): a detaching thread
 * marks itself LEAVING before it drains and gives its slabs up, and a remote free that pushed onto an
 * owner's pending stack reads that word afterwards; if the owner is no longer ATTACHED, the pusher
 * moves the owner's whole stack to the orphans' itself. Either the owner's last drain (after its
 * mark) sees the push, or the pusher sees the mark: no slab waits on the stack of a thread that is gone.
 */
import type { Heap } from "./heap";
import { linkWord, tierBlockOf, TINY_FREE } from "./header";
import { H, KIND_COALESCING, P, PAGE_SHIFT, pendingWord, STAT, THREAD_ATTACHED } from "./layout";
import { coalescingFree } from "./coalescing";
import { slabGotBlocksBack } from "./slab-lists";
import { leaveAbandonedList } from "./abandoned";
import { cas, exchange, load } from "./sync";

export function remoteFree(heap: Heap, b: number, cls: number): void {
  const m = heap.mem;
  const i32 = m.i32;
  const meta = m.meta(b >>> PAGE_SHIFT);
  // A tiny block in the coalescing tier (tiny-refill.ts refillInTier) has no slab and no owner (a
  // page the arena hands out has owner 0), so every thread's free of it comes here on a shared heap:
  // the tier takes it back under its lock, a mid free.
  if (i32[meta + P.KIND] === KIND_COALESCING) {
    heap.countFast(STAT.mid_free);
    return coalescingFree(m, tierBlockOf(b));
  }
  heap.stat[STAT.remote_free]++;
  m.u8[b] = TINY_FREE | cls;
  // The first guess is a plain read (a stale one only fails the CAS); each retry takes the value the
  // failed CAS found. One Atomics call per push where nothing contends (V8 does not inline them).
  let old = i32[meta + P.REMOTE_HEAD];
  for (;;) {
    i32[linkWord(b)] = old; // published by the CAS
    const found = cas(m, meta + P.REMOTE_HEAD, old, b);
    if (found === old) break;
    old = found;
  }
  // The owner as the free path read it (plain): it changes only by adoption, which drains first.
  if (old === 0) pushPending(heap, b >>> PAGE_SHIFT, i32[meta + P.OWNER]);
}

/**
 * Puts slab `page` on thread `owner`'s pending stack (owner 0: the orphans'). The owner was read
 * before the push and may have left since: then the stack goes to the orphans (see the top).
 */
export function pushPending(heap: Heap, page: number, owner: number): void {
  const m = heap.mem;
  pushOnto(heap, pendingWord(owner), page);
  if (owner !== 0 && load(m, H.THREAD_LIVE + owner) !== THREAD_ATTACHED) forwardToOrphans(heap, owner);
}

function pushOnto(heap: Heap, word: number, page: number): void {
  const m = heap.mem;
  let head = m.i32[word];
  for (;;) {
    m.i32[m.meta(page) + P.REMOTE_NEXT] = head; // published by the CAS
    const found = cas(m, word, head, page);
    if (found === head) return;
    head = found;
  }
}

/**
 * Moves thread `tid`'s whole pending stack onto the orphans': run by a thread leaving, and by a
 * remote free that finds the owner it pushed to leaving or gone. Each slab moves once (the stack is
 * taken whole); an orphan drain sends a slab whose owner is still set back to that owner.
 */
export function forwardToOrphans(heap: Heap, tid: number): void {
  const m = heap.mem;
  let page = exchange(m, pendingWord(tid), 0);
  while (page !== 0) {
    const next = load(m, m.meta(page) + P.REMOTE_NEXT);
    pushOnto(heap, H.THREAD_REMOTE, page);
    page = next;
  }
}

/** Drains every slab on this thread's pending stack into its freelist. */
export function drainRemoteFrees(heap: Heap): void {
  drainPendingStack(heap, pendingWord(heap.tid));
}

/** Takes a whole pending stack and drains each slab on it. */
export function drainPendingStack(heap: Heap, word: number): void {
  const m = heap.mem;
  let page = exchange(m, word, 0);
  while (page !== 0) {
    // Read the link before emptying the slab's stack: a new remote free may re-push the slab at once.
    const next = load(m, m.meta(page) + P.REMOTE_NEXT);
    const ownerWord = m.meta(page) + P.OWNER;
    const owner = load(m, ownerWord);
    if (owner === heap.tid || (owner === 0 && cas(m, ownerWord, 0, heap.tid) === 0)) {
      if (owner === 0) {
        heap.stat[STAT.adopted_slabs]++;
        heap.ownedSlabs.add(page);
        leaveAbandonedList(heap, page);
      }
      drainSlab(heap, page);
    } else {
      // Pushed while its owner was changing hands: it is still pending exactly once, now with its owner.
      pushPending(heap, page, owner);
    }
    page = next;
  }
}

/** Adopts the slabs of detached threads that received frees since (the orphans' pending stack). */
export function adoptOrphans(heap: Heap): void {
  if (heap.mem.shared && load(heap.mem, H.THREAD_REMOTE) !== 0) drainPendingStack(heap, H.THREAD_REMOTE);
}

/** Moves a slab's remote frees to its freelist and settles the slab. The caller owns the slab (or just adopted it). */
function drainSlab(heap: Heap, page: number): void {
  if (takeRemoteFrees(heap, page) !== 0) {
    const meta = heap.mem.meta(page);
    slabGotBlocksBack(heap, page, heap.mem.i32[meta + P.CLASS], heap.mem.i32[meta + P.USED]);
  }
}

/**
 * Moves a slab's remote frees to its freelist, off its count of blocks in use; how many. The caller
 * owns the slab and settles it (slabGotBlocksBack) once, after whatever else it gives back.
 */
export function takeRemoteFrees(heap: Heap, page: number): number {
  const m = heap.mem;
  const i32 = m.i32;
  const meta = m.meta(page);
  let b = exchange(m, meta + P.REMOTE_HEAD, 0);
  if (b === 0) return 0;
  let n = 0;
  let free = i32[meta + P.FREELIST];
  while (b !== 0) {
    const next = i32[linkWord(b)];
    i32[linkWord(b)] = free;
    free = b;
    b = next;
    n++;
  }
  i32[meta + P.FREELIST] = free;
  i32[meta + P.USED] -= n;
  heap.stat[STAT.remote_drained] += n;
  return n;
}
