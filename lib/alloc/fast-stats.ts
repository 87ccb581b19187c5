/**
 * Counting the fast paths' hits: free's header route and mid frees. The seed counted them behind
 * HAKMEM_TINY_FAST_STATS (`statsAtExit` here); the option `fastStats` or the debug build turn it on
 * too. Otherwise the fast paths call Heap's empty `countFast`, and those routes read null in the stats.
 */
import type { HeapConfig } from "./config";
import type { HeapClass } from "./heap";

/** Whether heaps of this configuration count their fast-path hits. */
export function countsFastPaths(c: HeapConfig): boolean {
  return c.fastStats === true || c.statsAtExit === true || c.build === "debug";
}

const counting = new Map<HeapClass, HeapClass>();

/** The counting variant of a front-end class (made once per class). */
export function fastStatsOf(Base: HeapClass): HeapClass {
  let Counting = counting.get(Base);
  if (!Counting) {
    Counting = class FastStatsHeap extends Base {
      override countFast(stat: number): void {
        this.stat[stat]++;
      }
    };
    counting.set(Base, Counting);
  }
  return Counting;
}
