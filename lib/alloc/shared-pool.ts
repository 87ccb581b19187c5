/**
 * The shared pool (Phase 12): one pool of SuperSlab slots (slabs) shared by every class and thread.
 * A slot is UNUSED (never carved), ACTIVE (serving a class for its owner) or EMPTY (all blocks back).
 *
 * Acquire, in the seed's stages: STAGE0_L0 (the thread's own cached empty slab), STAGE0.5_EMPTY (an
 * EMPTY slot of the SuperSlab this thread used last, any class; or of any SuperSlab once the arena
 * has no room for a new one), STAGE1_LOCKFREE (the class's list of
 * EMPTY slots), STAGE2_LOCKFREE (claim an UNUSED slot, the class's last SuperSlab first, by atomic
 * cursor), STAGE3 (map a new SuperSlab under the lock).
 * Release: SP_SLOT_RELEASE (ACTIVE -> EMPTY), SP_SLOT_FREELIST_LOCKFREE (onto its class's list),
 * SP_SLOT_COMPLETELY_EMPTY (every claimed slot EMPTY: the SuperSlab goes back to the arena).
 *
 * The EMPTY-slot lists are doubly linked so a SuperSlab going back can unlink its slots; they are
 * edited under the pool lock (a few loads and stores). Stage 2 needs no lock.
 */
import type { HeapMemory } from "./heap-memory";
import { H, P, S, SLOT_ACTIVE, SLOT_EMPTY, STAT, type StatName } from "./layout";
import { createSuperSlab, destroySuperSlab, ssFirstPage, ssWord } from "./superslab";
import { MAX_TINY_CLASSES } from "./size-classes";
import { pushPage, unlinkPage } from "./page-lists";
import { addTouched } from "./page-arena";
import { exchange, fetchAdd, load, lock, store, unlock } from "./sync";

/** What the pool needs of the calling thread. */
export interface PoolThread {
  readonly tid: number;
  /** STAGE0_L0: one empty slab this thread keeps for itself (0 = none). */
  l0Slab: number;
  /** Per class: the SuperSlab it last got a slot from (-1 = none). */
  readonly hintSS: Int32Array;
  /**
   * The slabs this thread owns (owner = tid): added when it acquires or adopts one, removed when it
   * gives one back; detach walks these instead of every page.
   */
  readonly ownedSlabs: Set<number>;
  /** This thread's counters (merged into the heap's when it detaches). */
  readonly stat: Float64Array;
  readonly trace: ((line: string) => void) | null;
}

function hit(t: PoolThread, stat: StatName, tag: string, page: number, cls: number): void {
  t.stat[STAT[stat]]++;
  if (t.trace !== null) t.trace(`[${tag}] tid=${t.tid} class=${cls} slab=${page}`);
}

/** A slab page for class `cls`, not yet formatted, now the thread's; 0 when the heap is out of memory. */
export function acquireSlot(m: HeapMemory, t: PoolThread, cls: number): number {
  return owned(t, takeSlotFor(m, t, cls));
}

/**
 * A reused slot only, now the thread's: the stages before STAGE2, then an EMPTY slot that last served
 * any class; 0 when none (tinyFreshSlabLast).
 */
export function acquireReusedSlot(m: HeapMemory, t: PoolThread, cls: number): number {
  return owned(t, takeReusedSlot(m, t, cls) || takeAnyEmpty(m, t, cls));
}

/** STAGE2 then STAGE3 only: a never-used slot, never a reused one, now the thread's; 0 when out of memory. */
export function acquireFreshSlot(m: HeapMemory, t: PoolThread, cls: number): number {
  return owned(t, claimFreshSlot(m, t, cls));
}

function owned(t: PoolThread, page: number): number {
  if (page !== 0) t.ownedSlabs.add(page);
  return page;
}

function takeSlotFor(m: HeapMemory, t: PoolThread, cls: number): number {
  const reused = takeReusedSlot(m, t, cls);
  if (reused !== 0) return reused;
  const page = claimFreshSlot(m, t, cls);
  return page !== 0 ? page : takeAnyEmpty(m, t, cls);
}

