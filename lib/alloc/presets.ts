import { ALIGN16_TINY_CLASSES, FINE_MID_CLASSES, FINE_TINY_CLASSES, SEED_TINY_CLASSES, WIDE_TINY_CLASSES, type HeapAlignment } from "./size-classes";
import type { TuningOptions } from "./config";

/** Historical variants of the seed system, rebuilt in the same code and switchable per heap. */
export const PRESETS = {
  /** Phase 6-2.2 "Box Refactor": the per-thread SLL over the slabs, no fast cache; free finds the slab by SuperSlab lookup. */
  "phase6-2": {
    tinyClasses: SEED_TINY_CLASSES, frontCache: true, sfcEnable: false, layeredFastPath: false, freeRoute: "lookup",
  },
  /** Phase 6-3 fast path layered over the slow path: its refill always carves fresh slabs, so the heap grows to OOM, then falls back. */
  "phase6-3-fastpath": {
    tinyClasses: SEED_TINY_CLASSES, frontCache: true, sfcEnable: false, layeredFastPath: true, freeRoute: "lookup",
    sfcCapacity: 16, sfcRefillCount: 16, refillCount: 16,
  },
  /** Phase 6-3 fix #2: the fast cache integrated with the Box path (SFC refilled from the SLL, which refills from the slab). */
  "phase6-3-integrated": {
    tinyClasses: SEED_TINY_CLASSES, frontCache: true, sfcEnable: true, layeredFastPath: false, freeRoute: "lookup",
  },
  /** Phase 7 as first measured: headers written, but every free routed through the SuperSlab registry (100% ss_hit). */
  "phase7-ss-lookup": {
    tinyClasses: SEED_TINY_CLASSES, frontCache: true, sfcEnable: true, layeredFastPath: false, freeRoute: "lookup",
  },
  /** Phase 7 fixed: free reads the 1-byte header (header_fast), SFC + SLL front. */
  "phase7": {
    tinyClasses: SEED_TINY_CLASSES, frontCache: true, sfcEnable: true, layeredFastPath: false, freeRoute: "header",
  },
  /**
   * This project's best: header free, one per-class front list (the seed's fix #3), 18 finer tiny
   * classes (two with the wide header), a class's first 8 KiB of blocks inside coalescing blocks
   * before its first slab, empty slabs purged, a class's free blocks reused before its
   * slab writes new memory (or a free block of the next class up), a never-used slab last (the
   * thread's other front lists back first), a slab's whole freelist taken by one refill, a coalescing
   * mid tier up to 8 MiB behind a stash of the last 4 blocks each thread freed (docs/footprint.md);
   * realloc grows a block in place, moves one that cannot grow where it has room to, and shrinks one
   * asked for less than half its size. The design before the coalescing tier (with the sixteen tiny
   * classes it then had, which a heap with the class mid tier takes) is `{ midTier: "classes",
   * tinyPurgeEmpty: false, tinyReuseBeforeWrite: false, tinyRefillWholeFreelist: false,
   * tinyBorrowNextClass: false, tinyFreshSlabLast: false }`: 16 finer mid classes, no per-thread mid
   * lists, a mid span back to the arena once empty.
   */
  "current": {
    tinyClasses: WIDE_TINY_CLASSES, tinySlabAfterBytes: 8192, midTier: "coalescing", coalescingMaxRequest: 8 * 1024 * 1024, coalescingStashBlocks: 4, tinyPurgeEmpty: true, tinyReuseBeforeWrite: true, tinyRefillWholeFreelist: true, tinyBorrowNextClass: true, tinyFreshSlabLast: true, midClasses: FINE_MID_CLASSES, midCacheBytes: 0, midReleaseSpans: true, largeReallocInPlace: true, reallocShrinks: true, reallocRoomToGrow: true, reallocTinyRoom: true, frontCache: true, sfcEnable: false, layeredFastPath: false, freeRoute: "header",
  },
  /**
   * `current` shaped for memory as glibc's malloc is: every request from 16 bytes up to 8 MiB in the
   * coalescing tier (the tiny tier keeps its first class, requests below 16 bytes), behind a per-thread
   * cache of 32 blocks per size that gives its blocks back, once they are over 1/128 of the heap,
   * before the tier writes memory never written (docs/footprint.md "One coalescing heap", "Resident
   * bytes", "The cache back before new memory only").
   * Smaller peaks on real programs; more work per op than `current`'s tiny front lists.
   */
  "compact": {
    tinyClasses: FINE_TINY_CLASSES, tinyMaxClass: 0, midTier: "coalescing", coalescingCacheBlocks: 32, coalescingMaxRequest: 8 * 1024 * 1024, tinyPurgeEmpty: true, tinyReuseBeforeWrite: true, tinyRefillWholeFreelist: true, midClasses: FINE_MID_CLASSES, midCacheBytes: 0, midReleaseSpans: true, largeReallocInPlace: true, frontCache: true, sfcEnable: false, layeredFastPath: false, freeRoute: "header",
  },
  /**
   * `current` without the header: every block 16-aligned (or 8 with align 8), classes that fit powers of
   * two, free finds the class through the page metadata and a live bitmap (aligned-heap.ts).
   */
  "aligned": {
    tinyClasses: ALIGN16_TINY_CLASSES, frontCache: true, sfcEnable: false, layeredFastPath: false, freeRoute: "header", align: 16,
  },
} satisfies Record<string, Partial<TuningOptions>>;

export type PresetName = keyof typeof PRESETS;

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** Presets whose front end can drop the header (the others reproduce the seed's, header and all). */
export const HEADER_FREE_PRESETS: readonly PresetName[] = ["current", "aligned"];

/** The block alignment a preset gives unless told otherwise. */
export function presetAlign(name: PresetName): HeapAlignment {
  return (PRESETS[name] as Partial<TuningOptions>).align ?? 1;
}

export function isPresetName(name: string): name is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, name);
}
