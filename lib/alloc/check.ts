/**
 * `heap.check()`: walks every structure in the buffer and this thread's caches, and throws a
 * HEAP_CORRUPT error naming the first inconsistency. Slow by design; tests call it often.
 */
import { HeapError } from "./errors";
import { linkWord, LARGE_LIVE, MID_FREE, TINY_FREE } from "./header";
import type { Heap } from "./heap";
import {
  FLAG_ABANDONED, FLAG_IN_PARTIAL, H, KIND_COALESCING, KIND_FREE, KIND_LARGE, KIND_LARGE_TAIL, KIND_META, KIND_MID, KIND_SLAB, LIVE_GRANULE_SHIFT, LIVE_WORD_SHIFT, P,
  PAGE, PAGE_SHIFT, pendingWord, S, SLOT_ACTIVE, SLOT_EMPTY, SLOT_UNUSED, MAX_THREADS, THREAD_FREE,
} from "./layout";
import { lookupSuperSlab } from "./registry";
import { MAX_TINY_CLASSES } from "./size-classes";
import { isPartialOf } from "./slab-lists";
import { ssFirstPage, ssWord } from "./superslab";
import { isLive } from "./live-bitmap";
import { largePrefix } from "./large";
import { midCarved } from "./mid";
import { coalescingInconsistency } from "./coalescing";
import { tinyInTierError } from "./free-route";
import { cacheInconsistency } from "./coalescing-cache";
import { stashInconsistency } from "./coalescing-stash";

function corrupt(what: string): never {
  throw new HeapError("HEAP_CORRUPT", what);
}

export function checkHeap(heap: Heap): void {
  const m = heap.mem;
  const i32 = m.i32;
  const { pages, metaPages, superslabs } = m.layout;
  let inUse = 0;
  for (let p = 0; p < pages; p++) {
    const kind = i32[m.meta(p) + P.KIND];
    const free = (i32[m.bitmap + (p >>> 5)] & (1 << (p & 31))) !== 0;
    if (free !== (kind === KIND_FREE)) corrupt(`page ${p}: arena bitmap says ${free ? "free" : "used"} but page kind is ${kind}`);
    if ((p < metaPages) !== (kind === KIND_META)) corrupt(`page ${p}: metadata page kind mismatch (${kind})`);
    if (!free && p >= metaPages) inUse++;
  }
  if (inUse !== i32[H.PAGES_IN_USE]) corrupt(`arena counts ${i32[H.PAGES_IN_USE]} pages in use, pages say ${inUse}`);

  let live = 0;
  for (let ss = 0; ss < superslabs; ss++) {
    if (i32[ssWord(m, ss) + S.LIVE] !== 1) continue;
    live++;
    checkSuperSlab(heap, ss);
  }
  if (live !== i32[H.SUPERSLABS]) corrupt(`${i32[H.SUPERSLABS]} SuperSlabs counted, ${live} live`);
  checkSlotLists(heap);
  checkL0Slab(heap);
  checkAbandonedLists(heap);
  checkPendingStacks(heap);
  checkFrontLists(heap);
  checkMidLists(heap);
  const coalescing = coalescingInconsistency(m);
  if (coalescing !== null) corrupt(`coalescing mid tier: ${coalescing}`);
  const cached = cacheInconsistency(m, heap.cacheHeads, heap.cacheCounts, heap.tid);
  if (cached !== null) corrupt(cached);
  const stashed = stashInconsistency(m, heap.stashSlots, heap.stashCount, heap.stashPause, heap.tid);
  if (stashed !== null) corrupt(stashed);
  checkLargeRuns(heap);
  if (m.liveBits >= 0) checkLiveBits(heap);
}

function checkSuperSlab(heap: Heap, ss: number): void {
  const m = heap.mem;
  const i32 = m.i32;
  const first = ssFirstPage(m, ss);
  if (lookupSuperSlab(m, first << PAGE_SHIFT) !== ss) corrupt(`SuperSlab ${ss} is live but not in the registry`);
  let active = 0;
  let empty = 0;
  const cursor = i32[ssWord(m, ss) + S.CURSOR];
  for (let k = 0; k < m.layout.pagesPerSS; k++) {
    const page = first + k;
    const meta = m.meta(page);
    if (i32[meta + P.KIND] !== KIND_SLAB) corrupt(`page ${page} of SuperSlab ${ss} is not a slab`);
    const state = i32[meta + P.STATE];
    if (k >= cursor && state !== SLOT_UNUSED) corrupt(`slab ${page}: beyond the claim cursor but state ${state}`);
    if (state === SLOT_ACTIVE) active++;
    if (state === SLOT_EMPTY) empty++;
    if (state === SLOT_ACTIVE && i32[meta + P.CLASS] >= 0) checkSlab(heap, page);
  }
  if (active !== i32[ssWord(m, ss) + S.ACTIVE]) corrupt(`SuperSlab ${ss}: ${i32[ssWord(m, ss) + S.ACTIVE]} active slots counted, ${active} found`);
  if (empty !== i32[ssWord(m, ss) + S.EMPTY]) corrupt(`SuperSlab ${ss}: ${i32[ssWord(m, ss) + S.EMPTY]} empty slots counted, ${empty} found`);
}

