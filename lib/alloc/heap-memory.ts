/**
 * One thread's views of a heap's buffer plus the heap's fixed facts (config, layout). Every tier
 * module works through this; a worker attaching to the heap builds its own over the same buffer.
 */
import { hasWideTinyHeaders, type HeapConfig } from "./config";
import * as layout from "./layout";
import type { Layout } from "./layout";
import { midCacheCapacity } from "./mid";
import { MID_GRANULE, midClassTable } from "./size-classes";

// Bound here so that V8 folds it into meta(), which every tier calls (heap.ts says why).
const { computeLayout, PAGE_META_SHIFT } = layout;

export class HeapMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly stats64: BigInt64Array;
  readonly config: HeapConfig;
  readonly layout: Layout;
  /** True when other threads may touch the buffer: only then are Atomics used. */
  readonly shared: boolean;
  /** Int32 index of page 0's metadata. */
  readonly pageMeta: number;
  readonly ssTable: number;
  readonly registry: number;
  readonly bitmap: number;
  /** Int32 index of the live bitmap (header-free heaps), -1 when the blocks carry headers. */
  readonly liveBits: number;
  /** The mid classes' block sizes (config.midClasses). */
  readonly midSizes: Int32Array;
  /** Mid class by request size (midClassTable). */
  readonly midClassOf: Uint8Array;
  /** Per mid class: most blocks in a thread's list. */
  readonly midCacheCapacity: Int32Array;
  /** Largest request the mid tier serves on header heaps (header-free ones: one byte more); larger ones are large. */
  readonly midMaxRequest: number;
  /** Whether the mid tier is the coalescing one (else per-class spans). */
  readonly coalescing: boolean;
  /** Mid blocks start on multiples of this less one's: the largest power of two (up to 2 KiB) dividing every mid class. */
  readonly midAlignMask: number;
  /** Whether tiny classes from MAX_CLASSES on are in use, with their wide headers (config.ts hasWideTinyHeaders). */
  readonly wideTinyHeaders: boolean;

  constructor(buffer: ArrayBuffer | SharedArrayBuffer, config: HeapConfig) {
    this.buffer = buffer;
    this.config = config;
    this.layout = computeLayout(config);
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.stats64 = new BigInt64Array(buffer, this.layout.statsAt, (this.layout.ssTableAt - this.layout.statsAt) >> 3);
    this.shared = config.shared;
    this.pageMeta = this.layout.pageMetaAt >> 2;
    this.ssTable = this.layout.ssTableAt >> 2;
    this.registry = this.layout.registryAt >> 2;
    this.bitmap = this.layout.bitmapAt >> 2;
    this.liveBits = this.layout.liveBitsAt < 0 ? -1 : this.layout.liveBitsAt >> 2;
    this.midSizes = Int32Array.from(config.midClasses);
    this.midClassOf = midClassTable(config.midClasses);
    this.midCacheCapacity = Int32Array.from(config.midClasses, (size) => midCacheCapacity(size, config.midCacheBytes));
    this.coalescing = config.midTier === "coalescing";
    this.midMaxRequest = this.coalescing ? config.coalescingMaxRequest : config.midClasses[config.midClasses.length - 1] - 1;
    let align = 2048;
    while (align > MID_GRANULE && config.midClasses.some((s) => s % align !== 0)) align >>= 1;
    this.midAlignMask = align - 1;
    this.wideTinyHeaders = hasWideTinyHeaders(config);
  }

  /** Int32 index of a page's metadata word 0. */
  meta(page: number): number {
    return this.pageMeta + (page << PAGE_META_SHIFT);
  }
}
