/**
 * A thread's handle on a hakmem heap: the public malloc/free API, the tiny tier's front end (one
 * singly linked list per class, with a count: the seed's TLS SLL) and the dispatch to the other tiers.
 * The fast paths below touch no Atomics and call nothing; everything else lives in the tier modules.
 */
import { configHash, type HeapConfig } from "./config";
import { HeapError, fmtPtr, fmtValue } from "./errors";
import { copyBytes, copyWords, zeroBytes } from "./small-bytes";
import * as header from "./header";
import { HeapMemory } from "./heap-memory";
import { largeGrowInPlace, largeMalloc, largeShrinkInPlace } from "./large";
import * as layout from "./layout";
import * as mid from "./mid";
import * as coalescing from "./coalescing";
import * as coalescingCache from "./coalescing-cache";
import * as coalescingStash from "./coalescing-stash";
import type { PoolThread } from "./shared-pool";
import { classTable, MAX_CLASSES, MAX_TINY_CLASSES } from "./size-classes";
import { refill, spill, spillFrontLists } from "./tiny-refill";
import { freeSlow, usableSize } from "./free-route";
import { collectStats, type HeapStats } from "./stats";
import { checkHeap } from "./check";
import { occupancy, type SlabCell } from "./occupancy";
import { detachThread, reclaimThread, trimThread } from "./thread-exit";
import { cas, fetchAdd, load } from "./sync";
import { remoteFree } from "./remote-free";
import { checkAlignedRequest, headerAlignedAlloc } from "./aligned-alloc";
import { allocArray, callocArray, freeArray, reallocArray, viewOf, type TypedArray, type TypedArrayConstructor } from "./typed-views";

/*
 * Constants and helpers of other modules, bound in this one. V8 folds a module's own `const`
 * bindings into the code it inlines; an imported binding is read from the exporting module's object
 * at every use instead (TypeScript's CommonJS output assigns each export twice, so V8 cannot take it
 * for a constant). With the `=== true` flag tests below: random-mixed 1.05x.
 */
const { ALIGNED_FREE, ALIGNED_LIVE, LARGE_FREE, LARGE_LIVE, linkWord, MAGIC_MASK, MID_FREE, MID_LIVE, TINY_CLASS_MASK, TINY_FREE, TINY_LIVE } = header;
const { H, MAX_THREADS, P, PAGE_META_SHIFT, PAGE_SHIFT, pendingWord, STAT, STAT_NAMES, TOUCH_SHIFT } = layout;
const { cacheOwnerWord, midCarveOne, midPopFree, midPushFree, midRefill, midSpill } = mid;
const { blockBytesFor, COALESCING_PREFIX, coalescingFree, coalescingGrowInPlace, coalescingMalloc, coalescingMallocToGrow, coalescingShrinkInPlace, coalescingUsableSize, sizeOf, trimThreshold } = coalescing;
const { CACHE_LISTS, CACHE_MAX_REQUEST, CACHE_SHARE_SHIFT, CACHE_SPARE_MAX, cachedBytes, cacheHolder, cacheClassListOf, cacheLink, cacheListOf, cacheListRoom, giveBack, listRequest, fastListsOver, flushCoalescingCache } = coalescingCache;
const { flushStash, STASH_FIT_SHIFT, STASH_PAUSE_MAX, STASH_PAUSE_MIN, STASH_SCORE_MAX, STASH_SCORE_START } = coalescingStash;
const HEADER_FAST = STAT.header_fast;
const MID_FAST = STAT.mid_free;
/** reallocTinyRoom: the most bytes past its usable size that a tiny block may grow by and take room for twice them. */
export const REALLOC_TINY_ROOM_STEP = 4;

export class Heap implements PoolThread {
  readonly mem: HeapMemory;
  readonly config: HeapConfig;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  /** This thread's id. Written to memory as `this.tid | 0`: as a bare field, V8 converted it through a double at each store. */
  readonly tid: number;
  readonly configHash: string;

