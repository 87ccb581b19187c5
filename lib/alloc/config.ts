import { HeapError } from "./errors";
import { HEADER_FREE_PRESETS, PRESETS, PRESET_NAMES, isPresetName, presetAlign, type PresetName } from "./presets";
import { COALESCING_MAX_REQUEST, COALESCING_REQUEST_LIMIT } from "./coalescing";
import { STASH_MAX_BLOCKS } from "./coalescing-stash";
import { FINE_TINY_CLASSES, HEAP_ALIGNMENTS, MAX_CLASSES, MAX_TINY_CLASSES, MID_CLASSES, MID_GRANULE, tinyClassesFor, type HeapAlignment } from "./size-classes";

export type BuildMode = "release" | "debug";
export type FreeRoute = "header" | "lookup";
/** The mid tier's design: per-class spans (the seed's), or one coalescing heap (coalescing.ts). */
export type MidTier = "classes" | "coalescing";

/** The knobs a preset sets and a user may override. */
export interface TuningOptions {
  /** Tiny block sizes (header included), ascending, at most 16, all below the smallest mid class. */
  tinyClasses: readonly number[];
  /**
   * Mid block sizes, ascending multiples of 512 from the tier's start (2 KiB) to its end (the largest
   * serves requests up to it, less the header byte; larger ones are large), at most 16.
   */
  midClasses: readonly number[];
  /**
   * "classes": mid blocks in per-class spans (the seed's Pool TLS, and the options below); "coalescing":
   * every size up to `coalescingMaxRequest` in regions with boundary tags, merged on free (align 1 only;
   * midClasses, midCacheBytes and midReleaseSpans then do nothing).
   */
  midTier: MidTier;
  /**
   * Largest request the coalescing mid tier serves (larger ones take page runs of their own, large.ts):
   * 256 KiB less 8 unless set, at most a region's 16 MiB less 128 KiB. Pages a large block leaves
   * serve only page runs after it; a block freed in the tier serves any size.
   */
  coalescingMaxRequest: number;
  /**
   * Blocks a thread may keep per block size in front of the coalescing mid tier (coalescing-cache.ts,
   * glibc's tcache), for blocks up to about 1 KiB; 0: none, every malloc and free goes to the tier.
   */
  coalescingCacheBlocks: number;
  /**
   * The cache's lists as size classes: above 256 bytes a block is carved up to the next of eight sizes
   * per power of two, so requests a few bytes apart share a list as they share a tiny class (false:
   * a list per 16 bytes, each block the size its request needs).
   */
  coalescingCacheClasses: boolean;
  /**
   * Blocks a thread keeps whole in front of the coalescing mid tier, the last it freed of any size up
   * to the tier's trim threshold (coalescing-stash.ts): a malloc of a size just freed takes its block
   * back without the tier's merge and search; it pauses while its blocks mostly go back unused. 0:
   * none. Not with `coalescingCacheBlocks`.
   */
  coalescingStashBlocks: number;
  /**
   * Bytes of a tiny class's blocks that live inside blocks of the coalescing mid tier, counted for the
   * whole heap, before the class takes its first slab: a class a program uses less than that pins no
   * slab page (0: a slab at the class's first malloc). Such a block carries its class's tiny header,
   * frees onto the class's front list and goes back to the tier when the list spills. Nothing with the
   * classes mid tier, whose smallest block is 2 KiB, or the seed's SFC and layered paths.
   */
  tinySlabAfterBytes: number;
  /** Bytes of blocks a thread's list of one mid class may hold before half goes back to the class (at least 2 blocks; 0: no list). */
  midCacheBytes: number;
  /**
   * Give a mid span back to the page arena as soon as every block carved from it is on its class's
   * freelist (else only trim() or an out-of-memory does), so its pages can serve any class or tier.
   */
  midReleaseSpans: boolean;
  /**
   * realloc grows a large block where it is when the pages after it are free, and a coalescing mid block
   * into a free neighbour or past its region's top (else: malloc, copy, free).
   */
  largeReallocInPlace: boolean;
  /**
   * realloc to less than half a block's usable size (mimalloc's bound) shrinks the block as its tier's
   * native model does: a tiny or mid-class block moves to a smaller one, a coalescing block frees its
   * tail, a large one gives its tail pages back (else a block keeps its bytes however far it shrinks).
   * A block from alignedAlloc, one no smaller block would hold, or one none can be had for, stays as
   * it is. Header heaps only.
   */
  reallocShrinks: boolean;
  /**
   * A realloc that moves a growing block into the coalescing mid tier puts it at the start of the free
   * block the tier's last free left, when that has at least twice its bytes, so it can go on growing
   * where it lands (else: malloc's block, a good fit with little room after it). Nothing without that
   * tier. Header heaps only.
   */
  reallocRoomToGrow: boolean;
  /**
   * A tiny block that realloc grows by at most REALLOC_TINY_ROOM_STEP bytes past its usable size moves
   * to a block for twice the bytes asked (up to the tiny tier's largest class): such a request is a
   * byte or a few over its class (a 24-byte one over the 24-byte class's 23 usable bytes, where glibc's
   * smallest chunk holds 24), as a buffer that grows again asks. Header heaps only.
   */
  reallocTinyRoom: boolean;
  /** Highest tiny class index in use; larger requests go to the mid tier. */
  tinyMaxClass: number;
  /** Per-thread singly linked front list per class (the TLS SLL). Off: every malloc/free goes to the slab. */
  frontCache: boolean;
  /** Blocks a front list may hold before half of them spill back to their slabs. */
  frontCapacity: number;
  /** A slab that empties gives its touched pages back (as a native allocator's madvise) before it waits in the pool. */
  tinyPurgeEmpty: boolean;
  /**
   * A refill whose slab would write a 4 KiB unit never written takes a partly free slab of the class
   * first, as glibc takes a free chunk before it extends its top.
   */
  tinyReuseBeforeWrite: boolean;
  /**
   * A refill into an empty front list takes its slab's whole freelist at once, as mimalloc takes a
   * page's free list, instead of walking `refillCount` blocks off it; those blocks do not count
   * against `frontCapacity` until the list next spills.
   */
  tinyRefillWholeFreelist: boolean;
  /**
   * A tiny malloc whose current slab would write a 4 KiB unit never written, with no partly free slab
   * of its class to turn to, takes a free block off a slab of the next class up, as glibc serves a
   * request from a larger free chunk.
   */
  tinyBorrowNextClass: boolean;
  /**
   * A tiny malloc whose current slab would write a 4 KiB unit never written, with no free block of its
   * class or the next one up to take, takes a block of the coalescing mid tier where that tier has
   * written bytes free (a free block, or touched bytes above a region's top), as one glibc heap serves
   * any size from the same chunks: the tiers' peaks share written pages. Nothing with the classes mid
   * tier. Off in every preset: such blocks take the tier's malloc and free, which cost `current` up to
   * 5.2x its allocator instructions an op on real programs (docs/footprint.md).
   */
  tinyTakeWrittenCoalescing: boolean;
  /**
   * A class writes a never-used slab last: it takes an EMPTY slab that served any class, and with none
   * its thread first gives its other classes' front lists back to their slabs (as glibc consolidates
   * its fast bins before it extends its top). Blocks a thread keeps on the lists of classes it no
   * longer uses then do not pin slabs another class could take.
   */
  tinyFreshSlabLast: boolean;
  /** Blocks one refill moves from the slab into a front list. */
  refillCount: number;
  /** The SFC layer in front of the SLL. */
  sfcEnable: boolean;
  sfcCapacity: number;
  sfcRefillCount: number;
  /** Phase 6-3's layered fast path (reproduces its regression). */
  layeredFastPath: boolean;
  /** How free finds a tiny block's class: the 1-byte header, or the SuperSlab registry. */
  freeRoute: FreeRoute;
  /** SuperSlab size in bytes: 1 MiB or 2 MiB. */
  superslabBytes: number;
  /** Registry hash slots (power of two) and the longest probe. */
  registrySlots: number;
  registryProbes: number;
  /**
   * Alignment of every block: 1 keeps the 1-byte header (user pointers 1 mod 8); 8 or 16 drops it and
   * free finds the class through the page metadata (aligned-heap.ts).
   */
  align: HeapAlignment;
}

