/**
 * How low a heap whose small blocks live on pages of one size class each can go on a trace, when it
 * keeps each block in the smallest class that takes it (its request and the header). At each op,
 * each class holds its live blocks in whole 4 KiB pages of its own (a page the kernel counts as
 * resident serves one class), and every block beyond the tiny tier takes the bytes it asked for and
 * no more. The most that sum reaches over the trace is a floor under such a heap's resident bytes:
 * no policy of refills, caches or page reuse takes it lower. A heap that puts blocks in larger
 * classes than their smallest (borrowing the next class's block, a realloc that shrinks a block where
 * it is, the carrier of an aligned block) fills one class's pages with another's requests, and can
 * hold less; so an aligned request up to the tier's end counts nothing here.
 *
 * Where a heap's pages never change class (a slab serves one class until the heap ends), each class
 * holds the most pages it has needed so far: the same sum with that is what such a heap holds at
 * least; one that holds less moves pages between classes.
 *
 * Beside them, the floor with the best classes at each op, chosen from `granule`-byte multiples up to
 * the tier's end and as many as the sizes need (an optimal partition of the live sizes, each op its
 * own): what no class set goes below with each block in its smallest class. It is evaluated at
 * `samples` ops or more, spread over the trace, and at the op where the floor of the heap's classes
 * peaks.
 */
import type { HeapConfig } from '../../alloc/config';
import { classTable } from '../../alloc/size-classes';
import { OP_ALIGNED, OP_FREE, OP_REALLOC, requestBytes, type Trace } from '../../trace/trace';

/** The kernel's page: what a resident count is made of. */
const PAGE_BYTES = 4096;

export interface ClassFloor {
  /** The floor's bytes at its op. */
  bytes: number;
  /** Ops replayed when the floor peaks (as `npm run footprint` counts its peak's op). */
  op: number;
}

export interface ClassFloors {
  /** With the heap's own classes. */
  heapClasses: ClassFloor;
  /** With the heap's own classes, each keeping the most pages it has needed so far. */
  pagesKept: ClassFloor;
  /** With the best classes for each op. */
  anyClasses: ClassFloor;
}

export interface ClassFloorOptions {
  /** The heap's tiny classes, ascending block sizes; the last is the tier's end. */
  classes: readonly number[];
  /** Bytes a block adds to its request (the 1-byte header; 0 on header-free heaps). */
  header: 0 | 1;
  /** Class sizes the best classes are chosen from are multiples of this. */
  granule: number;
  /** Ops the best classes are evaluated at, at least, spread evenly (default 2000). */
  samples?: number;
}

/** The options that describe a heap of `config`: its tiny classes, its header and its class granule. */
export function classFloorOptions(config: Pick<HeapConfig, 'tinyClasses' | 'tinyMaxClass' | 'align'>): ClassFloorOptions {
  return {
    classes: config.tinyClasses.slice(0, config.tinyMaxClass + 1),
    header: config.align === 1 ? 1 : 0,
    granule: Math.max(8, config.align),
  };
}

/** The floors of `t` (ops in recorded order, every thread's on one heap). */
export function classFloors(t: Trace, o: ClassFloorOptions): ClassFloors {
  // The heap's classes at every op first, to know where the best classes must be looked at too.
  const own = new LiveSizes(o);
  const heapClasses: ClassFloor = { bytes: 0, op: 0 };
  const pagesKept: ClassFloor = { bytes: 0, op: 0 };
  eachOp(t, own, (op) => {
    raise(heapClasses, own.classPageBytes + own.largerBytes, op);
    raise(pagesKept, own.keptPageBytes + own.largerBytes, op);
  });
  const any = new LiveSizes(o);
  const anyClasses: ClassFloor = { bytes: 0, op: 0 };
  const every = Math.max(1, Math.floor(t.length / (o.samples ?? 2000)));
  eachOp(t, any, (op) => {
    if (op % every === 0 || op === heapClasses.op || op === t.length) raise(anyClasses, any.bestClassesBytes() + any.largerBytes, op);
  });
  return { heapClasses, pagesKept, anyClasses };
}

/** Keeps the larger of `floor` and `bytes`, reached after `op` ops. */
function raise(floor: ClassFloor, bytes: number, op: number): void {
  if (bytes > floor.bytes) {
    floor.bytes = bytes;
    floor.op = op;
  }
}

