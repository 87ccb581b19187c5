/**
 * The SFC ("super front cache") variant: a second bounded list per class in front of the SLL.
 * malloc pops the SFC; on a miss it refills up to `sfcRefillCount` blocks from the SLL (which refills
 * from the slab): the cascade runs one way. free (the base class's, whose pushFree lands here) pushes
 * onto the SFC; past 90% of `sfcCapacity` half of it spills into the SLL. The seed found this
 * two-layer front slower than one list (fix #3).
 */
import { linkWord, TINY_FREE, TINY_LIVE } from "./header";
import { Heap, type FrontList } from "./heap";
import type { HeapMemory } from "./heap-memory";
import { STAT } from "./layout";
import { MAX_CLASSES } from "./size-classes";
import { refill } from "./tiny-refill";

export class SfcHeap extends Heap {
  readonly sfcHeads = new Int32Array(MAX_CLASSES);
  readonly sfcCounts = new Int32Array(MAX_CLASSES);
  private readonly sfcRefill: number;
  private readonly sfcSpillAt: number;

  constructor(mem: HeapMemory, tid: number, log: (line: string) => void) {
    super(mem, tid, log);
    this.sfcRefill = mem.config.sfcRefillCount;
    this.sfcSpillAt = Math.max(1, Math.floor(mem.config.sfcCapacity * 0.9));
  }

  override malloc(size: number): number {
    if (size < this.tinyLimit && size >>> 0 === size) {
      const cls = this.classOf[size];
      const b = this.sfcHeads[cls];
      if (b !== 0) {
        this.sfcHeads[cls] = this.i32[linkWord(b)];
        this.sfcCounts[cls]--;
        this.u8[b] = TINY_LIVE | cls;
        return b + 1;
      }
      return this.sfcRefillAndPop(cls, size);
    }
    return this.mallocSlow(size);
  }

  override pushFree(b: number, cls: number): void {
    this.u8[b] = TINY_FREE | cls;
    this.i32[linkWord(b)] = this.sfcHeads[cls];
    this.sfcHeads[cls] = b;
    if (++this.sfcCounts[cls] > this.sfcSpillAt) this.moveSfcToSll(cls, this.sfcCounts[cls] >> 1);
  }

  private sfcRefillAndPop(cls: number, size: number): number {
    if (this.counts[cls] === 0 && refill(this, cls, this.refillCount) === 0) return this.outOfMemory(size);
    this.stat[STAT.sfc_refills]++;
    let n = Math.min(this.sfcRefill, this.counts[cls]);
    let head = this.heads[cls];
    let sfc = this.sfcHeads[cls];
    this.counts[cls] -= n;
    this.sfcCounts[cls] += n - 1;
    // The first block goes to the caller, the rest onto the SFC.
    const first = head;
    head = this.i32[linkWord(head)];
    while (--n > 0) {
      const b = head;
      head = this.i32[linkWord(b)];
      this.i32[linkWord(b)] = sfc;
      sfc = b;
    }
    this.heads[cls] = head;
    this.sfcHeads[cls] = sfc;
    this.u8[first] = TINY_LIVE | cls;
    return first + 1;
  }

  private moveSfcToSll(cls: number, n: number): void {
    for (let k = 0; k < n; k++) {
      const b = this.sfcHeads[cls];
      this.sfcHeads[cls] = this.i32[linkWord(b)];
      this.sfcCounts[cls]--;
      super.pushFree(b, cls);
    }
  }

  override flushFrontCaches(): void {
    for (let cls = 0; cls < this.blockSize.length; cls++) this.moveSfcToSll(cls, this.sfcCounts[cls]);
    super.flushFrontCaches();
  }

  override frontLists(): FrontList[] {
    return [...super.frontLists(), { name: "SFC", heads: this.sfcHeads, counts: this.sfcCounts }];
  }
}