export interface HeapOptions extends Partial<TuningOptions> {
  /** Heap size in bytes (rounded down to 64 KiB). */
  bytes?: number;
  /** Back the heap by a SharedArrayBuffer so workers can attach to it. */
  shared?: boolean;
  preset?: PresetName;
  build?: BuildMode;
  /** Debug build: print the route of every free. */
  freeRouteTrace?: boolean;
  /** Debug build: print each shared-pool stage as it happens. */
  poolTrace?: boolean;
  /**
   * Count the fast paths' hits too: free's header route and mid frees. Off, release builds leave those
   * two routes uncounted (`stats().routes` reads null for them); debug builds always count.
   */
  fastStats?: boolean;
  /** Print stats when the heap is detached or the process exits (and count the fast paths for them). */
  statsAtExit?: boolean;
  /** Where trace and stats lines go (default: stderr). */
  log?: (line: string) => void;
}

export interface HeapConfig extends TuningOptions {
  bytes: number;
  shared: boolean;
  preset: PresetName;
  build: BuildMode;
  freeRouteTrace: boolean;
  poolTrace: boolean;
  fastStats: boolean;
  statsAtExit: boolean;
}

const MiB = 1 << 20;

/**
 * Options added after results were stored with their config hashes, and their defaults (the seed's
 * behaviour): at these values they leave a configuration's hash as it was.
 */
