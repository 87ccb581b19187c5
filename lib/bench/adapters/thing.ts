/** @thi.ng/malloc's MemPool (first-fit free list with block merging) over one ArrayBuffer. */
import { MemPool } from '@thi.ng/malloc';
import type { BenchAllocator } from './allocator-adapter';

/**
 * Pool size for a workload of `ws` live blocks of at most `maxSize` bytes:
 * eight times the largest possible live set (room for fragmentation in a
 * first-fit pool), and never under 16 MiB. A run that still exhausts it fails
 * with the loop's out-of-memory error rather than measuring something else.
 */
export function thingPoolBytes(ws: number, maxSize: number): number {
  const MiB = 1 << 20;
  const wanted = 8 * ws * (maxSize + 16);
  return Math.max(16 * MiB, Math.ceil(wanted / MiB) * MiB);
}

export class ThingAllocator implements BenchAllocator<number> {
  readonly name = 'thing';
  readonly empty = 0;
  readonly target: MemPool;
  // MemPool keeps its own byte view protected; this one covers the same buffer.
  private readonly u8: Uint8Array;

  constructor(poolBytes: number) {
    const buf = new ArrayBuffer(poolBytes);
    this.target = new MemPool({ buf });
    this.u8 = new Uint8Array(buf);
  }

  touch(ptr: number, size: number, value: number): void {
    this.u8[ptr] = value;
    this.u8[ptr + size - 1] = value;
  }

  newSlots(n: number): Int32Array {
    return new Int32Array(n);
  }
}