function checkSlab(heap: Heap, page: number): void {
  const m = heap.mem;
  const i32 = m.i32;
  const meta = m.meta(page);
  const cls = i32[meta + P.CLASS];
  const size = heap.blockSize[cls];
  const carved = i32[meta + P.CARVED];
  const used = i32[meta + P.USED];
  if (size === undefined) corrupt(`slab ${page}: class ${cls} is not a tiny class of this heap`);
  if (carved > i32[meta + P.CAPACITY] || used < 0 || used > carved) corrupt(`slab ${page}: used ${used}, carved ${carved}, capacity ${i32[meta + P.CAPACITY]}`);
  let n = 0;
  for (let b = i32[meta + P.FREELIST]; b !== 0; b = i32[linkWord(b)]) {
    checkTinyBlock(heap, b, page, cls, `slab ${page} freelist`);
    if (++n > carved) corrupt(`slab ${page}: freelist longer than the blocks carved (cycle?)`);
  }
  // Blocks on the remote stack stay counted in USED until their owner drains them.
  let remote = 0;
  for (let b = i32[meta + P.REMOTE_HEAD]; b !== 0; b = i32[linkWord(b)]) {
    checkTinyBlock(heap, b, page, cls, `slab ${page} remote stack`);
    if (++remote > used) corrupt(`slab ${page}: remote stack longer than the ${used} blocks in use (cycle?)`);
  }
  if (n + used !== carved) corrupt(`slab ${page}: ${n} blocks on the freelist + ${used} used != ${carved} carved`);
}

function checkTinyBlock(heap: Heap, b: number, page: number, cls: number, where: string): void {
  const m = heap.mem;
  const base = page << PAGE_SHIFT;
  if (b >>> PAGE_SHIFT !== page || (b - base) % heap.blockSize[cls] !== 0 || (b - base) / heap.blockSize[cls] >= m.i32[m.meta(page) + P.CARVED])
    corrupt(`${where}: block ${b} is not a carved block of class ${cls}`);
  if (m.u8[b] !== (TINY_FREE | cls)) corrupt(`${where}: free block ${b} has header 0x${m.u8[b].toString(16)}`);
  if (isLive(m, b)) corrupt(`${where}: free block ${b} is marked live in the live bitmap`);
}

/** A free tiny block in the coalescing tier (tiny-refill.ts refillInTier): in a live block of the tier that holds its class. */
function checkTinyBlockInTier(heap: Heap, b: number, cls: number, where: string): void {
  const error = tinyInTierError(heap, b + 1, cls, "check");
  if (error !== null) corrupt(`${where}: block ${b}: ${error.message}`);
  if (heap.u8[b] !== (TINY_FREE | cls)) corrupt(`${where}: free block ${b} has header 0x${heap.u8[b].toString(16)}`);
}

function checkSlotLists(heap: Heap): void {
  const m = heap.mem;
  const i32 = m.i32;
  for (let cls = 0; cls < MAX_TINY_CLASSES; cls++) {
    for (const page of pageListPages(heap, H.CLASS_SLOTS + cls, `class ${cls} slot list`)) {
      const meta = m.meta(page);
      if (i32[meta + P.STATE] !== SLOT_EMPTY || i32[meta + P.CLASS] !== cls) corrupt(`class ${cls} slot list holds slab ${page} in state ${i32[meta + P.STATE]}`);
    }
  }
}

/** The thread's L0 slab (shared-pool.ts releaseSlot): an empty slab it keeps ACTIVE and owned, so on no list of the pool. */
function checkL0Slab(heap: Heap): void {
  const page = heap.l0Slab;
  if (page === 0) return;
  const i32 = heap.mem.i32;
  const meta = heap.mem.meta(page);
  if (i32[meta + P.KIND] !== KIND_SLAB || i32[meta + P.STATE] !== SLOT_ACTIVE || i32[meta + P.OWNER] !== heap.tid || i32[meta + P.USED] !== 0) {
    corrupt(`L0 slab ${page}: kind ${i32[meta + P.KIND]}, state ${i32[meta + P.STATE]}, owner ${i32[meta + P.OWNER]}, ${i32[meta + P.USED]} blocks in use; an empty slab ACTIVE and owned by thread ${heap.tid} expected`);
  }
}