/** The live blocks of a trace as a heap of pages of one class each sees them. */
class LiveSizes {
  private readonly classes: readonly number[];
  private readonly header: number;
  private readonly granule: number;
  /** The class of each request the tiny tier serves, as the heap's malloc finds it. */
  private readonly classOfRequest: Uint8Array;
  private readonly blocksOfClass: Float64Array;
  private readonly mostPagesOfClass: Float64Array;
  /** Live blocks per granule multiple of their need, for the best classes. */
  private readonly blocksOfGranule: Float64Array;
  /** Bytes of the pages the heap's classes hold for their live blocks. */
  classPageBytes = 0;
  /** Bytes of the pages the heap's classes have needed at most, each so far. */
  keptPageBytes = 0;
  /** Bytes of the live blocks beyond the tiny tier. */
  largerBytes = 0;

  constructor(o: ClassFloorOptions) {
    this.classes = o.classes;
    this.header = o.header;
    this.granule = o.granule;
    const largest = o.classes[o.classes.length - 1];
    this.classOfRequest = classTable(o.classes, o.header);
    this.blocksOfClass = new Float64Array(o.classes.length);
    this.mostPagesOfClass = new Float64Array(o.classes.length);
    this.blocksOfGranule = new Float64Array(Math.ceil(largest / o.granule) + 1);
  }

  /** A block of `request` bytes born (`by` 1) or gone (-1); `aligned`: it came from an aligned allocation. */
  change(request: number, by: number, aligned: boolean): void {
    const size = Math.max(request, 1);
    if (size >= this.classOfRequest.length) {
      this.largerBytes += by * request;
      return;
    }
    if (aligned) return;
    const c = this.classOfRequest[size];
    this.classPageBytes -= this.pageBytes(c);
    this.blocksOfClass[c] += by;
    const now = this.pageBytes(c);
    this.classPageBytes += now;
    if (now > this.mostPagesOfClass[c]) {
      this.keptPageBytes += now - this.mostPagesOfClass[c];
      this.mostPagesOfClass[c] = now;
    }
    this.blocksOfGranule[Math.ceil((size + this.header) / this.granule)] += by;
  }

  private pageBytes(c: number): number {
    return Math.ceil((this.blocksOfClass[c] * this.classes[c]) / PAGE_BYTES) * PAGE_BYTES;
  }

  /**
   * The least bytes in whole pages that hold the live tiny blocks, with classes of granule multiples:
   * each class takes a run of consecutive needs at its largest (a partition of the sizes, by dynamic
   * programming over them).
   */
  bestClassesBytes(): number {
    const sizes: number[] = [];
    const counts: number[] = [];
    for (let g = 1; g < this.blocksOfGranule.length; g++) {
      if (this.blocksOfGranule[g] > 0) {
        sizes.push(g * this.granule);
        counts.push(this.blocksOfGranule[g]);
      }
    }
    const least = new Float64Array(sizes.length + 1).fill(Infinity);
    least[0] = 0;
    for (let j = 1; j <= sizes.length; j++) {
      let blocks = 0;
      for (let i = j; i >= 1; i--) {
        blocks += counts[i - 1];
        const bytes = least[i - 1] + Math.ceil((blocks * sizes[j - 1]) / PAGE_BYTES) * PAGE_BYTES;
        if (bytes < least[j]) least[j] = bytes;
      }
    }
    return least[sizes.length];
  }
}

/** Replays the live set of `t` into `live`, then calls `after(ops replayed)` at each op. */
function eachOp(t: Trace, live: LiveSizes, after: (op: number) => void): void {
  const requestOf = new Map<number, number>();
  const alignedIds = new Set<number>();
  for (let i = 0; i < t.length; i++) {
    const id = t.id[i];
    if (t.kind[i] === OP_FREE || t.kind[i] === OP_REALLOC) {
      live.change(requestOf.get(id)!, -1, alignedIds.has(id));
      requestOf.delete(id);
    }
    if (t.kind[i] !== OP_FREE) {
      const n = requestBytes(t, i);
      requestOf.set(id, n);
      if (t.kind[i] === OP_ALIGNED) alignedIds.add(id);
      live.change(n, 1, alignedIds.has(id));
    }
    if (t.kind[i] === OP_FREE) alignedIds.delete(id);
    after(i + 1);
  }
}