  // Tiny front end (per thread).
  /** Requests below this size are tiny. */
  protected tinyLimit: number;
  protected readonly classOf: Uint8Array;
  readonly blockSize: Int32Array;
  readonly heads = new Int32Array(MAX_TINY_CLASSES);
  readonly counts = new Int32Array(MAX_TINY_CLASSES);
  /**
   * Per class: blocks a whole-freelist refill put on the front list that `counts` leaves out
   * (tinyRefillWholeFreelist; tiny-refill.ts). The list holds counts + takenWhole blocks (frontLength);
   * the fast paths count only `counts`, so the capacity check lets the program free up to
   * `frontCapacity` blocks above what the refill took before the list spills.
   */
  readonly takenWhole = new Int32Array(MAX_TINY_CLASSES);
  /** Per class: the slab refills come from (0 = none yet). */
  readonly current = new Int32Array(MAX_TINY_CLASSES);
  /** Per class: this thread's slabs with free blocks, other than the current one. */
  readonly partial: number[][] = Array.from({ length: MAX_TINY_CLASSES }, () => []);
  // Mid front end (per thread): a list per mid class.
  readonly midHeads = new Int32Array(MAX_CLASSES);
  readonly midCounts = new Int32Array(MAX_CLASSES);
  /** The heap's mid classes (HeapMemory's tables, bound here for the fast paths). */
  protected readonly midClassOf: Uint8Array;
  protected readonly midCacheCapacity: Int32Array;
  /** The class mid tier's classes; 0 with the coalescing tier. */
  protected readonly midClassCount: number;
  protected readonly midAlignMask: number;
  /** Largest request the mid tier serves. */
  protected readonly midMaxRequest: number;
  /** No per-thread mid lists (midCacheBytes 0) and no other thread: mid blocks go to and from the class freelists directly. */
  protected readonly midDirect: boolean;
  /** realloc tries to grow a large or coalescing block where it is (largeReallocInPlace, header heaps). */
  private readonly growsInPlace: boolean;
  /** realloc shrinks a block asked for less than half its usable size (reallocShrinks). */
  private readonly shrinks: boolean;
  /** realloc moves a growing block into the coalescing tier where it has room to grow (reallocRoomToGrow). */
  private readonly roomToGrow: boolean;
  /**
   * Where tiny blocks have the 1-byte header (not the aligned heap's) and free reads it (the header
   * route): the bits free and realloc compare with TINY_LIVE (header.ts tinyMagicMask, which keeps out
   * a wide header's fifth class bit). Else 0, so that the test fails: the lookup route, or once
   * detached, where realloc takes the validating route, which refuses.
   */
  private tinyLiveMask: number;
  /**
   * Sizes below which realloc moves a tiny block to a tiny class straight through the front lists
   * (else 0): the header heap's base lists, not the SFC or layered caches' (their subclasses override
   * malloc and pushFree), and not in the debug build (its realloc tracks blocks through this.malloc
   * and this.free). One number, so that realloc's test for it is one comparison.
   */
  private readonly reallocMoveLimit: number;
  /**
   * Per tiny class: the fewest bytes for which realloc leaves a block of the class where it is (up to
   * its usable bytes). Half of them where realloc shrinks, as fewer move to a smaller class; else 1:
   * the smallest class has none (a block asked for 4 bytes grows to 8 on the fast path), and a heap
   * that does not shrink keeps every block. A table, not a test of the class: realloc's bytecode stays
   * within V8's inlining budget.
   */
  private readonly reallocKeepsFrom: Int32Array;
  /**
   * realloc's tiny class for a block it moves, indexed by the bytes asked, or by twice them for a block
   * grown by at most reallocRoomStep bytes (reallocTinyRoom): classOf's, then its largest class up to
   * twice the tiny sizes. One table read, so realloc's bytecode stays within V8's inlining budget.
   */
  private readonly reallocMoveClass: Uint8Array;
  /** REALLOC_TINY_ROOM_STEP with reallocTinyRoom, else 0 (no block grown past its bytes is within 0 of them). */
  private readonly reallocRoomStep: number;
  /** The mid tier is the coalescing one (coalescing.ts): its blocks' user pointers are COALESCING_PREFIX mod 16. */
  protected readonly coalescing: boolean;
  // The coalescing tier's per-thread cache (coalescing-cache.ts): a list per block size / 16.
  readonly cacheHeads = new Int32Array(CACHE_LISTS);
  readonly cacheCounts = new Int32Array(CACHE_LISTS);
  /** Lists in use: CACHE_LISTS, or 0 without the cache; requests below cacheLimit have one. */
  protected readonly cacheLists: number;
  protected readonly cacheLimit: number;
  protected readonly cacheCapacity: number;
  /** Whether the lists are size classes (coalescing-cache.ts cacheClassListOf), not one per 16 bytes. */
  private readonly cacheClasses: boolean;
  /** Blocks each cache list may hold (coalescing-cache.ts cacheListRoom). */
  private readonly cacheRoom: Int32Array;
  /** Spare blocks a cache miss brings (mallocCacheMiss): their count, then their bases. */
  private readonly cacheSpare = new Int32Array(CACHE_SPARE_MAX + 1);
  // The coalescing tier's per-thread stash (coalescing-stash.ts): the last blocks freed, whole.
  /** Its slots, oldest block first: the first stashCount hold blocks, the rest 0; none without the stash. */
  readonly stashSlots: Int32Array;
  /** Blocks the slots hold. */
  stashCount = 0;
  /** Its slots' count: a field, as V8 checks the typed array's map and bounds at each read of its length. */
  private readonly stashBlocks: number;
  /** Its score (coalescing-stash.ts): up for a block taken back, down for one given back unused; at 0 it pauses. */
  private stashScore = STASH_SCORE_START;
  /** Coalescing frees still to go straight to the tier before the stash holds blocks again. */
  stashPause = 0;
  /** The pause after the next time the score runs out: it doubles while the stash keeps losing. */
  private stashNextPause = STASH_PAUSE_MIN;
  protected readonly capacity: number;
  protected readonly refillCount: number;
  /**
   * Whether free may take the header route. Off in the phase-7 bug (ignore the header, find the class
   * through the registry) and once detached (every call then goes where it is refused).
   * The fast paths test this and checkOwner with `=== true`: a bare `if (flag)` on a field compiles
   * to V8's generic truthiness test (false, "", undetectable, number, BigInt) at every call.
   */
  protected headerFree: boolean;
  /** Shared heaps must send another thread's block to its owner. */
  protected readonly checkOwner: boolean;
  protected readonly pageMeta: number;

  // Shared-pool thread state.
  l0Slab = 0;
  readonly hintSS = new Int32Array(MAX_TINY_CLASSES).fill(-1);
  readonly ownedSlabs = new Set<number>();
  readonly stat = new Float64Array(STAT_NAMES.length);
  readonly trace: ((line: string) => void) | null;
  private readonly log: (line: string) => void;
  protected detached = false;

