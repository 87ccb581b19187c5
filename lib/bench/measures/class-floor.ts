/**
 * How low a heap whose small blocks live on pages of one size class each can go on a trace, whatever
 * else it does. At each op, every live block up to the tiny tier's end sits in the smallest class
 * that takes it (its request and the header), each class holds its blocks in whole 4 KiB units of
 * its own (a page the kernel counts as resident serves one class), and every larger block takes the
 * bytes it asked for and no more. The most that sum reaches over the trace is a floor under the
 * heap's resident bytes: no policy of refills, caches or page reuse takes it lower. A heap that puts
 * a block in a larger class than the smallest (borrowing the next class's block, a realloc that
 * shrinks a block where it is) can hold a few KiB less: it fills one class's unit with another's
 * requests.
 *
 * Where a heap's pages never change class (a slab serves one class until the heap ends), each class
 * holds the most pages it has needed so far: the same sum with that, for the heap's classes, is
 * what such a heap holds at least; one that is above it moves pages between classes.
 *
 * Beside them, the floor with the best classes at each op, chosen from `granule`-byte multiples up to
 * the tier's end and as many as the sizes need: what no class set can go below, since each op may
 * pick its own. That one is evaluated at `samples` ops spread over the trace and at the op where
 * the floor of the heap's classes peaks (an optimal partition of the live sizes per op).
 */
import { OP_FREE, OP_REALLOC, requestBytes, type Trace } from '../../trace/trace';

/** The kernel's page: what a resident count is made of. */
const UNIT = 4096;

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
  header: number;
  /** Class sizes the best classes are chosen from are multiples of this. */
  granule: number;
  /** Ops the best classes are evaluated at, spread evenly (default 2000). */
  samples?: number;
}

/** The floors of `t` (ops in recorded order, every thread's on one heap). */
export function classFloors(t: Trace, o: ClassFloorOptions): ClassFloors {
  const classes = o.classes;
  const largest = classes[classes.length - 1];
  // The class of each need (request + header) up to the tier's end.
  const classOfNeed = new Int32Array(largest + 1);
  for (let need = largest, c = classes.length - 1; need >= 0; need--) {
    while (c > 0 && classes[c - 1] >= need) c--;
    classOfNeed[need] = c;
  }
  const perClass = new Float64Array(classes.length);
  const mostUnits = new Float64Array(classes.length);
  // Live blocks per granule multiple of their need, for the best classes.
  const perGranule = new Float64Array(Math.ceil(largest / o.granule) + 1);
  let unitBytes = 0;
  let keptBytes = 0;
  let larger = 0;
  const units = (c: number) => Math.ceil((perClass[c] * classes[c]) / UNIT) * UNIT;
  const change = (request: number, by: number) => {
    const need = Math.max(request, 1) + o.header;
    if (need > largest) {
      larger += by * request;
      return;
    }
    const c = classOfNeed[need];
    unitBytes -= units(c);
    perClass[c] += by;
    const now = units(c);
    unitBytes += now;
    if (now > mostUnits[c]) {
      keptBytes += now - mostUnits[c];
      mostUnits[c] = now;
    }
    perGranule[Math.ceil(need / o.granule)] += by;
  };

  // The heap's classes at every op first, to know where the best classes must be looked at too.
  const heapClasses: ClassFloor = { bytes: 0, op: 0 };
  const pagesKept: ClassFloor = { bytes: 0, op: 0 };
  eachOp(t, change, (op) => {
    if (unitBytes + larger > heapClasses.bytes) {
      heapClasses.bytes = unitBytes + larger;
      heapClasses.op = op;
    }
    if (keptBytes + larger > pagesKept.bytes) {
      pagesKept.bytes = keptBytes + larger;
      pagesKept.op = op;
    }
  });
  perClass.fill(0);
  perGranule.fill(0);
  unitBytes = 0;
  larger = 0;
  const anyClasses: ClassFloor = { bytes: 0, op: 0 };
  const every = Math.max(1, Math.floor(t.length / (o.samples ?? 2000)));
  eachOp(t, change, (op) => {
    if (op % every !== 0 && op !== heapClasses.op && op !== t.length) return;
    const bytes = bestClassesBytes(perGranule, o.granule) + larger;
    if (bytes > anyClasses.bytes) {
      anyClasses.bytes = bytes;
      anyClasses.op = op;
    }
  });
  return { heapClasses, pagesKept, anyClasses };
}

/** Replays the live set of `t`: `change(request, +1 or -1)` per block born or gone, then `after(ops replayed)`. */
function eachOp(t: Trace, change: (request: number, by: number) => void, after: (op: number) => void): void {
  const requestOf = new Map<number, number>();
  for (let i = 0; i < t.length; i++) {
    const id = t.id[i];
    if (t.kind[i] === OP_FREE) {
      change(requestOf.get(id)!, -1);
      requestOf.delete(id);
    } else {
      if (t.kind[i] === OP_REALLOC) change(requestOf.get(id)!, -1);
      const n = requestBytes(t, i);
      requestOf.set(id, n);
      change(n, 1);
    }
    after(i + 1);
  }
}

/**
 * The least bytes in whole units that hold `count[g]` blocks of need up to g * granule, with classes
 * of granule multiples: each class takes a run of consecutive needs at its largest (a partition of
 * the sizes, found by dynamic programming over them).
 */
function bestClassesBytes(count: Float64Array, granule: number): number {
  const sizes: number[] = [];
  const counts: number[] = [];
  for (let g = 1; g < count.length; g++) {
    if (count[g] > 0) {
      sizes.push(g * granule);
      counts.push(count[g]);
    }
  }
  const least = new Float64Array(sizes.length + 1).fill(Infinity);
  least[0] = 0;
  for (let j = 1; j <= sizes.length; j++) {
    let blocks = 0;
    for (let i = j; i >= 1; i--) {
      blocks += counts[i - 1];
      const bytes = least[i - 1] + Math.ceil((blocks * sizes[j - 1]) / UNIT) * UNIT;
      if (bytes < least[j]) least[j] = bytes;
    }
  }
  return least[sizes.length];
}