const LATE_DEFAULTS = { tinyPurgeEmpty: false, tinyReuseBeforeWrite: false, tinyRefillWholeFreelist: false, tinyBorrowNextClass: false, tinyTakeWrittenCoalescing: false, tinyFreshSlabLast: false, midTier: "classes" as MidTier, midClasses: MID_CLASSES, midCacheBytes: 256 * 1024, coalescingCacheBlocks: 0, coalescingCacheClasses: false, coalescingStashBlocks: 0, coalescingMaxRequest: COALESCING_MAX_REQUEST, tinySlabAfterBytes: 0, midReleaseSpans: false, largeReallocInPlace: false, reallocShrinks: false, reallocRoomToGrow: false, reallocTinyRoom: false };
type LateOption = keyof typeof LATE_DEFAULTS;

/** Defaults below any preset. */
const BASE: Omit<HeapConfig, keyof (typeof PRESETS)["current"]> & Pick<HeapConfig, LateOption> = {
  bytes: 64 * MiB,
  shared: false,
  preset: "current",
  build: "release",
  tinyMaxClass: MAX_TINY_CLASSES - 1, // every class: resolved to the last one
  ...LATE_DEFAULTS,
  frontCapacity: 1024,
  refillCount: 32,
  sfcCapacity: 256,
  sfcRefillCount: 128,
  superslabBytes: 2 * MiB,
  registrySlots: 4096,
  registryProbes: 8,
  align: 1,
  freeRouteTrace: false,
  poolTrace: false,
  fastStats: false,
  statsAtExit: false,
};

type Kind = "int" | "bool" | "build" | "route" | "midTier" | "preset" | "classes";