  constructor(mem: HeapMemory, tid: number, log: (line: string) => void) {
    this.mem = mem;
    this.config = mem.config;
    this.configHash = configHash(mem.config);
    this.u8 = mem.u8;
    this.i32 = mem.i32;
    this.tid = tid;
    this.log = log;
    const c = mem.config;
    const classes = c.tinyClasses.slice(0, c.tinyMaxClass + 1);
    this.classOf = classTable(classes, c.align === 1 ? 1 : 0);
    this.tinyLimit = this.classOf.length;
    this.blockSize = Int32Array.from(classes);
    this.capacity = c.frontCache ? c.frontCapacity : 0;
    this.refillCount = c.frontCache ? c.refillCount : 1;
    this.headerFree = c.freeRoute === "header";
    this.checkOwner = c.shared;
    this.pageMeta = mem.pageMeta;
    this.midClassOf = mem.midClassOf;
    this.midCacheCapacity = mem.midCacheCapacity;
    // None with the coalescing tier, whose heap has no class mid blocks: free's class mid test then
    // never reads a wide tiny header (0xB0 | class - 16, header.ts) at 1 mod 512 as one.
    this.midClassCount = mem.coalescing ? 0 : mem.midSizes.length;
    this.midAlignMask = mem.midAlignMask;
    this.midMaxRequest = mem.midMaxRequest;
    this.coalescing = mem.coalescing;
    this.cacheLists = mem.coalescing && c.coalescingCacheBlocks > 0 ? CACHE_LISTS : 0;
    this.cacheCapacity = c.coalescingCacheBlocks;
    this.cacheRoom = cacheListRoom(c.coalescingCacheBlocks, c.shared);
    this.cacheLimit = this.cacheLists === 0 ? 0 : CACHE_MAX_REQUEST + 1;
    this.cacheClasses = c.coalescingCacheClasses;
    this.stashBlocks = mem.coalescing ? c.coalescingStashBlocks : 0;
    this.stashSlots = new Int32Array(this.stashBlocks);
    this.midDirect = c.midCacheBytes === 0 && !c.shared;
    this.growsInPlace = c.largeReallocInPlace && mem.liveBits < 0;
    this.shrinks = c.reallocShrinks;
    this.roomToGrow = c.reallocRoomToGrow && mem.coalescing; // the coalescing tier is a header heap's only
    const tinyHeaders = c.align === 1 && c.freeRoute === "header";
    this.tinyLiveMask = tinyHeaders ? header.tinyMagicMask(mem.wideTinyHeaders) : 0;
    this.reallocKeepsFrom = this.blockSize.map((b, cls) => (this.shrinks && cls > 0 ? (b - 1) >>> 1 : 1));
    this.reallocRoomStep = c.reallocTinyRoom ? REALLOC_TINY_ROOM_STEP : 0;
    this.reallocMoveClass = Uint8Array.from({ length: 2 * this.tinyLimit }, (_, s) => this.classOf[Math.min(s, this.tinyLimit - 1)]);
    this.reallocMoveLimit = tinyHeaders && this.headerFree && !c.sfcEnable && !c.layeredFastPath && c.build === "release" ? this.tinyLimit : 0;
    this.trace = c.build === "debug" && c.poolTrace ? log : null;
  }

  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.mem.buffer;
  }

  malloc(size: number): number {
    if (size < this.tinyLimit && size >>> 0 === size) {
      const cls = this.classOf[size];
      const b = this.heads[cls];
      if (b !== 0) {
        this.heads[cls] = this.i32[linkWord(b)];
        this.counts[cls]--;
        this.u8[b] = TINY_LIVE | cls;
        return b + 1;
      }
      return this.refillAndPop(cls, size);
    }
    return this.mallocSlow(size);
  }

  free(ptr: number): void {
    const h = this.u8[ptr - 1];
    // A live tiny block's user pointer is 1 past an 8-aligned block start.
    if ((h & this.tinyLiveMask) === TINY_LIVE && (ptr & 7) === 1) {
      const b = ptr - 1;
      if (this.checkOwner === true && this.ownerOf(b) !== this.tid) return this.freeRemoteBlock(b, h & TINY_CLASS_MASK);
      this.countFast(HEADER_FAST);
      this.pushFree(b, h & TINY_CLASS_MASK);
      return;
    }
    if (h === MID_LIVE && (ptr & 15) === COALESCING_PREFIX && this.coalescing === true && this.headerFree === true) {
      this.countFast(MID_FAST);
      this.freeCoalescing(ptr);
      return;
    }
    // A live mid block starts on a multiple of the largest power of two (512 B .. 2 KiB) dividing every mid class.
    if ((h & 0xf0) === MID_LIVE && (ptr & this.midAlignMask) === 1 && (h & 0x0f) < this.midClassCount && this.headerFree === true) {
      this.countFast(MID_FAST);
      this.pushFreeMid(ptr - 1, h & 0x0f);
      return;
    }
    this.freeSlowPath(ptr);
  }

  /**
   * Counts a fast-path hit: nothing here, so release builds pay nothing for it (V8 inlines the empty
   * call away; counting costs about 2% of random-mixed). fast-stats.ts overrides it when asked to count.
   */
  countFast(_stat: number): void {}

  /**
   * A live coalescing block freed by its header: into the stash when it is on and the block is within
   * the trim threshold, else freeBeyondStash. A method of its own so that free stays small enough for
   * V8 to inline into its callers (with this inside, free no longer was: random-mixed 16..1024 on
   * current +10% instructions); and this small so that the stash's free is not one call inside another
   * (gs-pages, docs/footprint.md "The stash's paths small enough to inline").
   */
  protected freeCoalescing(ptr: number): void {
    // A block larger than the trim threshold goes to the tier at once: freed into a top, it would give
    // bytes back there (a program's first big block freed does; the threshold then rises past it).
    if (this.stashBlocks !== 0 && this.stashPause === 0 && sizeOf(this.i32, ptr - COALESCING_PREFIX) <= trimThreshold(this.i32)) {
      return this.stash(ptr);
    }
    this.freeBeyondStash(ptr);
  }

  /** A coalescing block the stash does not take: onto this thread's cache list of its size when it has room, else to the tier. */
  private freeBeyondStash(ptr: number): void {
    const list = sizeOf(this.i32, ptr - COALESCING_PREFIX) >> 4;
    if (list < this.cacheLists && this.cacheCounts[list] < this.cacheRoom[list]) {
      this.u8[ptr - 1] = MID_FREE;
      // cacheLink and cacheHolder's words, written from ptr: through them, compact's 64-byte loop did
      // 1% more instructions a cycle (callgrind, 3 runs).
      this.i32[ptr >> 2] = this.cacheHeads[list];
      this.i32[(ptr >> 2) + 1] = this.tid | 0;
      this.cacheHeads[list] = ptr - COALESCING_PREFIX;
      this.cacheCounts[list]++;
      return;
    }
    // A paused stash counts down the frees it would have taken.
    if (this.stashPause !== 0 && list << 4 <= trimThreshold(this.i32)) this.stashPause--;
    coalescingFree(this.mem, ptr);
  }

  /** Puts a freed coalescing block in the stash's newest slot. */
  private stash(ptr: number): void {
    const b = ptr - COALESCING_PREFIX;
    const count = this.stashCount;
    this.u8[ptr - 1] = MID_FREE;
    this.i32[cacheHolder(b)] = this.tid | 0;
    if (count === this.stashBlocks) return this.pushOut(b);
    this.stashSlots[count] = b;
    this.stashCount = count + 1;
  }

  /**
   * The stash is full: its oldest block goes to the tier unused, 1 off the score, and `b` takes the
   * newest slot. A method of its own, as the pause's test is in freeCoalescing, so that V8 inlines
   * stash there (gs-pages: 168 -> 155 allocator instructions an op).
   */
  private pushOut(b: number): void {
    const slots = this.stashSlots;
    const old = slots[0];
    slots.copyWithin(0, 1);
    slots[slots.length - 1] = b;
    giveBack(this.mem, old);
    if (--this.stashScore === 0) this.pauseStash();
  }

  /**
   * Gives the stash back and sends the next coalescing frees straight to the tier: its blocks have
   * gone back unused more often than a malloc took one (git-log took 1 in 7, and paid 10% more
   * instructions for it). Each pause is twice the last, to STASH_PAUSE_MAX, until the score reaches
   * STASH_SCORE_MAX again.
   */
  private pauseStash(): void {
    this.flushStash();
    this.stashPause = this.stashNextPause;
    this.stashNextPause = Math.min(this.stashNextPause * 2, STASH_PAUSE_MAX);
    this.stashScore = STASH_SCORE_START;
  }

  /** Every other route of free (see free-route.ts). */
  protected freeSlowPath(ptr: number): void {
    freeSlow(this, ptr);
  }

  /** This thread's front lists, for check() and stats. */
  frontLists(): FrontList[] {
    return [{ name: "SLL", heads: this.heads, counts: this.counts.map((_, cls) => this.frontLength(cls)) }];
  }

  /** Blocks on the front list of `cls`. */
  frontLength(cls: number): number {
    return this.counts[cls] + this.takenWhole[cls];
  }

  /** Puts a block freed by its owner on the front list (the header says free from now on). */
  pushFree(b: number, cls: number): void {
    this.u8[b] = TINY_FREE | cls;
    this.i32[linkWord(b)] = this.heads[cls];
    this.heads[cls] = b;
    if (++this.counts[cls] > this.capacity) this.spillHalf(cls);
  }

  /** Half the front list of `cls` back to its slabs: out of pushFree, which stays small enough for V8 to inline into realloc. */
  private spillHalf(cls: number): void {
    spill(this, cls, this.frontLength(cls) - (this.capacity >> 1));
  }

  /** Whether this thread is still carving from or refilling out of `page` for `cls` (not to be released). */
  holdsSlab(page: number, cls: number): boolean {
    return page === this.current[cls];
  }

  /** Returns every block of this thread's front caches to its slab. */
  flushFrontCaches(): void {
    spillFrontLists(this, -1);
    for (let cls = 0; cls < this.midClassCount; cls++) {
      if (this.midCounts[cls] > 0) midSpill(this.mem, this.midHeads, this.midCounts, cls, this.midCounts[cls]);
    }
    if (this.cacheLists !== 0) flushCoalescingCache(this.mem, this.cacheHeads, this.cacheCounts);
    this.flushStash();
  }

  /** Gives the stash's blocks back to the coalescing tier. */
  private flushStash(): void {
    flushStash(this.mem, this.stashSlots, this.stashCount);
    this.stashCount = 0;
  }

  logLine(line: string): void {
    this.log(line);
  }

  /** True when another thread has freed blocks of this thread's slabs since the last drain. */
  remotePending(): boolean {
    return this.mem.shared && Atomics.load(this.i32, pendingWord(this.tid)) !== 0;
  }

  /**
   * A tiny malloc whose front list is empty: a refill (of tiny blocks in the coalescing tier while the
   * class has no slab yet), or the block the refill took instead (of the next class up, or of the
   * coalescing tier).
   */
  protected refillAndPop(cls: number, size: number): number {
    const got = refill(this, cls, this.refillCount, size);
    if (got <= 0) return got === 0 ? this.outOfMemory(size) : -got;
    const b = this.heads[cls];
    this.heads[cls] = this.i32[linkWord(b)];
    this.counts[cls]--;
    this.u8[b] = TINY_LIVE | cls;
    return b + 1;
  }

  /**
   * Out of memory: give back everything this thread can (trim), then try once more. Memory freed
   * into other tiers or classes serves this request instead of failing it.
   */
  protected outOfMemory(size: number): number {
    if (!this.retryingAfterOom) {
      this.retryingAfterOom = true;
      try {
        trimThread(this);
        return this.malloc(size);
      } finally {
        this.retryingAfterOom = false;
      }
    }
    this.stat[STAT.oom]++;
    return 0;
  }

  private retryingAfterOom = false;

  /** Takes the first block of cache list `list` (not empty) and returns its user pointer. */
  private popCached(list: number): number {
    const b = this.cacheHeads[list];
    this.cacheHeads[list] = this.i32[cacheLink(b)];
    this.cacheCounts[list]--;
    this.u8[b + COALESCING_PREFIX - 1] = MID_LIVE;
    return b + COALESCING_PREFIX;
  }

  /**
   * A stashed block, else mallocBeyondStash. Not in malloc: any more bytecode in malloc and V8 stops
   * inlining the tiny path's callees into malloc's callers (random-mixed on current 0.81x). And no more
   * than this, so that V8 inlines it into malloc's callers in turn (gs-pages, docs/footprint.md "The
   * stash's paths small enough to inline").
   */
  protected mallocSlow(size: number): number {
    // A stashed block is the likeliest, and the stash holds none with the cache or once detached
    // (gs-pages' cycle: 45 instructions fewer in 3 mallocs).
    if (this.stashCount !== 0 && size <= this.midMaxRequest && size >>> 0 === size) {
      const stashed = this.takeStashed(size);
      if (stashed !== 0) return stashed;
    }
    return this.mallocBeyondStash(size);
  }

  /**
   * The coalescing tier's cache, then mid sizes from this thread's mid lists; then validation, and the
   * large tier. The cache's pop is here, after the stash's call: with the cache's take in mallocSlow
   * and its give in freeCoalescing, gs-pages took 1.19x the time. compact's random-mixed reads 0.955x
   * with this split: V8 inlines mallocSlow, whose stash test is dead there, into its loop and calls
   * freeBeyondStash, the cache's give (docs/footprint.md "The stash's paths small enough to inline").
   */
  private mallocBeyondStash(size: number): number {
    if (size < this.cacheLimit && size >>> 0 === size) {
      const list = this.cacheListFor(size);
      if (this.cacheHeads[list] !== 0) return this.popCached(list);
      return this.mallocCacheMiss(size);
    }
    if (size <= this.midMaxRequest && size >>> 0 === size && !this.detached) {
      if (this.coalescing === true) {
        if (this.cacheLists !== 0) return this.mallocCacheMiss(size);
        const p = coalescingMalloc(this.mem, size);
        return p !== 0 ? p : this.outOfMemory(size);
      }
      const cls = this.midClassOf[(size + 512) >> 9];
      if (this.midDirect === true) {
        let b = midPopFree(this.mem, cls);
        if (b === 0) b = midCarveOne(this.mem, cls);
        if (b === 0) return this.outOfMemory(size);
        this.u8[b] = MID_LIVE | cls;
        return b + 1;
      }
      if (this.midHeads[cls] === 0 && midRefill(this.mem, this.midHeads, this.midCounts, cls, (this.midCacheCapacity[cls] >> 1) || 1, this.tid) === 0) {
        return this.outOfMemory(size);
      }
      const b = this.midHeads[cls];
      this.midHeads[cls] = this.i32[linkWord(b)];
      this.midCounts[cls]--;
      this.u8[b] = MID_LIVE | cls;
      return b + 1;
    }
    return this.mallocLarge(size);
  }

  /**
   * A coalescing block when this thread's cache has none of its size. Before the tier writes memory
   * never written, the cached blocks go back to it and merge when they are more than 1/128 of the
   * heap's touched bytes or a fast list holds more than a list's count (glibc consolidates its fast
   * bins before it extends its top), so the cache adds at most that share to a resident peak; a miss
   * brings spare blocks of its size for the cache, split from the same free block or carved from bytes
   * of a top touched already. First, though, a cached block up to 1/8 larger serves it, as a tiny
   * class rounds up: with sizes spread over many lists (random-mixed's 16..1024 bytes), 62% of the
   * mallocs went to the tier, 16% with this.
   */
  private mallocCacheMiss(size: number): number {
    if (this.detached) return this.mallocLarge(size); // refuses it
    const list = this.cacheListFor(size);
    const larger = this.cachedLarger(list);
    if (larger !== 0) return larger;
    const room = list < this.cacheLists ? Math.min(this.cacheCapacity - this.cacheCounts[list], CACHE_SPARE_MAX) : 0;
    const spare = room > 0 ? this.cacheSpare : null;
    // The block its list holds: with size classes, larger than the request needs.
    const request = list < this.cacheLists ? listRequest(list) : size;
    let p = coalescingMalloc(this.mem, request, false, spare, room);
    if (p === 0) {
      const touched = this.i32[H.TOUCHED_4K] << TOUCH_SHIFT;
      if (fastListsOver(this.cacheCounts, this.cacheCapacity) || cachedBytes(this.cacheCounts) > touched >> CACHE_SHARE_SHIFT) {
        flushCoalescingCache(this.mem, this.cacheHeads, this.cacheCounts);
      }
      p = coalescingMalloc(this.mem, request, true, spare, room);
    }
    if (spare !== null) {
      for (let i = 1; i <= spare[0]; i++) {
        const b = spare[i];
        this.i32[cacheLink(b)] = this.cacheHeads[list];
        this.i32[cacheHolder(b)] = this.tid | 0;
        this.cacheHeads[list] = b;
      }
      this.cacheCounts[list] += spare[0];
    }
    return p !== 0 ? p : this.outOfMemory(size);
  }

  /**
   * The user pointer of a stashed block that serves a request of `size` bytes (at least its block, at
   * most 1/32 more), taken from the stash; else 0, and the stash goes back to the tier, so that the
   * tier serves the request as it would have without the stash (and writes no new memory while the
   * stash holds blocks).
   */
  private takeStashed(size: number): number {
    const need = blockBytesFor(size);
    const slots = this.stashSlots;
    // Newest first: a program mostly asks again for what it freed last.
    for (let i = this.stashCount - 1; i >= 0; i--) {
      const b = slots[i];
      const over = sizeOf(this.i32, b) - need;
      if (over >= 0 && over <= need >> STASH_FIT_SHIFT) {
        const count = this.stashCount - 1;
        for (let j = i; j < count; j++) slots[j] = slots[j + 1];
        slots[count] = 0;
        this.stashCount = count;
        if (this.stashScore < STASH_SCORE_MAX) this.stashScore++;
        else this.stashNextPause = STASH_PAUSE_MIN;
        this.u8[b + COALESCING_PREFIX - 1] = MID_LIVE;
        return b + COALESCING_PREFIX;
      }
    }
    this.stashMissed();
    return 0;
  }

  /** No stashed block serves a malloc: the blocks go back to the tier, off the score, and the stash pauses at 0. */
  private stashMissed(): void {
    this.stashScore -= this.stashCount;
    if (this.stashScore <= 0) this.pauseStash();
    else this.flushStash();
  }

  /** The cache list for a request of `size` bytes. */
  private cacheListFor(size: number): number {
    return this.cacheClasses === true && size < this.cacheLimit ? cacheClassListOf(size) : cacheListOf(size);
  }

  /**
   * A block of the first non-empty list up to 1/8 above `list` (its user pointer), or 0. A method of
   * its own: with the loop written in mallocCacheMiss, perl-words on compact replayed with 7% more
   * instructions (callgrind, 3 runs each), though it takes this route on 0.1% of its mallocs.
   */
  private cachedLarger(list: number): number {
    const last = Math.min(list + (list >> 3), this.cacheLists - 1);
    for (let l = list + 1; l <= last; l++) if (this.cacheHeads[l] !== 0) return this.popCached(l);
    return 0;
  }

  /** Validation of a size no front list serves, then the large tier. */
  protected mallocLarge(size: number): number {
    if (typeof size !== "number" || !Number.isInteger(size) || size < 0)
      throw new HeapError("INVALID_SIZE", `malloc(${fmtValue(size)}): size must be a non-negative integer`);
    this.assertAttached();
    if (size > this.mem.config.bytes) {
      this.stat[STAT.oom]++;
      return 0;
    }
    const p = largeMalloc(this.mem, size);
    return p !== 0 ? p : this.outOfMemory(size);
  }

  /** Puts a freed mid block (checked by the caller) on this thread's mid list. */
  pushFreeMid(b: number, cls: number): void {
    this.u8[b] = MID_FREE | cls;
    if (this.midDirect === true) return midPushFree(this.mem, b, cls);
    this.i32[linkWord(b)] = this.midHeads[cls];
    this.i32[cacheOwnerWord(b)] = this.tid | 0;
    this.midHeads[cls] = b;
    if (++this.midCounts[cls] > this.midCacheCapacity[cls]) midSpill(this.mem, this.midHeads, this.midCounts, cls, (this.midCounts[cls] >> 1) || 1);
  }

  /** A plain read: the owner of a slab holding a block this thread may free changes only by adoption of orphans. */
  protected ownerOf(b: number): number {
    return this.i32[this.pageMeta + ((b >>> PAGE_SHIFT) << PAGE_META_SHIFT) + P.OWNER];
  }

  /** Sends a block owned by another thread to that thread's remote queue. */
  freeRemoteBlock(b: number, cls: number): void {
    remoteFree(this, b, cls);
  }

  /**
   * As C's aligned_alloc: `size` bytes at a multiple of `alignment` (a power of two up to 64 KiB), or 0
   * when out of memory. The block is freed, sized and reallocated like any other.
   */
  alignedAlloc(alignment: number, size: number): number {
    checkAlignedRequest("alignedAlloc", alignment, size);
    this.assertAttached();
    return headerAlignedAlloc(this, alignment, size);
  }

  /**
   * Frees `ptr` by the release route, past any build's decoration of free: the carrier block of an
   * aligned block, once the build's checks ran on the aligned pointer itself.
   */
  releaseFree(ptr: number): void {
    Heap.prototype.free.call(this, ptr);
  }

  /** A typed array of `n` elements over a new element-aligned block (null when out of memory); see typed-views.ts. */
  allocArray<T extends TypedArray>(Ctor: TypedArrayConstructor<T>, n: number): T | null {
    return allocArray(this, Ctor, n);
  }

  /** allocArray, zeroed. */
  callocArray<T extends TypedArray>(Ctor: TypedArrayConstructor<T>, n: number): T | null {
    return callocArray(this, Ctor, n);
  }

  /** A view of `n` elements holding the old view's contents; the old one is no longer valid (null when out of memory: the old stays). */
  reallocArray<T extends TypedArray>(view: T, n: number): T | null {
    return reallocArray(this, view, n);
  }

  /** Frees the block of a view allocArray handed out (not a sub-view, not a view of another buffer). */
  freeArray(view: TypedArray): void {
    freeArray(this, view);
  }

  /** A view of `n` elements over the live block at `ptr`, bounds-checked against its usable size. */
  view<T extends TypedArray>(ptr: number, Ctor: TypedArrayConstructor<T>, n: number): T {
    return viewOf(this, ptr, Ctor, n);
  }

  calloc(count: number, size: number): number {
    if (!isCount(count) || !isCount(size)) throw callocSizeError(count, size);
    const total = count * size;
    if (total > this.mem.config.bytes) {
      this.stat[STAT.oom]++;
      return 0;
    }
    const p = this.malloc(total);
    if (p !== 0) zeroBytes(this.u8, this.i32, p, p + total);
    return p;
  }

  /**
   * A tiny block grown into a tiny class whose front list holds a block: pop it, copy, push the old
   * block, as malloc and free would without reading the header and size again (sqlite3-index's
   * reallocs are nearly all such moves, sed-rewrite's most), on a heap no other thread frees into;
   * and a tiny block that still fits, asked for half its usable bytes or more, returned where it is
   * (29% of sed-rewrite's reallocs). Every other case is reallocSlow's. Kept this small: V8 inlines it
   * into its callers only below a budget of bytecode, its inlined callees' included (docs/footprint.md
   * "realloc's bytecode, and a block that fits").
   */
  realloc(ptr: number, size: number): number {
    const h = this.u8[ptr - 1];
    if ((h & this.tinyLiveMask) === TINY_LIVE && (ptr & 7) === 1 && ptr >>> 0 === ptr && typeof size === "number" && size >>> 0 === size && size < this.reallocMoveLimit) {
      const from = h & TINY_CLASS_MASK;
      const old = this.blockSize[from] - 1;
      // As reallocSlow would leave it; a block asked for fewer bytes moves to a smaller class there.
      if (size <= old && size >= this.reallocKeepsFrom[from]) return ptr;
      const cls = this.reallocMoveClass[size - old <= this.reallocRoomStep ? size + size : size];
      const q = this.heads[cls];
      if (size > old && q !== 0 && this.checkOwner === false) {
        this.heads[cls] = this.i32[linkWord(q)];
        this.counts[cls]--;
        // Both blocks start on 8 bytes: the old one's words, its header byte first, then the new header.
        copyWords(this.i32, q >> 2, (ptr - 1) >> 2, (old + 1) >> 2);
        this.u8[q] = TINY_LIVE | cls;
        this.pushFree(ptr - 1, from);
        return q + 1;
      }
    }
    return this.reallocSlow(ptr, size);
  }

  private reallocSlow(ptr: number, size: number): number {
    if (ptr === 0) return this.malloc(size);
    if (typeof size !== "number" || !Number.isInteger(size) || size < 0)
      throw new HeapError("INVALID_SIZE", `realloc(${fmtPtr(ptr)}, ${fmtValue(size)}): size must be a non-negative integer`);
    const h = this.u8[ptr - 1];
    // A live tiny block is read off its header byte, as free reads it, and has no in-place growth to try.
    const tiny = (h & this.tinyLiveMask) === TINY_LIVE && (ptr & 7) === 1 && ptr >>> 0 === ptr;
    const old = tiny ? this.blockSize[h & TINY_CLASS_MASK] - 1 : this.headerUsable(ptr) || this.blockUsable(ptr, "realloc");
    if (size === 0) {
      this.free(ptr);
      return 0;
    }
    if (size <= old) return this.shrinks === true && size < old >>> 1 ? this.shrink(ptr, size, old) : ptr;
    if (!tiny && this.growsInPlace === true && this.growInPlace(ptr, size)) return ptr;
    const room = tiny && size < this.tinyLimit && size - old <= this.reallocRoomStep;
    const q = room ? this.mallocTinyRoom(size) : this.roomToGrow === true ? this.mallocToGrow(size) : this.malloc(size);
    if (q === 0) return 0; // the old block stays valid, as in C
    if (tiny && ((q - 1) & 3) === 0) {
      // Both blocks start on a word: the old block's words, header byte and all, then the new header
      // back. copyWords is small enough to leave V8 the budget to inline free below; copyBytes is not.
      const newHeader = this.u8[q - 1];
      copyWords(this.i32, (q - 1) >> 2, (ptr - 1) >> 2, (old + 1) >> 2);
      this.u8[q - 1] = newHeader;
    } else copyBytes(this.u8, this.i32, q, ptr, old);
    this.free(ptr);
    return q;
  }

  usableSize(ptr: number): number {
    return this.blockUsable(ptr, "usableSize");
  }

  /**
   * The new block of a realloc that grows a tiny block to `size`, at most reallocRoomStep bytes past
   * its usable ones: one for twice `size` within the tiny tier (the fast path's reallocMoveClass), or,
   * where none can be had (counted as out of memory), one for `size`, as realloc without the room.
   */
  private mallocTinyRoom(size: number): number {
    const room = this.blockSize[this.reallocMoveClass[size + size]] - 1;
    return (room > size ? this.malloc(room) : 0) || this.malloc(size);
  }

  /**
   * The new block of a realloc that moves a block it grows: a coalescing block where it has room to
   * grow again (coalescing.ts coalescingMallocToGrow) when the coalescing tier serves `size`, else
   * malloc's.
   */
  protected mallocToGrow(size: number): number {
    if (size >= this.tinyLimit && size <= this.midMaxRequest) {
      const p = coalescingMallocToGrow(this.mem, size);
      if (p !== 0) return p;
    }
    return this.malloc(size);
  }

  /**
   * The live block at `ptr` (`old` usable bytes), shrunk to below half of them: objects a program
   * shrinks for good (python's) would keep their bytes. Each tier shrinks as its native model does: a
   * tiny or mid-class block moves to a smaller one (jemalloc's small classes), a coalescing block
   * frees its tail where it is (glibc's chunks), a large block gives its tail pages back (a mapping's
   * tail). A block stays as it is when it came from alignedAlloc (a move would lose its alignment),
   * when the new size's tiny class is no smaller, or when no block can be had (malloc counts that
   * out-of-memory as its own). A tiny move can land in a block of the old one's size, where malloc
   * borrows one of the next class up (tinyBorrowNextClass): a block free already, so no loss.
   */
  private shrink(ptr: number, size: number, old: number): number {
    const h = this.u8[ptr - 1] & MAGIC_MASK;
    if (h === LARGE_LIVE) {
      largeShrinkInPlace(this.mem, ptr, size);
      return ptr;
    }
    if (h === MID_LIVE && this.coalescing === true && (ptr & 15) === COALESCING_PREFIX) {
      coalescingShrinkInPlace(this.mem, ptr, size);
      return ptr;
    }
    if (h === ALIGNED_LIVE || (size < this.tinyLimit && this.blockSize[this.classOf[size]] >= old)) return ptr;
    const q = this.malloc(size);
    if (q === 0) return ptr;
    copyBytes(this.u8, this.i32, q, ptr, size);
    this.free(ptr);
    return q;
  }

  /** A live large or coalescing mid block (header heaps) grown where it is, when what follows it is free. */
  private growInPlace(ptr: number, size: number): boolean {
    const h = this.u8[ptr - 1] & MAGIC_MASK;
    if (h === LARGE_LIVE) return largeGrowInPlace(this.mem, ptr, size);
    if (h !== MID_LIVE || this.coalescing !== true || (ptr & 15) !== COALESCING_PREFIX) return false;
    if (coalescingGrowInPlace(this.mem, ptr, size)) return true;
    // Stashed blocks after it are live to the tier until they go back, as they would have been freed.
    if (this.stashCount === 0) return false;
    this.flushStash();
    return coalescingGrowInPlace(this.mem, ptr, size);
  }

  /**
   * The usable size of a live mid block read off its header byte, trusted as free's fast path
   * trusts it (the header route); 0 where that route does not apply, for the validating lookup.
   */
  protected headerUsable(ptr: number): number {
    // Not a uint32 (a string, a fraction): the lookup refuses it by name.
    if (this.headerFree !== true || ptr >>> 0 !== ptr) return 0;
    const h = this.u8[ptr - 1];
    if ((h & 0xf0) === MID_LIVE && (ptr & this.midAlignMask) === 1 && (h & 0x0f) < this.midClassCount) return this.mem.midSizes[h & 0x0f] - 1;
    if ((h & 0xf0) === MID_LIVE && (ptr & 15) === COALESCING_PREFIX && this.coalescing === true) return coalescingUsableSize(this.mem, ptr);
    return 0;
  }

  /** The tier that serves a malloc of `size` bytes on this heap (for breakdowns; the heap itself never asks). */
  tierOf(size: number): "tiny" | "mid" | "large" {
    return size < this.tinyLimit ? "tiny" : size <= this.midLargestRequest() ? "mid" : "large";
  }

  /** The largest request the mid tier serves. */
  protected midLargestRequest(): number {
    return this.midMaxRequest;
  }

  /**
   * The usable size of the live block at `ptr`, refusing anything else with a message naming `op`; on a
   * detached handle (realloc and usableSize come here once detached), refused.
   */
  protected blockUsable(ptr: number, op: string): number {
    this.assertAttached();
    return usableSize(this, ptr, op);
  }

  /** The header byte of the block at `ptr` that the debug build watches for changes; -1 where blocks have none. */
  blockHeader(ptr: number): number {
    return this.u8[ptr - 1];
  }

  /** Whether `ptr` (inside the heap's blocks) is the start of a block that is free: what a second free would find. */
  isFreedBlock(ptr: number): boolean {
    const m = this.u8[ptr - 1] & MAGIC_MASK;
    return m === TINY_FREE || m === MID_FREE || m === LARGE_FREE || m === ALIGNED_FREE;
  }

  stats(): HeapStats {
    return collectStats(this);
  }

  /** Throws HEAP_CORRUPT at the first inconsistency. Takes no locks: no other thread may use the heap meanwhile. */
  check(): void {
    checkHeap(this);
  }

  /** Every slab of every live SuperSlab: class, state and fill (for the heap map plot). */
  occupancy(): SlabCell[] {
    return occupancy(this);
  }

  /** A structured-clonable handle a worker passes to `attachHeap` (shared heaps only). */
  handle(): HeapHandle {
    if (!this.mem.shared)
      throw new HeapError("INVALID_OPTION", "handle(): this heap is not shared; create it with { shared: true }");
    return { buffer: this.mem.buffer as SharedArrayBuffer, config: this.mem.config };
  }

  /** Flushes this thread's caches back to the heap, merges its stats and retires its thread id. */
  detach(): void {
    if (this.detached) return;
    detachThread(this);
    this.detached = true;
    // Every later call now leaves the fast paths and is refused with DETACHED.
    this.tinyLimit = 0;
    this.headerFree = false;
    this.tinyLiveMask = 0;
    this.onDetach?.();
  }

  /** Run once after detach (create-heap uses it to drop a worker's exit hook). */
  onDetach: (() => void) | null = null;

  /**
   * Gives free memory back, like glibc's malloc_trim: drains remote frees, adopts orphaned slabs that
   * received frees, empties this thread's caches and returns empty slabs to the pool (and completely
   * empty SuperSlabs to the arena).
   */
  trim(): void {
    this.assertAttached();
    trimThread(this);
  }

  /**
   * Adopts the slabs of thread `tid`, which died without detaching (e.g. a terminated worker), and
   * recovers the blocks its caches held. Returns the number of blocks recovered.
   */
  reclaimThread(tid: number): number {
    this.assertAttached();
    return reclaimThread(this, tid);
  }

  get isDetached(): boolean {
    return this.detached;
  }

  /** Refuses a call on a detached handle (the slow paths call this). */
  assertAttached(): void {
    if (this.detached) throw new HeapError("DETACHED", "this heap handle was detached; attach again to use the heap");
  }
}