/** Each abandoned list holds exactly the ownerless slabs of its class flagged abandoned (abandoned.ts). */
function checkAbandonedLists(heap: Heap): void {
  const m = heap.mem;
  const i32 = m.i32;
  let listed = 0;
  for (let cls = 0; cls < MAX_TINY_CLASSES; cls++) {
    for (const page of pageListPages(heap, H.ABANDONED + cls, `class ${cls} abandoned list`)) {
      const meta = m.meta(page);
      if (i32[meta + P.KIND] !== KIND_SLAB || i32[meta + P.STATE] !== SLOT_ACTIVE || i32[meta + P.CLASS] !== cls)
        corrupt(`class ${cls} abandoned list holds page ${page}, no active slab of that class`);
      if (i32[meta + P.OWNER] !== 0) corrupt(`class ${cls} abandoned list holds slab ${page}, owned by thread ${i32[meta + P.OWNER]}`);
      if ((i32[meta + P.FLAGS] & FLAG_ABANDONED) === 0) corrupt(`class ${cls} abandoned list holds slab ${page}, not flagged abandoned`);
      listed++;
    }
  }
  let flagged = 0;
  for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
    const meta = m.meta(page);
    if (i32[meta + P.KIND] === KIND_SLAB && (i32[meta + P.FLAGS] & FLAG_ABANDONED) !== 0) flagged++;
  }
  if (flagged !== listed) corrupt(`${flagged} slabs are flagged abandoned, ${listed} are on the abandoned lists`);
}

/** The pages of a page list (page-lists.ts) headed by header word `head`, its back links and length checked. */
function pageListPages(heap: Heap, head: number, what: string): number[] {
  const m = heap.mem;
  const i32 = m.i32;
  const pages: number[] = [];
  let prev = 0;
  for (let page = i32[head]; page !== 0; page = i32[m.meta(page) + P.NEXT]) {
    if (i32[m.meta(page) + P.PREV] !== prev) corrupt(`${what}: slab ${page} has a wrong back link`);
    if (pages.push(page) > m.layout.pages) corrupt(`${what} has a cycle`);
    prev = page;
  }
  return pages;
}

/** A free thread id has no pending slabs: their remote frees would wait for an owner that is gone. */
function checkPendingStacks(heap: Heap): void {
  const i32 = heap.mem.i32;
  for (let tid = 1; tid < MAX_THREADS; tid++) {
    const page = i32[pendingWord(tid)];
    if (i32[H.THREAD_LIVE + tid] === THREAD_FREE && page !== 0)
      corrupt(`thread id ${tid} is free, but slab ${page} waits on its pending stack (its remote frees reach no owner)`);
  }
}

function checkFrontLists(heap: Heap): void {
  const m = heap.mem;
  for (const list of heap.frontLists()) {
    for (let cls = 0; cls < heap.blockSize.length; cls++) {
      const where = `${list.name} of class ${cls}`;
      let n = 0;
      for (let b = list.heads[cls]; b !== 0; b = m.i32[linkWord(b)]) {
        const page = b >>> PAGE_SHIFT;
        const meta = m.meta(page);
        if (m.i32[meta + P.KIND] === KIND_COALESCING) checkTinyBlockInTier(heap, b, cls, where);
        else {
          if (m.i32[meta + P.KIND] !== KIND_SLAB || m.i32[meta + P.CLASS] !== cls || m.i32[meta + P.STATE] !== SLOT_ACTIVE)
            corrupt(`${where}: block ${b} is not in an active slab of that class`);
          checkTinyBlock(heap, b, page, cls, where);
        }
        if (++n > list.counts[cls]) corrupt(`${where} is longer than its count ${list.counts[cls]}`);
      }
      if (n !== list.counts[cls]) corrupt(`${where} holds ${n} blocks, its count says ${list.counts[cls]}`);
    }
  }
  // Every slab flagged as partial must be on its class's list (stale entries are skipped by refill).
  const listed = new Set<number>();
  heap.partial.forEach((list, cls) => list.forEach((page) => { if (isPartialOf(heap, page, cls)) listed.add(page); }));
  let owned = 0;
  for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
    const meta = m.meta(page);
    if (m.i32[meta + P.KIND] !== KIND_SLAB || m.i32[meta + P.OWNER] !== heap.tid) continue;
    if ((m.i32[meta + P.FLAGS] & FLAG_IN_PARTIAL) !== 0 && !listed.has(page)) corrupt(`slab ${page} is flagged partial but on no partial list of its class`);
    if (m.i32[meta + P.STATE] === SLOT_ACTIVE) {
      if (!heap.ownedSlabs.has(page)) corrupt(`slab ${page} is owned by thread ${heap.tid} but not in its list of slabs (detach would miss it)`);
      owned++;
    }
  }
  if (owned !== heap.ownedSlabs.size) corrupt(`thread ${heap.tid} lists ${heap.ownedSlabs.size} slabs as its own, owns ${owned}`);
}