/** Every option readable from the environment, with the seed's variable names where it had one. */
const ENV: Record<string, { key: keyof HeapConfig; kind: Kind }> = {
  HAKMEM_HEAP_BYTES: { key: "bytes", kind: "int" },
  HAKMEM_SHARED: { key: "shared", kind: "bool" },
  HAKMEM_PRESET: { key: "preset", kind: "preset" },
  HAKMEM_BUILD: { key: "build", kind: "build" },
  HAKMEM_TINY_CLASSES: { key: "tinyClasses", kind: "classes" },
  HAKMEM_TINY_MAX_CLASS: { key: "tinyMaxClass", kind: "int" },
  HAKMEM_MID_TIER: { key: "midTier", kind: "midTier" },
  HAKMEM_MID_CLASSES: { key: "midClasses", kind: "classes" },
  HAKMEM_MID_CACHE_BYTES: { key: "midCacheBytes", kind: "int" },
  HAKMEM_COALESCING_CACHE_BLOCKS: { key: "coalescingCacheBlocks", kind: "int" },
  HAKMEM_COALESCING_CACHE_CLASSES: { key: "coalescingCacheClasses", kind: "bool" },
  HAKMEM_COALESCING_STASH_BLOCKS: { key: "coalescingStashBlocks", kind: "int" },
  HAKMEM_COALESCING_MAX_REQUEST: { key: "coalescingMaxRequest", kind: "int" },
  HAKMEM_TINY_SLAB_AFTER_BYTES: { key: "tinySlabAfterBytes", kind: "int" },
  HAKMEM_MID_RELEASE_SPANS: { key: "midReleaseSpans", kind: "bool" },
  HAKMEM_LARGE_REALLOC_IN_PLACE: { key: "largeReallocInPlace", kind: "bool" },
  HAKMEM_REALLOC_SHRINKS: { key: "reallocShrinks", kind: "bool" },
  HAKMEM_REALLOC_ROOM_TO_GROW: { key: "reallocRoomToGrow", kind: "bool" },
  HAKMEM_REALLOC_TINY_ROOM: { key: "reallocTinyRoom", kind: "bool" },
  HAKMEM_TINY_FRONT_CACHE: { key: "frontCache", kind: "bool" },
  HAKMEM_TINY_SLL_CAPACITY: { key: "frontCapacity", kind: "int" },
  HAKMEM_TINY_PURGE_EMPTY: { key: "tinyPurgeEmpty", kind: "bool" },
  HAKMEM_TINY_REUSE_BEFORE_WRITE: { key: "tinyReuseBeforeWrite", kind: "bool" },
  HAKMEM_TINY_REFILL_WHOLE_FREELIST: { key: "tinyRefillWholeFreelist", kind: "bool" },
  HAKMEM_TINY_BORROW_NEXT_CLASS: { key: "tinyBorrowNextClass", kind: "bool" },
  HAKMEM_TINY_TAKE_WRITTEN_COALESCING: { key: "tinyTakeWrittenCoalescing", kind: "bool" },
  HAKMEM_TINY_FRESH_SLAB_LAST: { key: "tinyFreshSlabLast", kind: "bool" },
  HAKMEM_TINY_REFILL_COUNT: { key: "refillCount", kind: "int" },
  HAKMEM_SFC_ENABLE: { key: "sfcEnable", kind: "bool" },
  HAKMEM_SFC_CAPACITY: { key: "sfcCapacity", kind: "int" },
  HAKMEM_SFC_REFILL_COUNT: { key: "sfcRefillCount", kind: "int" },
  HAKMEM_TINY_FAST_PATH: { key: "layeredFastPath", kind: "bool" },
  HAKMEM_FREE_ROUTE: { key: "freeRoute", kind: "route" },
  HAKMEM_SUPERSLAB_BYTES: { key: "superslabBytes", kind: "int" },
  HAKMEM_REGISTRY_SLOTS: { key: "registrySlots", kind: "int" },
  HAKMEM_REGISTRY_PROBES: { key: "registryProbes", kind: "int" },
  HAKMEM_FREE_ROUTE_TRACE: { key: "freeRouteTrace", kind: "bool" },
  HAKMEM_SP_TRACE: { key: "poolTrace", kind: "bool" },
  HAKMEM_TINY_FAST_STATS: { key: "statsAtExit", kind: "bool" },
  HAKMEM_ALIGN: { key: "align", kind: "int" },
};

export const ENV_VARIABLES = Object.keys(ENV);