/** A Heap class (a front-end variant, maybe decorated): what create-heap instantiates. */
export type HeapClass = new (mem: HeapMemory, tid: number, log: (line: string) => void) => Heap;

export interface FrontList {
  name: string;
  heads: Int32Array;
  counts: Int32Array;
}

export interface HeapHandle {
  buffer: SharedArrayBuffer;
  config: HeapConfig;
}

/** Reserves a free thread id (1..MAX_THREADS-1; 0 means "no owner"); ids of detached threads are reused. */
export function claimThreadId(mem: HeapMemory): number {
  for (let tid = 1; tid < MAX_THREADS; tid++) {
    if (load(mem, H.THREAD_LIVE + tid) === 0 && cas(mem, H.THREAD_LIVE + tid, 0, 1) === 0) {
      fetchAdd(mem, H.LIVE_THREADS, 1);
      return tid;
    }
  }
  throw new HeapError("INVALID_OPTION", `attach: ${MAX_THREADS - 1} threads are attached to this heap already`);
}

/** A non-negative integer: what calloc takes for either argument. */
function isCount(v: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

/** calloc's error, naming the first argument that is no count (kept out of calloc, which is on replay's hot path). */
function callocSizeError(count: number, size: number): HeapError {
  const name = isCount(count) ? "size" : "count";
  return new HeapError("INVALID_SIZE", `calloc(${fmtValue(count)}, ${fmtValue(size)}): ${name} must be a non-negative integer`);
}
