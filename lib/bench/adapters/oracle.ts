/**
 * The replay's oracle (WORKLOADS.md "replay"): it hands back, allocation by allocation, the blocks an
 * allocator gave in its footprint pass, and does no allocator work: free does nothing, and calloc and
 * realloc set only the bytes the loop's checks read (calloc's first and last, 0; realloc's first,
 * carried over when the block moved). Zeroing a block and copying one that moved are calloc's and
 * realloc's work, counted to the allocator. Replayed through the same loop, it costs what the loop
 * costs: the allocator's own time is a replay's time less its oracle's.
 */
import type { MallocFree, ReplayAllocator } from './allocator-adapter';
import { V8Allocator } from './v8';

const NO_FOOTPRINT = { unavailable: 'the oracle does no allocator work' };

/** Byte offsets into one memory: Int32Array where every offset fits in one (integer index arithmetic), else Float64Array. */
export type Offsets = Int32Array | Float64Array;

/** Room for `n` offsets into a memory of `memoryBytes` bytes. */
export function newOffsets(memoryBytes: number, n: number): Offsets {
  return memoryBytes <= 2 ** 31 ? new Int32Array(n) : new Float64Array(n);
}

/** For allocators whose pointers are byte offsets into one memory: the same offsets into a memory of its own. */
export class OffsetOracle implements ReplayAllocator<number>, MallocFree<number> {
  readonly name = 'oracle';
  readonly empty = 0;
  readonly target = this;
  readonly footprint = NO_FOOTPRINT;
  readonly memory = { pointers: 'offsets', bytes: () => this.u8 } as const;
  private readonly u8: Uint8Array;
  private next = 0;

  /** `recorded`: the block of every allocation op of one pass, in order; the next pass starts over. */
  constructor(
    private readonly recorded: Offsets,
    memoryBytes: number,
  ) {
    this.u8 = new Uint8Array(memoryBytes);
  }

  private take(): number {
    const p = this.recorded[this.next];
    this.next = this.next + 1 === this.recorded.length ? 0 : this.next + 1;
    return p;
  }

  malloc(_size: number): number {
    return this.take();
  }

  free(_ptr: number): void {}

  calloc(n: number, size: number): number {
    const p = this.take();
    this.u8[p] = 0;
    this.u8[p + n * size - 1] = 0;
    return p;
  }

  realloc(ptr: number, _oldSize: number, _size: number): number {
    const p = this.take();
    if (p !== ptr) this.u8[p] = this.u8[ptr];
    return p;
  }

  alignedAlloc(_alignment: number, _size: number): number {
    return this.take();
  }

  freeAligned(_ptr: number): void {}

  isAligned(ptr: number, alignment: number): boolean {
    return ptr % alignment === 0;
  }

  touch(ptr: number, size: number, value: number): void {
    this.u8[ptr] = value;
    this.u8[ptr + size - 1] = value;
  }

  byteAt(ptr: number, offset: number): number {
    return this.u8[ptr + offset];
  }

  fill(ptr: number, size: number, value: number): void {
    this.u8.fill(value, ptr, ptr + size);
  }

  newSlots(n: number): Offsets {
    return newOffsets(this.u8.length, n);
  }
}

type Block = Uint8Array | null;

/**
 * For the JS engine's allocation (v8), whose blocks are objects: one Uint8Array per allocation op,
 * all made before the passes (`sizes`: the bytes of each allocation op of one pass, in order). Its
 * block access, free and slots are v8's own.
 */
export class ObjectOracle extends V8Allocator {
  override readonly name = 'oracle';
  override readonly footprint = NO_FOOTPRINT;
  private readonly blocks: Uint8Array[] = [];
  private next = 0;

  constructor(sizes: Float64Array) {
    super();
    for (const n of sizes) this.blocks.push(new Uint8Array(n));
  }

  private take(): Uint8Array {
    const p = this.blocks[this.next];
    this.next = this.next + 1 === this.blocks.length ? 0 : this.next + 1;
    return p;
  }

  override malloc(_size: number): Uint8Array {
    return this.take();
  }

  override calloc(_n: number, _size: number): Uint8Array {
    const p = this.take();
    p[0] = 0;
    p[p.length - 1] = 0;
    return p;
  }

  override realloc(ptr: Block, _oldSize: number, _size: number): Uint8Array {
    const p = this.take();
    p[0] = (ptr as Uint8Array)[0];
    return p;
  }

  override alignedAlloc(_alignment: number, _size: number): Uint8Array {
    return this.take();
  }
}
