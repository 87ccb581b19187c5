/**
 * A thread's list of partly free slabs per class, and what happens to a slab when blocks come back
 * to it: refill, spill, remote-free drains and thread exit all decide through here.
 */
import type { Heap } from "./heap";
import * as layout from "./layout";
import { releaseSlot } from "./shared-pool";

// Bound in this module as heap.ts binds its imports (it says why): slabGotBlocksBack runs for
// every run of blocks spilled and every slab drained.
const { FLAG_IN_PARTIAL, KIND_SLAB, P, SLOT_ACTIVE } = layout;

/**
 * Whether an entry of the partial list of `cls` is current. Entries are never removed eagerly: a slab
 * that was released, or reformatted for another class, leaves a stale entry that this rejects.
 */
export function isPartialOf(heap: Heap, page: number, cls: number): boolean {
  const i32 = heap.mem.i32;
  const meta = heap.mem.meta(page);
  return (
    (i32[meta + P.FLAGS] & FLAG_IN_PARTIAL) !== 0 && i32[meta + P.KIND] === KIND_SLAB &&
    i32[meta + P.STATE] === SLOT_ACTIVE && i32[meta + P.OWNER] === heap.tid && i32[meta + P.CLASS] === cls
  );
}

/**
 * After blocks came back to a slab that is not the class's current one: an empty slab goes back to
 * the pool, a partly free one onto the thread's partial list (once).
 */
export function slabGotBlocksBack(heap: Heap, page: number, cls: number, used: number): void {
  if (heap.holdsSlab(page, cls)) return;
  const m = heap.mem;
  const flags = m.meta(page) + P.FLAGS;
  if (used === 0) {
    m.i32[flags] &= ~FLAG_IN_PARTIAL;
    releaseSlot(m, heap, page);
  } else if ((m.i32[flags] & FLAG_IN_PARTIAL) === 0) {
    m.i32[flags] |= FLAG_IN_PARTIAL;
    heap.partial[cls].push(page);
  }
}
