/**
 * The mid tier ("Pool TLS" in the seed): classes of 2 to 52 KiB with their own header `0xB0 | class`.
 * Each class grows by spans of whole pages holding at least 8 blocks; freed blocks go on the class's
 * freelist in the buffer (under the mid lock when the heap is shared) and are reused by that class.
 */
import type { HeapMemory } from "./heap-memory";
import { HeapError, fmtPtr } from "./errors";
import { CLASS_MASK, linkWord, MID_FREE, MID_LIVE } from "./header";
import { H, KIND_MID, P, PAGE, PAGE_SHIFT, TOUCH_SHIFT } from "./layout";
import { addTouched, allocPages } from "./page-arena";
import { MID_CLASSES } from "./size-classes";
import { lock, unlock } from "./sync";

const BLOCKS_PER_SPAN = 8;

/** Largest request the mid tier serves. */
export const MID_MAX_REQUEST = MID_CLASSES[MID_CLASSES.length - 1] - 1;

export function midClassOf(size: number): number {
  let cls = 0;
  while (size + 1 > MID_CLASSES[cls]) cls++;
  return cls;
}

/** A user pointer to a mid block for `size` bytes, or 0 when out of memory. */
export function midMalloc(m: HeapMemory, size: number): number {
  const cls = midClassOf(size);
  lock(m, H.MID_LOCK);
  try {
    let b = m.i32[H.MID_FREE + cls];
    if (b === 0) b = growClass(m, cls);
    if (b === 0) return 0;
    m.i32[H.MID_FREE + cls] = m.i32[linkWord(b)];
    m.u8[b] = MID_LIVE | cls;
    return b + 1;
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

/** Maps a new span for `cls` and threads its blocks onto the class freelist; returns the new head. */
function growClass(m: HeapMemory, cls: number): number {
  const size = MID_CLASSES[cls];
  const pages = Math.ceil((BLOCKS_PER_SPAN * size) / PAGE);
  const first = allocPages(m, pages);
  if (first === 0) return 0;
  for (let p = first; p < first + pages; p++) {
    const meta = m.meta(p);
    m.i32[meta + P.KIND] = KIND_MID;
    m.i32[meta + P.CLASS] = cls;
    m.i32[meta + P.SPAN] = first;
  }
  m.i32[m.meta(first) + P.TOUCHED] = (pages * PAGE) >> TOUCH_SHIFT;
  addTouched(m, (pages * PAGE) >> TOUCH_SHIFT);
  const base = first << PAGE_SHIFT;
  const count = Math.floor((pages * PAGE) / size);
  let head = 0;
  for (let k = count - 1; k >= 0; k--) {
    const b = base + k * size;
    m.u8[b] = MID_FREE | cls;
    m.i32[linkWord(b)] = head;
    head = b;
  }
  return head;
}

/** Checks that `ptr` is the user pointer of a mid block and returns its class. */
export function midClassOfPointer(m: HeapMemory, ptr: number): number {
  const b = ptr - 1;
  const cls = m.u8[b] & CLASS_MASK;
  const meta = m.meta(b >>> PAGE_SHIFT);
  const spanBase = m.i32[meta + P.SPAN] << PAGE_SHIFT;
  if (m.i32[meta + P.KIND] !== KIND_MID || m.i32[meta + P.CLASS] !== cls || (b - spanBase) % MID_CLASSES[cls] !== 0)
    throw new HeapError("INVALID_POINTER", `${fmtPtr(ptr)} has a mid-block header but is not the start of a mid block`, ptr);
  return cls;
}

export function midFree(m: HeapMemory, ptr: number): void {
  const cls = midClassOfPointer(m, ptr);
  const b = ptr - 1;
  lock(m, H.MID_LOCK);
  try {
    m.u8[b] = MID_FREE | cls;
    m.i32[linkWord(b)] = m.i32[H.MID_FREE + cls];
    m.i32[H.MID_FREE + cls] = b;
  } finally {
    unlock(m, H.MID_LOCK);
  }
}

export function midUsableSize(m: HeapMemory, ptr: number): number {
  return MID_CLASSES[midClassOfPointer(m, ptr)] - 1;
}
