/**
 * The SuperSlab registry: a hash table from a SuperSlab's base to the SuperSlab, linear probing with
 * a bounded probe count. A slot holds `ssIndex + 1` (0 = empty, -1 = deleted). Written under the pool lock, read without locks. It is the route free takes
 * when it does not trust (or, in older phases, has no) block header: `hak_super_lookup(ptr)`.
 */
import type { HeapMemory } from "./heap-memory";
import { load, store } from "./sync";

const EMPTY = 0;
const TOMBSTONE = -1;

function slotOf(m: HeapMemory, ssIndex: number): number {
  // Fibonacci hashing spreads consecutive SuperSlab indices over the table.
  return (Math.imul(ssIndex + 1, 0x9e3779b1) >>> 0) & (m.config.registrySlots - 1);
}

/** Registers SuperSlab `ssIndex` (its base is `ssIndex << ssShift`). Caller holds the pool lock. */
export function registerSuperSlab(m: HeapMemory, ssIndex: number): boolean {
  const mask = m.config.registrySlots - 1;
  let slot = slotOf(m, ssIndex);
  for (let probe = 0; probe < m.config.registryProbes; probe++, slot = (slot + 1) & mask) {
    const key = m.registry + slot;
    const k = load(m, key);
    if (k === EMPTY || k === TOMBSTONE) {
      store(m, key, ssIndex + 1);
      return true;
    }
  }
  return false;
}

export function unregisterSuperSlab(m: HeapMemory, ssIndex: number): void {
  const key = findKey(m, ssIndex);
  if (key >= 0) store(m, key, TOMBSTONE);
}

function findKey(m: HeapMemory, ssIndex: number): number {
  const mask = m.config.registrySlots - 1;
  let slot = slotOf(m, ssIndex);
  for (let probe = 0; probe < m.config.registryProbes; probe++, slot = (slot + 1) & mask) {
    const key = m.registry + slot;
    const k = load(m, key);
    if (k === ssIndex + 1) return key;
    if (k === EMPTY) return -1;
  }
  return -1;
}

/** The SuperSlab index holding `ptr`, or -1 when `ptr` is in no registered SuperSlab. */
export function lookupSuperSlab(m: HeapMemory, ptr: number): number {
  const ssIndex = ptr >>> m.layout.ssShift;
  return findKey(m, ssIndex) >= 0 ? ssIndex : -1;
}
