/** The TypeScript allocators' adapters, created by name for a workload. */
import type { BuildMode } from '../../alloc/config';
import type { PresetName } from '../../alloc/presets';
import type { HeapAlignment } from '../../alloc/size-classes';
import type { Heap } from '../../alloc/heap';
import type { ReplayAllocator } from './allocator-adapter';
import { isWasmAllocator, type AllocatorName, type TsAllocatorName } from './allocators';
import { HakmemAllocator, type HakmemShape } from './hakmem';
import { ThingAllocator, thingPoolBytes } from './thing';
import { V8Allocator } from './v8';
import { createWasmAllocator } from './wasm';
import { buildWasmAllocator } from './wasm-modules';

export interface TsAllocatorOptions {
  /** hakmem only; unset means the heap's default (HAKMEM_PRESET or `current`). */
  preset?: PresetName;
  build?: BuildMode;
  align?: HeapAlignment;
  /** The workload's size: at most `slots` live blocks of at most `maxSize` bytes. */
  slots: number;
  maxSize: number;
  /** thing: the pool's size, when known better than from slots and maxSize (a trace's peak). */
  thingPoolBytes?: number;
  /** hakmem: the heap's size, where the workload needs more than the default (large blocks). */
  heapBytes?: number;
}

/** The resolved hakmem configuration a result was measured with. */
export interface HakmemConfig {
  preset: string;
  build: string;
  /** The heap's block alignment. */
  align: number;
  configHash: string;
}

export interface TsAllocator {
  allocator: ReplayAllocator<unknown>;
  /** null for allocators other than hakmem. */
  hakmem: HakmemConfig | null;
  /** The most heap memory the allocator has used, where it can tell (hakmem: its buffer's pages ever written). */
  peakHeapBytes(): number | null;
  /** hakmem: its SuperSlabs and slabs by state, for timeline samples. */
  shape?: () => HakmemShape;
  /** hakmem: the heap itself (a breakdown asks it for tiers and free routes). */
  heap?: Heap;
}

export async function createTsAllocator(name: TsAllocatorName, options: TsAllocatorOptions): Promise<TsAllocator> {
  switch (name) {
    case 'hakmem': {
      // Loaded on demand: a baseline's run must not depend on the allocator under test.
      const { createHeap } = await import('../../index');
      const heap = createHeap({
        preset: options.preset,
        build: options.build,
        align: options.align,
        ...(options.heapBytes === undefined ? {} : { bytes: options.heapBytes }),
      });
      const allocator = new HakmemAllocator(heap);
      return {
        allocator,
        shape: () => allocator.shape(),
        heap,
        hakmem: { preset: heap.config.preset, build: heap.config.build, align: heap.config.align, configHash: heap.configHash },
        peakHeapBytes: () => heap.stats().residentBytes,
      };
    }
    case 'v8':
      return { allocator: new V8Allocator(), hakmem: null, peakHeapBytes: () => null };
    case 'thing':
      return {
        allocator: new ThingAllocator(options.thingPoolBytes ?? thingPoolBytes(options.slots, options.maxSize)),
        hakmem: null,
        peakHeapBytes: () => null,
      };
    case 'wasm-dlmalloc':
    case 'wasm-emmalloc':
    case 'wasm-emdlmalloc': {
      const allocator = await createWasmAllocator(name);
      // A caller that did not ask unavailableReason first learns here why it cannot run.
      if ('skipped' in allocator) throw new Error(`cannot build the WebAssembly allocator: ${allocator.skipped}`);
      return { allocator, hakmem: null, peakHeapBytes: () => null };
    }
  }
}

/** Why an in-process allocator cannot run on this machine (a wasm toolchain is missing), or null. */
export async function unavailableReason(name: AllocatorName): Promise<string | null> {
  if (!isWasmAllocator(name)) return null;
  const built = await buildWasmAllocator(name);
  return typeof built === 'string' ? null : built.skipped;
}