/** STAGE0_L0, STAGE0.5_EMPTY (the class's last SuperSlab), STAGE1_LOCKFREE; 0 when none has a slot. */
function takeReusedSlot(m: HeapMemory, t: PoolThread, cls: number): number {
  if (t.l0Slab !== 0) {
    const page = t.l0Slab;
    t.l0Slab = 0;
    hit(t, "stage0_l0", "SP_ACQUIRE_STAGE0_L0", page, cls);
    return page;
  }
  const hint = t.hintSS[cls];
  if (hint >= 0 || load(m, H.CLASS_SLOTS + cls) !== 0) {
    lock(m, H.POOL_LOCK);
    try {
      if (hint >= 0 && load(m, ssWord(m, hint) + S.LIVE) === 1) {
        const page = takeEmptyIn(m, hint);
        if (page !== 0) {
          hit(t, "stage0_5_empty", "SP_ACQUIRE_STAGE0.5_EMPTY", page, cls);
          return page;
        }
      }
      const head = m.i32[H.CLASS_SLOTS + cls];
      if (head !== 0) {
        takeSlot(m, head);
        hit(t, "stage1_lockfree", "SP_ACQUIRE_STAGE1_LOCKFREE", head, cls);
        return head;
      }
    } finally {
      unlock(m, H.POOL_LOCK);
    }
  }
  return 0;
}

function claimFreshSlot(m: HeapMemory, t: PoolThread, cls: number): number {
  const hint = t.hintSS[cls];
  let page = hint >= 0 ? claimUnused(m, hint) : 0;
  for (let ss = 0; page === 0 && ss < m.layout.superslabs; ss++) page = claimUnused(m, ss);
  if (page !== 0) {
    hit(t, "stage2_lockfree", "SP_ACQUIRE_STAGE2_LOCKFREE", page, cls);
  } else {
    lock(m, H.POOL_LOCK);
    try {
      const ss = createSuperSlab(m);
      if (ss < 0) return 0;
      page = claimUnused(m, ss);
      hit(t, "stage3_new_superslab", "SP_ACQUIRE_STAGE3", page, cls);
    } finally {
      unlock(m, H.POOL_LOCK);
    }
  }
  t.hintSS[cls] = page >> (m.layout.ssShift - 16);
  return page;
}

/**
 * STAGE2: the next never-used slot of SuperSlab `ss`, claimed by atomic increment; 0 if none.
 * ACTIVE goes up before the claim, so a SuperSlab seen with ACTIVE 0 after its cursor was closed
 * has no claim in flight (see releaseEmptySuperSlabs).
 */
function claimUnused(m: HeapMemory, ss: number): number {
  const w = ssWord(m, ss);
  if (load(m, w + S.LIVE) !== 1 || load(m, w + S.CURSOR) >= m.layout.pagesPerSS) return 0;
  fetchAdd(m, w + S.ACTIVE, 1);
  const slot = fetchAdd(m, w + S.CURSOR, 1);
  if (slot < m.layout.pagesPerSS) return ssFirstPage(m, ss) + slot;
  fetchAdd(m, w + S.ACTIVE, -1);
  return 0;
}

/** An EMPTY slot that last served any class: when no new memory is left, or before new memory (tinyFreshSlabLast). */
function takeAnyEmpty(m: HeapMemory, t: PoolThread, cls: number): number {
  lock(m, H.POOL_LOCK);
  try {
    for (let c = 0; c < MAX_TINY_CLASSES; c++) {
      const page = m.i32[H.CLASS_SLOTS + c];
      if (page === 0) continue;
      takeSlot(m, page);
      hit(t, "stage0_5_empty", "SP_ACQUIRE_STAGE0.5_EMPTY", page, cls);
      return page;
    }
    return 0;
  } finally {
    unlock(m, H.POOL_LOCK);
  }
}

/**
 * Returns every SuperSlab with no ACTIVE slot to the arena, also the last one and those with
 * never-used slots (after an out-of-memory, so the pages can serve another tier). Returns how many.
 */
export function releaseEmptySuperSlabs(m: HeapMemory, t: PoolThread): number {
  let released = 0;
  lock(m, H.POOL_LOCK);
  try {
    for (let ss = 0; ss < m.layout.superslabs; ss++) {
      const w = ssWord(m, ss);
      if (load(m, w + S.LIVE) !== 1 || load(m, w + S.ACTIVE) !== 0) continue;
      const cursor = exchange(m, w + S.CURSOR, m.layout.pagesPerSS); // no new claims from here on
      if (load(m, w + S.ACTIVE) !== 0) {
        store(m, w + S.CURSOR, cursor);
        continue;
      }
      const first = ssFirstPage(m, ss);
      for (let p = first; p < first + m.layout.pagesPerSS; p++) {
        if (m.i32[m.meta(p) + P.STATE] === SLOT_EMPTY) unlinkSlot(m, p);
      }
      for (let c = 0; c < t.hintSS.length; c++) if (t.hintSS[c] === ss) t.hintSS[c] = -1;
      hit(t, "superslab_completely_empty", "SP_SLOT_COMPLETELY_EMPTY", first, -1);
      destroySuperSlab(m, ss);
      released++;
    }
  } finally {
    unlock(m, H.POOL_LOCK);
  }
  return released;
}

