/**
 * The JS engine's own allocation: a fresh Uint8Array per block, dropped for the GC on free.
 * For a replay: calloc is the same (a new Uint8Array is zeroed), realloc is a new array and a copy
 * of the kept bytes, and an aligned request is a plain one (a JS program sees no addresses, so
 * alignment cannot be asked for or observed). There is no footprint of the blocks alone: when the
 * GC gives memory back is its own decision, so it reads null with that reason.
 */
import type { MallocFree, ReplayAllocator } from './allocator-adapter';

type Block = Uint8Array | null;

export class V8Allocator implements ReplayAllocator<Block>, MallocFree<Block> {
  readonly name: string = 'v8';
  readonly empty = null;
  readonly target = this;
  readonly memory = { pointers: 'objects' } as const;
  readonly footprint: { unavailable: string } = {
    unavailable: 'the JS engine allocates and collects Uint8Arrays on its own schedule: no footprint of the live blocks alone',
  };

  malloc(size: number): Uint8Array {
    return new Uint8Array(size);
  }

  /** Nothing to do: the caller's slot drops the last reference. */
  free(_ptr: Block): void {}

  touch(ptr: Block, size: number, value: number): void {
    const block = ptr as Uint8Array;
    block[0] = value;
    block[size - 1] = value;
  }

  newSlots(n: number): Array<Block> {
    // Filled by push, not new Array(n).fill(): keeps the elements kind packed.
    const slots: Array<Block> = [];
    for (let s = 0; s < n; s++) slots.push(null);
    return slots;
  }

  calloc(n: number, size: number): Uint8Array {
    return new Uint8Array(n * size);
  }

  realloc(ptr: Block, oldSize: number, size: number): Uint8Array {
    const block = new Uint8Array(size);
    block.set((ptr as Uint8Array).subarray(0, Math.min(oldSize, size)));
    return block;
  }

  alignedAlloc(_alignment: number, size: number): Uint8Array {
    return new Uint8Array(size);
  }

  freeAligned(_ptr: Block): void {}

  isAligned(): boolean {
    return true;
  }

  byteAt(ptr: Block, offset: number): number {
    return (ptr as Uint8Array)[offset];
  }

  fill(ptr: Block, _size: number, value: number): void {
    (ptr as Uint8Array).fill(value);
  }
}
