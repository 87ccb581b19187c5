/**
 * The buffer walk of the SmartHeap benchmarks (sh6bench.ts, sh8bench.ts; scripts/native/slot-walk.h):
 * new blocks go into the slots in turn, skipping a kept window; when the walk reaches the end it
 * wraps, keeps the next window of slots (after the last one, or from 0 once that one reached the
 * end) and frees every other block.
 */
import type { MallocFree } from '../adapters/allocator-adapter';

/**
 * The wrap's frees: every block outside the kept window [start, end) of `slots` slots, the bottom
 * in order, the top in reverse (the order the suite frees them in). Returns how many it freed.
 */
export function freeOutsideWindow(m: MallocFree<number>, slot: Int32Array, slots: number, start: number, end: number): number {
  for (let i = 0; i < start; i++) m.free(slot[i]);
  for (let i = slots; i > end; ) m.free(slot[--i]);
  return start + slots - end;
}
