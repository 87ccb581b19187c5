/**
 * Lists of pages doubly linked through their metadata words P.NEXT and P.PREV, each headed by a word
 * of the buffer header: the shared pool's EMPTY-slot lists, the abandoned-slab lists and the list of
 * empty mid spans. A page is on one list at a time, and each list is edited only under its lock.
 */
import type { HeapMemory } from "./heap-memory";
import { P } from "./layout";

/** Puts `page` at the front of the list headed by header word `head`. */
export function pushPage(m: HeapMemory, head: number, page: number): void {
  const i32 = m.i32;
  const meta = m.meta(page);
  const first = i32[head];
  i32[meta + P.NEXT] = first;
  i32[meta + P.PREV] = 0;
  if (first !== 0) i32[m.meta(first) + P.PREV] = page;
  i32[head] = page;
}

/** Takes `page` off the list headed by header word `head`. */
export function unlinkPage(m: HeapMemory, head: number, page: number): void {
  const i32 = m.i32;
  const meta = m.meta(page);
  const next = i32[meta + P.NEXT];
  const prev = i32[meta + P.PREV];
  if (prev !== 0) i32[m.meta(prev) + P.NEXT] = next;
  else i32[head] = next;
  if (next !== 0) i32[m.meta(next) + P.PREV] = prev;
  i32[meta + P.NEXT] = 0;
  i32[meta + P.PREV] = 0;
}
