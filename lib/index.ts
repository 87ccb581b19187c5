/** hakmem-ts: the hakmem multi-tier allocator over an (Shared)ArrayBuffer. */
export { createHeap, attachHeap } from "./alloc/create-heap";
export { Heap, type HeapHandle } from "./alloc/heap";
export { HeapError, type HeapErrorCode } from "./alloc/errors";
export { resolveConfig, configHash, ENV_VARIABLES, type HeapOptions, type HeapConfig, type BuildMode, type FreeRoute, type MidTier } from "./alloc/config";
export { COALESCING_MAX_REQUEST } from "./alloc/coalescing";
export { PRESETS, PRESET_NAMES, isPresetName, type PresetName } from "./alloc/presets";
export { SEED_TINY_CLASSES, FINE_TINY_CLASSES, WIDE_TINY_CLASSES, MID_CLASSES, FINE_MID_CLASSES } from "./alloc/size-classes";
export { formatStats, type HeapStats } from "./alloc/stats";
export type { SlabCell } from "./alloc/occupancy";
export type { TypedArray, TypedArrayConstructor } from "./alloc/typed-views";
export { HEAP_ALIGNMENTS, type HeapAlignment } from "./alloc/size-classes";