/** An EMPTY slot of SuperSlab `ss` taken out of its list, or 0. Caller holds the pool lock. */
function takeEmptyIn(m: HeapMemory, ss: number): number {
  if (m.i32[ssWord(m, ss) + S.EMPTY] === 0) return 0;
  const first = ssFirstPage(m, ss);
  for (let page = first; page < first + m.layout.pagesPerSS; page++) {
    if (m.i32[m.meta(page) + P.STATE] === SLOT_EMPTY) {
      takeSlot(m, page);
      return page;
    }
  }
  return 0;
}

/** EMPTY -> ACTIVE, unlinked from its class list. Caller holds the pool lock. */
function takeSlot(m: HeapMemory, page: number): void {
  unlinkSlot(m, page);
  store(m, m.meta(page) + P.STATE, SLOT_ACTIVE);
  const w = ssWord(m, page >> (m.layout.ssShift - 16));
  m.i32[w + S.EMPTY]--;
  fetchAdd(m, w + S.ACTIVE, 1);
}

function unlinkSlot(m: HeapMemory, page: number): void {
  unlinkPage(m, H.CLASS_SLOTS + m.i32[m.meta(page) + P.CLASS], page);
}

/** Gives an empty slab's touched pages back: carving it again for any class touches them anew. */
function purgeSlab(m: HeapMemory, meta: number): void {
  addTouched(m, -m.i32[meta + P.TOUCHED]);
  m.i32[meta + P.TOUCHED] = 0;
}

/**
 * Gives an empty slab back: to the thread's L0 slot when that is free, else to the pool. Keeps the last SuperSlab of the heap mapped, so a program
 * that frees everything and starts again does not remap it (the seed's LRU cache, in its smallest form).
 */
export function releaseSlot(m: HeapMemory, t: PoolThread, page: number, allowL0 = true): void {
  if (allowL0 && t.l0Slab === 0) {
    t.l0Slab = page; // kept ACTIVE and owned: STAGE0_L0 hands it out again without touching the pool
    return;
  }
  const meta = m.meta(page);
  const cls = m.i32[meta + P.CLASS];
  store(m, meta + P.OWNER, 0);
  t.ownedSlabs.delete(page);
  lock(m, H.POOL_LOCK);
  try {
    store(m, meta + P.STATE, SLOT_EMPTY);
    if (m.config.tinyPurgeEmpty) purgeSlab(m, meta);
    hit(t, "slot_release", "SP_SLOT_RELEASE", page, cls);
    const ss = page >> (m.layout.ssShift - 16);
    const w = ssWord(m, ss);
    const active = fetchAdd(m, w + S.ACTIVE, -1) - 1;
    m.i32[w + S.EMPTY]++;
    // ACTIVE again after the cursor: a lock-free claim (claimUnused) raises ACTIVE before it takes its
    // slot, so one that took a slot before the cursor closed shows here, though not in `active`.
    if (active === 0 && load(m, H.SUPERSLABS) > 1 && load(m, w + S.CURSOR) >= m.layout.pagesPerSS && load(m, w + S.ACTIVE) === 0) {
      const first = ssFirstPage(m, ss);
      for (let p = first; p < first + m.layout.pagesPerSS; p++) {
        if (p !== page && m.i32[m.meta(p) + P.STATE] === SLOT_EMPTY) unlinkSlot(m, p);
      }
      for (let c = 0; c < t.hintSS.length; c++) if (t.hintSS[c] === ss) t.hintSS[c] = -1;
      hit(t, "superslab_completely_empty", "SP_SLOT_COMPLETELY_EMPTY", page, cls);
      destroySuperSlab(m, ss);
      return;
    }
    pushPage(m, H.CLASS_SLOTS + cls, page);
    hit(t, "slot_freelist", "SP_SLOT_FREELIST_LOCKFREE", page, cls);
  } finally {
    unlock(m, H.POOL_LOCK);
  }
}
