/**
 * Phase 6-3's fast path, reproduced with its flaw: a small per-class fast cache layered over the
 * whole Box path instead of integrated with it. Its refill (`tiny_fast_refill -> hak_tiny_alloc_slow`)
 * always carves fresh slabs claimed from the pool and never takes the blocks freed into the layer
 * below, so every fast-cache miss maps new memory until the heap is exhausted; from then on each miss
 * first fails a refill, then falls back to the Box path (the seed's -20% and its 45 GB).
 */
import { linkWord, TINY_FREE, TINY_LIVE } from "./header";
import { Heap, type FrontList } from "./heap";
import type { HeapMemory } from "./heap-memory";
import { P, STAT } from "./layout";
import { MAX_CLASSES } from "./size-classes";
import { acquireFreshSlot } from "./shared-pool";
import { carve, formatSlab } from "./superslab";
import { slabGotBlocksBack } from "./slab-lists";

export class LayeredFastPathHeap extends Heap {
  readonly fastHeads = new Int32Array(MAX_CLASSES);
  readonly fastCounts = new Int32Array(MAX_CLASSES);
  /** Per class: the fresh slab the fast refill carves from. */
  private readonly fresh = new Int32Array(MAX_CLASSES);
  private readonly fastCapacity: number;

  constructor(mem: HeapMemory, tid: number, log: (line: string) => void) {
    super(mem, tid, log);
    this.fastCapacity = mem.config.sfcCapacity;
  }

  override malloc(size: number): number {
    if (size < this.tinyLimit && size >>> 0 === size) {
      const cls = this.classOf[size];
      if (this.fastHeads[cls] !== 0 || this.fastRefill(cls)) {
        const b = this.fastHeads[cls];
        this.fastHeads[cls] = this.i32[linkWord(b)];
        this.fastCounts[cls]--;
        this.u8[b] = TINY_LIVE | cls;
        return b + 1;
      }
      this.stat[STAT.fast_refill_failures]++;
    }
    return super.malloc(size); // the Box path underneath
  }

  override pushFree(b: number, cls: number): void {
    if (this.fastCounts[cls] >= this.fastCapacity) return super.pushFree(b, cls);
    this.u8[b] = TINY_FREE | cls;
    this.i32[linkWord(b)] = this.fastHeads[cls];
    this.fastHeads[cls] = b;
    this.fastCounts[cls]++;
  }

  /** Carves a batch from a fresh slab; false when no fresh slab can be had. */
  private fastRefill(cls: number): boolean {
    const m = this.mem;
    this.stat[STAT.fast_refills]++;
    for (;;) {
      const page = this.fresh[cls];
      if (page !== 0) {
        const meta = m.meta(page);
        const before = m.i32[meta + P.CARVED];
        this.fastHeads[cls] = carve(m, page, this.blockSize[cls], TINY_FREE | cls, this.refillCount, this.fastHeads[cls]);
        const n = m.i32[meta + P.CARVED] - before;
        if (n > 0) {
          m.i32[meta + P.USED] += n;
          this.fastCounts[cls] += n;
          return true;
        }
      }
      const next = acquireFreshSlot(m, this, cls);
      if (next === 0) return false;
      formatSlab(m, next, cls, this.blockSize[cls], this.tid);
      this.fresh[cls] = next;
    }
  }

  /** The fresh slab is still being carved even when all its blocks came back: it must not be released. */
  override holdsSlab(page: number, cls: number): boolean {
    return page === this.fresh[cls] || super.holdsSlab(page, cls);
  }

  override flushFrontCaches(): void {
    for (let cls = 0; cls < this.blockSize.length; cls++) {
      while (this.fastHeads[cls] !== 0) {
        const b = this.fastHeads[cls];
        this.fastHeads[cls] = this.i32[linkWord(b)];
        this.fastCounts[cls]--;
        super.pushFree(b, cls);
      }
    }
    super.flushFrontCaches();
    for (let cls = 0; cls < this.blockSize.length; cls++) {
      const page = this.fresh[cls];
      if (page === 0) continue;
      this.fresh[cls] = 0;
      slabGotBlocksBack(this, page, cls, this.mem.i32[this.mem.meta(page) + P.USED]);
    }
  }

  override frontLists(): FrontList[] {
    return [...super.frontLists(), { name: "fast cache", heads: this.fastHeads, counts: this.fastCounts }];
  }
}
