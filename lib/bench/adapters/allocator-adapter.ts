/** A benchmark's working set: one pointer per slot, `empty` where none. */
export type Slots<P> = { [index: number]: P; readonly length: number };

/** The two calls a benchmark makes on the allocator under test. */
export interface MallocFree<P> {
  malloc(size: number): P;
  free(ptr: P): void;
}

/** What a benchmark loop needs from an allocator. P is the pointer type: a byte offset for heaps, an object for the JS engine. */
export interface BenchAllocator<P> {
  readonly name: string;
  /** The value of an empty slot (0 or null). */
  readonly empty: P;
  /**
   * What the loops call malloc and free on: the allocator itself where it has that API (hakmem's
   * heap, thing's pool), so a call costs what the allocator costs. A wrapper in between adds a load
   * and a map check to every call: 3% of random-mixed, measured.
   */
  readonly target: MallocFree<P>;
  /** Write `value` into the first and last byte of a fresh block of `size` bytes. */
  touch(ptr: P, size: number, value: number): void;
  /**
   * `n` empty slots. Byte-offset pointers go in an Int32Array, as C's loop keeps them in a `void *`
   * array: a typed array has no elements kind for V8 to check on every access.
   */
  newSlots(n: number): Slots<P>;
}

/** How much memory an allocator holds, in bytes, where it can tell. */
export interface FootprintProbe {
  /** What this figure is, for the result (e.g. "bytes of heap written, 4 KiB pages"). */
  readonly method: string;
  /** Bytes held now. */
  current(): number;
  /** The most bytes held since the allocator was created. */
  peak(): number;
  /** true when peak() only knows what current() saw: the caller must call current() after every op. */
  readonly peakNeedsSampling: boolean;
}

/**
 * Where an allocator's blocks live. `offsets`: pointers are byte offsets into one memory, and bytes()
 * is its view now (a wasm memory's view is made anew when it grows); the replay loop reads and writes
 * block bytes through it directly, as C's loop does through a pointer. `objects`: every block is an
 * object of its own (v8's Uint8Arrays), reached through the adapter's byteAt and touch.
 */
export type BlockMemory = { readonly pointers: 'offsets'; bytes(): Uint8Array } | { readonly pointers: 'objects' };

/** What a trace replay needs beyond malloc and free (lib/bench/workloads/replay.ts). */
export interface ReplayAllocator<P> extends BenchAllocator<P> {
  /** A block of n * size zero bytes. */
  calloc(n: number, size: number): P;
  /** The block resized to `size`, its first min(oldSize, size) bytes kept; `aligned`: ptr came from alignedAlloc. */
  realloc(ptr: P, oldSize: number, size: number, aligned: boolean): P;
  /** A block whose address is a multiple of `alignment` (a power of two). */
  alignedAlloc(alignment: number, size: number): P;
  /** Frees a block from alignedAlloc. */
  freeAligned(ptr: P): void;
  isAligned(ptr: P, alignment: number): boolean;
  byteAt(ptr: P, offset: number): number;
  /** Writes `value` into every byte of the block (resident memory counts written pages only). */
  fill(ptr: P, size: number, value: number): void;
  /** The footprint, or why there is none. */
  readonly footprint: FootprintProbe | { unavailable: string };
  readonly memory: BlockMemory;
}