function parseEnvValue(name: string, kind: Kind, raw: string): unknown {
  const bad = (want: string) =>
    new HeapError("INVALID_OPTION", `environment variable ${name}=${JSON.stringify(raw)} is not ${want}`);
  switch (kind) {
    case "int": {
      if (!/^\d+$/.test(raw.trim())) throw bad("a non-negative integer");
      return Number(raw);
    }
    case "bool": {
      const v = raw.trim().toLowerCase();
      if (["1", "true", "on", "yes"].includes(v)) return true;
      if (["0", "false", "off", "no"].includes(v)) return false;
      throw bad("a boolean (1/0, true/false, on/off)");
    }
    case "build":
      if (raw === "release" || raw === "debug") return raw;
      throw bad('"release" or "debug"');
    case "route":
      if (raw === "header" || raw === "lookup") return raw;
      throw bad('"header" or "lookup"');
    case "midTier":
      if (raw === "classes" || raw === "coalescing") return raw;
      throw bad('"classes" or "coalescing"');
    case "preset":
      if (isPresetName(raw)) return raw;
      throw bad(`a preset (${PRESET_NAMES.join(", ")})`);
    case "classes": {
      const parts = raw.split(",").map((s) => s.trim());
      if (parts.some((p) => !/^\d+$/.test(p))) throw bad("a comma-separated list of block sizes");
      return parts.map(Number);
    }
  }
}

function readEnv(env: Record<string, string | undefined>): Partial<HeapConfig> {
  const out: Record<string, unknown> = {};
  for (const [name, { key, kind }] of Object.entries(ENV)) {
    const raw = env[name];
    if (raw !== undefined && raw !== "") out[key] = parseEnvValue(name, kind, raw);
  }
  return out as Partial<HeapConfig>;
}

/** Options a preset turns on that only header heaps have: off on a header-free heap unless asked for. */
const HEADER_HEAP_ONLY = ["tinyBorrowNextClass", "tinyFreshSlabLast", "reallocShrinks", "reallocRoomToGrow", "reallocTinyRoom"] as const;

/** Whether the heap serves tiny classes from MAX_CLASSES on (its classes up to tinyMaxClass), with their wide headers (header.ts). */
export function hasWideTinyHeaders(c: Pick<HeapConfig, "tinyClasses" | "tinyMaxClass">): boolean {
  return Math.min(c.tinyClasses.length, c.tinyMaxClass + 1) > MAX_CLASSES;
}

/** Whether tiny classes from MAX_CLASSES on can have their wide headers (header.ts) on this heap. */
function allowsWideTinyHeaders(c: HeapConfig): boolean {
  return c.midTier === "coalescing" && hasHeaderFrontLists(c);
}

/** Whether the heap's tiny front end is the header heap's one list per class (not SFC, layered or header-free). */
function hasHeaderFrontLists(c: HeapConfig): boolean {
  return !c.sfcEnable && !c.layeredFastPath && c.align === 1;
}

/** The front end a heap has in place of the header heap's one list per class (for the options that need that one). */
function otherFrontEnd(c: HeapConfig): string {
  return c.sfcEnable ? "SFC" : c.layeredFastPath ? "layered fast path" : `header-free front end (align ${c.align})`;
}

/** Names where a value came from: the option, or the environment variable that set it. */
type SourceOf = (option: keyof HeapConfig) => string;

const asOption: SourceOf = (option) => `option ${option}`;

function invalid(option: keyof HeapConfig, value: unknown, want: string, sourceOf: SourceOf = asOption): HeapError {
  return new HeapError("INVALID_OPTION", `${sourceOf(option)}=${JSON.stringify(value)} is invalid: ${want}`);
}

