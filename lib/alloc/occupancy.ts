/**
 * A picture of the tiny tier for plots (the heap map): every slab of every live SuperSlab with its
 * class and how full it is. Read without locks: on a shared heap it is a snapshot, not a proof.
 */
import type { Heap } from "./heap";
import { P, S, SLOT_ACTIVE, SLOT_EMPTY } from "./layout";
import { ssFirstPage, ssWord } from "./superslab";

export interface SlabCell {
  superslab: number;
  slab: number;
  /** The tiny class it serves, null when EMPTY or never used. */
  cls: number | null;
  /** Block size of that class, null likewise. */
  blockSize: number | null;
  state: "unused" | "active" | "empty";
  /** Blocks handed out of the slab (to programs or front caches) and blocks it can hold. */
  used: number;
  capacity: number;
  owner: number;
}

export function occupancy(heap: Heap): SlabCell[] {
  const m = heap.mem;
  const cells: SlabCell[] = [];
  for (let ss = 0; ss < m.layout.superslabs; ss++) {
    if (m.i32[ssWord(m, ss) + S.LIVE] !== 1) continue;
    const first = ssFirstPage(m, ss);
    for (let k = 0; k < m.layout.pagesPerSS; k++) {
      const meta = m.meta(first + k);
      const state = m.i32[meta + P.STATE];
      const active = state === SLOT_ACTIVE && m.i32[meta + P.CLASS] >= 0;
      const cls = active ? m.i32[meta + P.CLASS] : null;
      cells.push({
        superslab: ss,
        slab: k,
        cls,
        blockSize: cls === null ? null : heap.blockSize[cls],
        state: state === SLOT_ACTIVE ? "active" : state === SLOT_EMPTY ? "empty" : "unused",
        used: active ? m.i32[meta + P.USED] : 0,
        capacity: active ? m.i32[meta + P.CAPACITY] : 0,
        owner: m.i32[meta + P.OWNER],
      });
    }
  }
  return cells;
}
