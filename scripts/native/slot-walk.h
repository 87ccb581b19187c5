/*
 * The buffer walk of the SmartHeap benchmarks (sh6bench.c, sh8bench.c; lib/bench/workloads/slot-walk.ts):
 * new blocks go into the slots in turn, skipping a kept window; when the walk reaches the end it
 * wraps, keeps the next window of slots (after the last one, or from 0 once that one reached the
 * end) and frees every other block.
 */
#ifndef SLOT_WALK_H
#define SLOT_WALK_H

#include <stdint.h>
#include <stdlib.h>

/* The wrap's frees: every block outside the kept window [start, end) of `n` slots, the bottom in
   order, the top in reverse (the order the suite frees them in). Returns how many it freed. */
static inline uint64_t free_outside_window(void **slot, uint32_t n, uint32_t start, uint32_t end) {
    for (uint32_t i = 0; i < start; i++) free(slot[i]);
    for (uint32_t i = n; i > end;) free(slot[--i]);
    return (uint64_t)start + n - end;
}

#endif
