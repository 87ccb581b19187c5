/** @thi.ng/malloc's MemPool (first-fit free list with block merging) over one ArrayBuffer. */
import { MemPool } from '@thi.ng/malloc';
import type { FootprintProbe, BlockMemory, ReplayAllocator } from './allocator-adapter';

/**
 * Pool size for a workload of `ws` live blocks of at most `maxSize` bytes:
 * eight times the largest possible live set (room for fragmentation in a
 * first-fit pool), and never under 16 MiB. A run that still exhausts it fails
 * with the loop's out-of-memory error rather than measuring something else.
 */
export function thingPoolBytes(ws: number, maxSize: number): number {
  return thingPoolBytesFor(ws, ws * maxSize);
}

/** The same rule for a live set known as blocks and bytes (a trace's peak), capped at the pool's 2 GiB. */
export function thingPoolBytesFor(liveBlocks: number, liveBytes: number): number {
  const MiB = 1 << 20;
  const wanted = 8 * (liveBytes + 16 * liveBlocks);
  return Math.min(2048 * MiB, Math.max(16 * MiB, Math.ceil(wanted / MiB) * MiB));
}

/** The pool's own alignment (MemPool's default). */
const POOL_ALIGN = 8;

export class ThingAllocator implements ReplayAllocator<number> {
  readonly name = 'thing';
  readonly empty = 0;
  readonly target: MemPool;
  // MemPool keeps its own byte view protected; this one covers the same buffer.
  private readonly u8: Uint8Array;
  /**
   * MemPool aligns every block to one pool-wide alignment; a stricter one is had by over-allocating
   * `alignment` bytes and handing out the first aligned address inside: aligned address -> block.
   */
  private readonly alignedBases = new Map<number, number>();
  readonly footprint: FootprintProbe;
  readonly memory: BlockMemory;

  constructor(poolBytes: number) {
    const buf = new ArrayBuffer(poolBytes);
    this.target = new MemPool({ buf, align: POOL_ALIGN });
    this.u8 = new Uint8Array(buf);
    this.memory = { pointers: 'offsets', bytes: () => this.u8 };
    // `top` is the end of the pool's used region; it falls again when blocks at the top are freed.
    let peakTop = 0;
    const pool = this.target;
    this.footprint = {
      method: '@thi.ng/malloc pool top (end of its used region, bytes from the buffer start), sampled after every op',
      current: () => {
        const top = (pool as unknown as { top: number }).top; // a public getter, typed protected
        if (top > peakTop) peakTop = top;
        return top;
      },
      peak: () => peakTop,
      peakNeedsSampling: true,
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
    return this.target.calloc(n * size);
  }

  realloc(ptr: number, oldSize: number, size: number, aligned: boolean): number {
    if (!aligned || !this.alignedBases.has(ptr)) {
      const q = this.target.realloc(ptr, size);
      // MemPool.realloc (6.1.150, the latest) leaks the old block when it moves one: it frees the
      // block's header address as if it were a data address, which free does not find. The copy is
      // done by then, so the old block is freed here (a no-op should a later version free it).
      if (q !== 0 && q !== ptr) this.target.free(ptr);
      return q;
    }
    const q = this.target.malloc(size);
    if (q === 0) return 0;
    this.u8.copyWithin(q, ptr, ptr + Math.min(oldSize, size));
    this.freeAligned(ptr);
    return q;
  }

  alignedAlloc(alignment: number, size: number): number {
    if (alignment <= POOL_ALIGN) return this.target.malloc(size);
    const base = this.target.malloc(size + alignment);
    if (base === 0) return 0;
    const p = Math.ceil(base / alignment) * alignment;
    this.alignedBases.set(p, base);
    return p;
  }

  freeAligned(ptr: number): void {
    const base = this.alignedBases.get(ptr);
    if (base === undefined) {
      this.target.free(ptr);
      return;
    }
    this.alignedBases.delete(ptr);
    this.target.free(base);
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
}
