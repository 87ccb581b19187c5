/** The JS engine's own allocation: a fresh Uint8Array per block, dropped for the GC on free. */
import type { BenchAllocator, MallocFree } from './allocator-adapter';

export class V8Allocator implements BenchAllocator<Uint8Array | null>, MallocFree<Uint8Array | null> {
  readonly name = 'v8';
  readonly empty = null;
  readonly target = this;

  malloc(size: number): Uint8Array {
    return new Uint8Array(size);
  }

  /** Nothing to do: the caller's slot drops the last reference. */
  free(_ptr: Uint8Array | null): void {}

  touch(ptr: Uint8Array | null, size: number, value: number): void {
    const block = ptr as Uint8Array;
    block[0] = value;
    block[size - 1] = value;
  }

  newSlots(n: number): Array<Uint8Array | null> {
    // Filled by push, not new Array(n).fill(): keeps the elements kind packed.
    const slots: Array<Uint8Array | null> = [];
    for (let s = 0; s < n; s++) slots.push(null);
    return slots;
  }
}
