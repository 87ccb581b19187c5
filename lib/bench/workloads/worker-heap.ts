/**
 * What the threaded workloads' workers share: the hakmem heap under their allocator (a threaded run
 * is always on hakmem's shared heap), and a counting stand-in for an allocator, with which a
 * workload's loop computes its reference fingerprint without allocating.
 */
import type { Heap } from '../../alloc/heap';
import type { BenchAllocator, MallocFree } from '../adapters/allocator-adapter';

/** The shared hakmem heap a worker's allocator calls (ThreadContext.allocator's target). */
export function heapOf(a: BenchAllocator<number>): Heap {
  return a.target as Heap;
}

/** Distinct non-zero pointers, frees ignored: for loops run as a model. */
export function countingAllocator(): MallocFree<number> {
  let next = 0;
  return { malloc: () => ++next, free: () => {} };
}
