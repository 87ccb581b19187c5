/** The hakmem heap under test: pointers are byte offsets into its buffer, 0 is null. */
import type { BenchAllocator } from './allocator-adapter';
import type { Heap } from '../../index';

export class HakmemAllocator implements BenchAllocator<number> {
  readonly name = 'hakmem';
  readonly empty = 0;
  // A heap's buffer has a fixed size (HeapOptions.bytes), so its view never changes.
  private readonly u8: Uint8Array;

  constructor(readonly target: Heap) {
    this.u8 = target.u8;
  }

  touch(ptr: number, size: number, value: number): void {
    this.u8[ptr] = value;
    this.u8[ptr + size - 1] = value;
  }

  newSlots(n: number): Int32Array {
    return new Int32Array(n);
  }
}
