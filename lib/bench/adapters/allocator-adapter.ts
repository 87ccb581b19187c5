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