function checkMidLists(heap: Heap): void {
  const m = heap.mem;
  const freeIn = new Map<number, number>();
  for (let cls = 0; cls < m.midSizes.length; cls++) {
    let n = 0;
    for (let b = m.i32[H.MID_FREE + cls]; b !== 0; b = m.i32[linkWord(b)]) {
      const meta = m.meta(b >>> PAGE_SHIFT);
      freeIn.set(m.i32[meta + P.SPAN], (freeIn.get(m.i32[meta + P.SPAN]) ?? 0) + 1);
      if (m.i32[meta + P.KIND] !== KIND_MID || m.i32[meta + P.CLASS] !== cls || m.u8[b] !== (MID_FREE | cls) || isLive(m, b) || !midCarved(m, b, cls))
        corrupt(`mid class ${cls} freelist: block ${b} is not a free block of that class`);
      if (++n > m.layout.pages * (PAGE / m.midSizes[0])) corrupt(`mid class ${cls} freelist has a cycle`);
    }
  }
  let marked = 0;
  for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
    const meta = m.meta(page);
    if (m.i32[meta + P.KIND] !== KIND_MID || m.i32[meta + P.SPAN] !== page) continue;
    const used = m.i32[meta + P.CARVED] - (freeIn.get(page) ?? 0);
    if (m.i32[meta + P.USED] !== used) corrupt(`mid span ${page} counts ${m.i32[meta + P.USED]} blocks in use, has ${used} off its class freelist`);
    if ((m.i32[meta + P.FLAGS] & 2) !== 0) {
      marked++;
      if (used !== 0) corrupt(`mid span ${page} is marked empty with ${used} blocks in use`);
    }
  }
  let listed = 0;
  for (let s = m.i32[H.MID_EMPTY_SPANS]; s !== 0; s = m.i32[m.meta(s) + P.NEXT]) {
    if (m.i32[m.meta(s) + P.KIND] !== KIND_MID || (m.i32[m.meta(s) + P.FLAGS] & 2) === 0) corrupt(`page ${s} is on the list of empty mid spans but no marked span`);
    if (++listed > marked) break;
  }
  if (marked !== listed) corrupt(`${marked} mid spans are marked empty, ${listed} on the list of them`);
}

function checkLargeRuns(heap: Heap): void {
  const m = heap.mem;
  const i32 = m.i32;
  for (let p = 0; p < m.layout.pages; p++) {
    const meta = m.meta(p);
    if (i32[meta + P.KIND] === KIND_LARGE) {
      const span = i32[meta + P.SPAN];
      const prefix = largePrefix(m);
      if (prefix !== 0 ? m.u8[(p << PAGE_SHIFT) + prefix - 1] !== LARGE_LIVE : !isLive(m, p << PAGE_SHIFT))
        corrupt(`large block at page ${p}: ${prefix !== 0 ? "header overwritten" : "not marked live"}`);
      for (let t = p + 1; t < p + span; t++) {
        if (i32[m.meta(t) + P.KIND] !== KIND_LARGE_TAIL || i32[m.meta(t) + P.SPAN] !== p) corrupt(`large block at page ${p}: page ${t} is not its tail`);
      }
    }
  }
}

/** Header-free heaps: every live bit marks the start of a block of its page's tier and class. */
function checkLiveBits(heap: Heap): void {
  const m = heap.mem;
  const i32 = m.i32;
  const words = (m.layout.pages << PAGE_SHIFT) >>> LIVE_WORD_SHIFT;
  for (let w = 0; w < words; w++) {
    for (let bits = i32[m.liveBits + w]; bits !== 0; bits &= bits - 1) {
      const b = (w << LIVE_WORD_SHIFT) + (Math.clz32(bits & -bits) ^ 31) * (1 << LIVE_GRANULE_SHIFT);
      const page = b >>> PAGE_SHIFT;
      const meta = m.meta(page);
      const offset = b - (page << PAGE_SHIFT);
      const kind = i32[meta + P.KIND];
      const cls = i32[meta + P.CLASS];
      const ok =
        kind === KIND_SLAB ? i32[meta + P.STATE] === SLOT_ACTIVE && cls >= 0 && offset % heap.blockSize[cls] === 0 && offset / heap.blockSize[cls] < i32[meta + P.CARVED]
        : kind === KIND_MID ? (b - (i32[meta + P.SPAN] << PAGE_SHIFT)) % m.midSizes[cls] === 0 && midCarved(m, b, cls)
        : kind === KIND_LARGE && offset === 0;
      if (!ok) corrupt(`live bitmap marks ${b} live, but no block of its page (kind ${kind}) starts there`);
    }
  }
}
