/** The hakmem heap under test: pointers are byte offsets into its buffer, 0 is null. */
import type { FootprintProbe, BlockMemory, ReplayAllocator } from './allocator-adapter';
import type { Heap } from '../../index';

/** What the heap map can tell about the heap's shape at a timeline sample. */
export interface HakmemShape {
  superslabs: number;
  activeSlabs: number;
  emptySlabs: number;
}

/** The second reading of a hakmem footprint: the heap's own statistics, without the pages given back. */
export const TIERS_PEAK_METHOD =
  "hakmem tiers' peak of bytes held written (heap.stats().peakHeapBytes, 4 KiB units): pages a tier gave back to the " +
  'page arena leave it, as they would leave a native heap through munmap';

export class HakmemAllocator implements ReplayAllocator<number> {
  readonly name = 'hakmem';
  readonly empty = 0;
  // A heap's buffer has a fixed size (HeapOptions.bytes), so its view never changes.
  private readonly u8: Uint8Array;
  readonly footprint: FootprintProbe;
  readonly memory: BlockMemory;

  constructor(readonly target: Heap) {
    this.u8 = target.u8;
    this.memory = { pointers: 'offsets', bytes: () => this.u8 };
    this.footprint = {
      method:
        "hakmem heap's resident bytes (heap.stats().residentBytes): its pages ever written, 4 KiB units; " +
        'a buffer cannot give pages back to the system, so pages a tier gave back still count',
      current: () => target.stats().residentBytes,
      peak: () => target.stats().residentBytes,
      peakNeedsSampling: false,
    };
  }

  touch(ptr: number, size: number, value: number): void {
    this.u8[ptr] = value;
    this.u8[ptr + size - 1] = value;
  }

  newSlots(n: number): Int32Array {
    return new Int32Array(n);
  }

  calloc(n: number, size: number): number {
    return this.target.calloc(n, size);
  }

  realloc(ptr: number, _oldSize: number, size: number): number {
    return this.target.realloc(ptr, size);
  }

  alignedAlloc(alignment: number, size: number): number {
    return this.target.alignedAlloc(alignment, size);
  }

  freeAligned(ptr: number): void {
    this.target.free(ptr);
  }

  isAligned(ptr: number, alignment: number): boolean {
    return ptr % alignment === 0;
  }

  byteAt(ptr: number, offset: number): number {
    return this.u8[ptr + offset];
  }

  fill(ptr: number, size: number, value: number): void {
    this.u8.fill(value, ptr, ptr + size);
  }

  /** SuperSlabs and their slabs by state, from the heap map (a walk of every live SuperSlab). */
  shape(): HakmemShape {
    let activeSlabs = 0;
    let emptySlabs = 0;
    for (const cell of this.target.occupancy()) {
      if (cell.state === 'active') activeSlabs++;
      else if (cell.state === 'empty') emptySlabs++;
    }
    return { superslabs: this.target.stats().superslabs, activeSlabs, emptySlabs };
  }
}