function isCount(v: unknown, min: number, max: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

function validate(c: HeapConfig, sourceOf: SourceOf): void {
  const bad = (option: keyof HeapConfig, value: unknown, want: string) => invalid(option, value, want, sourceOf);
  const MAX_BYTES = 2 ** 31 - 2 ** 16; // offsets stay small integers (V8 Smis)
  if (!isCount(c.bytes, 1 * MiB, MAX_BYTES)) throw bad("bytes", c.bytes, `an integer from 1 MiB to ${MAX_BYTES}`);
  if (c.superslabBytes !== MiB && c.superslabBytes !== 2 * MiB)
    throw bad("superslabBytes", c.superslabBytes, "1 MiB (1048576) or 2 MiB (2097152)");
  const cls = c.tinyClasses;
  if (!Array.isArray(cls) || cls.length < 1 || cls.length > MAX_TINY_CLASSES)
    throw bad("tinyClasses", cls, `1 to ${MAX_TINY_CLASSES} block sizes`);
  cls.forEach((s, i) => {
    if (!isCount(s, 8, MID_CLASSES[0] - 8) || s % 8 !== 0 || (i > 0 && s <= cls[i - 1]))
      throw bad("tinyClasses", cls, `ascending multiples of 8 between 8 and ${MID_CLASSES[0] - 8} (below the smallest mid class)`);
  });
  const mids = c.midClasses;
  const midTop = MID_CLASSES[MID_CLASSES.length - 1];
  if (!Array.isArray(mids) || mids.length < 1 || mids.length > MAX_CLASSES || mids[0] !== MID_CLASSES[0] || mids[mids.length - 1] !== midTop ||
      mids.some((s, i) => !Number.isInteger(s) || s % MID_GRANULE !== 0 || (i > 0 && s <= mids[i - 1]) || (c.align !== 1 && s % c.align !== 0)))
    throw bad("midClasses", mids, `at most ${MAX_CLASSES} ascending multiples of ${MID_GRANULE} from ${MID_CLASSES[0]} to ${midTop}`);
  if (!isCount(c.tinyMaxClass, 0, MAX_TINY_CLASSES - 1)) throw bad("tinyMaxClass", c.tinyMaxClass, `an integer 0..${MAX_TINY_CLASSES - 1}`);
  if (c.midTier !== "classes" && c.midTier !== "coalescing") throw bad("midTier", c.midTier, '"classes" or "coalescing"');
  if (hasWideTinyHeaders(c) && !allowsWideTinyHeaders(c))
    throw bad("tinyClasses", cls, `at most ${MAX_CLASSES} classes in use (or tinyMaxClass below ${MAX_CLASSES}) unless the heap has the coalescing mid tier and the header heap's front lists: a class from ${MAX_CLASSES} on has a wide header (header.ts), which the ${c.midTier !== "coalescing" ? "class mid tier's headers" : otherFrontEnd(c)} would mistake`);
  if (c.midTier === "coalescing" && c.align !== 1) throw bad("midTier", c.midTier, `align ${c.align}: the coalescing mid tier's blocks carry the header byte (align 1 only)`);
  if (!isCount(c.midCacheBytes, 0, 1 << 24)) throw bad("midCacheBytes", c.midCacheBytes, "an integer 0..16777216");
  if (!isCount(c.coalescingCacheBlocks, 0, 1 << 16)) throw bad("coalescingCacheBlocks", c.coalescingCacheBlocks, "an integer 0..65536");
  if (typeof c.coalescingCacheClasses !== "boolean") throw bad("coalescingCacheClasses", c.coalescingCacheClasses, "true or false");
  if (!isCount(c.coalescingStashBlocks, 0, STASH_MAX_BLOCKS)) throw bad("coalescingStashBlocks", c.coalescingStashBlocks, `an integer 0..${STASH_MAX_BLOCKS}`);
  if (c.coalescingStashBlocks > 0 && c.coalescingCacheBlocks > 0)
    throw bad("coalescingStashBlocks", c.coalescingStashBlocks, `0 with coalescingCacheBlocks ${c.coalescingCacheBlocks} (a heap has the cache or the stash in front of its coalescing tier)`);
  if (!isCount(c.coalescingMaxRequest, MID_CLASSES[0], COALESCING_REQUEST_LIMIT))
    throw bad("coalescingMaxRequest", c.coalescingMaxRequest, `an integer ${MID_CLASSES[0]}..${COALESCING_REQUEST_LIMIT}`);
  if (!isCount(c.tinySlabAfterBytes, 0, 1 << 20)) throw bad("tinySlabAfterBytes", c.tinySlabAfterBytes, "an integer 0..1048576");
  if (typeof c.midReleaseSpans !== "boolean") throw bad("midReleaseSpans", c.midReleaseSpans, "true or false");
  if (typeof c.largeReallocInPlace !== "boolean") throw bad("largeReallocInPlace", c.largeReallocInPlace, "true or false");
  if (typeof c.reallocShrinks !== "boolean") throw bad("reallocShrinks", c.reallocShrinks, "true or false");
  if (typeof c.reallocRoomToGrow !== "boolean") throw bad("reallocRoomToGrow", c.reallocRoomToGrow, "true or false");
  if (typeof c.reallocTinyRoom !== "boolean") throw bad("reallocTinyRoom", c.reallocTinyRoom, "true or false");
  if (c.reallocShrinks && c.align !== 1)
    throw bad("reallocShrinks", true, `align ${c.align}: a header-free heap cannot tell an alignedAlloc block, which a move would misalign`);
  if (!isCount(c.frontCapacity, 1, 1 << 16)) throw bad("frontCapacity", c.frontCapacity, "an integer 1..65536");
  if (typeof c.tinyPurgeEmpty !== "boolean") throw bad("tinyPurgeEmpty", c.tinyPurgeEmpty, "true or false");
  if (typeof c.tinyReuseBeforeWrite !== "boolean") throw bad("tinyReuseBeforeWrite", c.tinyReuseBeforeWrite, "true or false");
  if (typeof c.tinyRefillWholeFreelist !== "boolean") throw bad("tinyRefillWholeFreelist", c.tinyRefillWholeFreelist, "true or false");
  if (typeof c.tinyBorrowNextClass !== "boolean") throw bad("tinyBorrowNextClass", c.tinyBorrowNextClass, "true or false");
  if (c.tinyBorrowNextClass && !hasHeaderFrontLists(c))
    throw bad("tinyBorrowNextClass", true, `the ${otherFrontEnd(c)} refills on its own; only the header heap's front lists borrow`);
  if (typeof c.tinyTakeWrittenCoalescing !== "boolean") throw bad("tinyTakeWrittenCoalescing", c.tinyTakeWrittenCoalescing, "true or false");
  if (c.tinyTakeWrittenCoalescing && !hasHeaderFrontLists(c))
    throw bad("tinyTakeWrittenCoalescing", true, `the ${otherFrontEnd(c)} refills on its own; only the header heap's front lists take coalescing blocks`);
  if (typeof c.tinyFreshSlabLast !== "boolean") throw bad("tinyFreshSlabLast", c.tinyFreshSlabLast, "true or false");
  if (c.tinyFreshSlabLast && !hasHeaderFrontLists(c))
    throw bad("tinyFreshSlabLast", true, `the ${otherFrontEnd(c)} keeps lists of its own; only the header heap's front lists go back`);
  if (c.tinyRefillWholeFreelist && (c.sfcEnable || c.layeredFastPath))
    throw bad("tinyRefillWholeFreelist", true, `the ${c.sfcEnable ? "SFC" : "layered fast path"} moves blocks out of the front list by its count; set ${c.sfcEnable ? "sfcEnable" : "layeredFastPath"} false`);
  if (!isCount(c.refillCount, 1, 1 << 12)) throw bad("refillCount", c.refillCount, "an integer 1..4096");
  if (!isCount(c.sfcCapacity, 1, 1 << 16)) throw bad("sfcCapacity", c.sfcCapacity, "an integer 1..65536");
  if (!isCount(c.sfcRefillCount, 1, c.sfcCapacity))
    throw bad("sfcRefillCount", c.sfcRefillCount, "an integer 1..sfcCapacity");
  if (!isCount(c.registrySlots, 16, 1 << 20) || (c.registrySlots & (c.registrySlots - 1)) !== 0)
    throw bad("registrySlots", c.registrySlots, "a power of two 16..1048576");
  if (!isCount(c.registryProbes, 1, c.registrySlots)) throw bad("registryProbes", c.registryProbes, "1..registrySlots");
  if (c.build !== "release" && c.build !== "debug") throw bad("build", c.build, '"release" or "debug"');
  if (c.freeRoute !== "header" && c.freeRoute !== "lookup") throw bad("freeRoute", c.freeRoute, '"header" or "lookup"');
  if (!(HEAP_ALIGNMENTS as readonly unknown[]).includes(c.align)) throw bad("align", c.align, "1, 8 or 16");
  const headerFree = HEADER_FREE_PRESETS.includes(c.preset);
  if (c.align !== 1 && !headerFree)
    throw bad("align", c.align, `preset ${c.preset} keeps the seed's 1-byte header, so its blocks are 1 mod 8: only align 1 (presets with align 8 or 16: ${HEADER_FREE_PRESETS.join(", ")})`);
  if (c.align === 1 && presetAlign(c.preset) !== 1)
    throw bad("align", c.align, `preset ${c.preset} is header-free: align 8 or 16 (align 1 is preset current)`);
  if (c.align !== 1) {
    if (cls.some((size) => size % c.align !== 0)) throw bad("tinyClasses", cls, `multiples of align ${c.align}, so every block is aligned`);
    if (c.sfcEnable || c.layeredFastPath)
      throw bad(c.sfcEnable ? "sfcEnable" : "layeredFastPath", true, `align ${c.align}: the header-free front end has one list per class (no SFC, no layered fast path)`);
  }
}

/**
 * The full configuration of a heap: defaults, then the preset, then `HAKMEM_*` environment variables,
 * then explicit options (explicit options win).
 */
export function resolveConfig(options: HeapOptions = {}, env: Record<string, string | undefined> = processEnv()): HeapConfig {
  const fromEnv = readEnv(env);
  const presetName = options.preset ?? fromEnv.preset ?? BASE.preset;
  if (!isPresetName(presetName)) throw invalid("preset", presetName, `one of ${PRESET_NAMES.join(", ")}`);
  const explicit = Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k !== "log"));
  const config = { ...BASE, ...PRESETS[presetName], ...fromEnv, ...explicit, preset: presetName } as HeapConfig;
  // A header-free heap takes the class set of its alignment and the class mid tier, does not borrow
  // blocks of the next class or give its lists back before a new slab (its front end refills on its
  // own), and does not move a shrunk block, unless told otherwise.
  const unset = (option: keyof HeapConfig) => !(option in explicit) && fromEnv[option] === undefined;
  if (config.align === 8 || config.align === 16) {
    if (unset("tinyClasses")) config.tinyClasses = tinyClassesFor(config.align);
    if (unset("midTier")) config.midTier = "classes";
    for (const option of HEADER_HEAP_ONLY) if (unset(option)) config[option] = false;
  }
  // A preset's classes past the header's 4 bits need their wide headers; a heap told to take a front
  // end or mid tier that would mistake those takes the sixteen (`current` with midTier "classes").
  if (unset("tinyClasses") && hasWideTinyHeaders(config) && !allowsWideTinyHeaders(config)) config.tinyClasses = FINE_TINY_CLASSES;
  validate(config, (option) => {
    const name = option in explicit ? undefined : ENV_NAME_OF[option];
    return name !== undefined && option in fromEnv ? `environment variable ${name}` : `option ${option}`;
  });
  config.tinyMaxClass = Math.min(config.tinyMaxClass, config.tinyClasses.length - 1);
  config.bytes -= config.bytes % (1 << 16);
  return config;
}

const ENV_NAME_OF: Partial<Record<keyof HeapConfig, string>> = Object.fromEntries(
  Object.entries(ENV).map(([name, { key }]) => [key, name]),
);

function processEnv(): Record<string, string | undefined> {
  return typeof process !== "undefined" && process.env ? process.env : {};
}

/** A short stable hash of everything that changes the allocator's behaviour, for provenance. */
export function configHash(config: HeapConfig): string {
  const keys = Object.keys(config).filter((k) => !(k in LATE_DEFAULTS && sameValue(config[k as LateOption], LATE_DEFAULTS[k as LateOption])));
  const text = JSON.stringify(keys.sort().map((k) => [k, config[k as keyof HeapConfig]]));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
