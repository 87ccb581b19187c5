/*
 * Latency histograms bucketed exactly as hdr-histogram-js buckets them with the settings of
 * lib/bench/measures/latency.ts (lowest discernible value 1 ns, highest trackable 10^10 ns, 3
 * significant digits): 1024 sub-buckets per power of two, so every bucket spans less than 0.1% of
 * its values. The harness prints the non-empty buckets as [lowest equivalent value, count]; the
 * TypeScript side records them into an hdr-histogram-js histogram and takes its percentiles, so
 * native and TypeScript percentiles come from one implementation and agree to the bucket.
 */
#ifndef HDR_H
#define HDR_H

#include <stdint.h>

#define HDR_HIGHEST UINT64_C(10000000000)
/* log2 of half the sub-bucket count: 2 * 10^3 rounded up to a power of two is 2048 = 2^11. */
#define HDR_HALF_MAGNITUDE 10
#define HDR_HALF_COUNT (1u << HDR_HALF_MAGNITUDE)
/* Powers of two needed to reach HDR_HIGHEST: 2048 * 2^23 > 10^10. */
#define HDR_BUCKETS 24
#define HDR_COUNTS ((HDR_BUCKETS + 1) * HDR_HALF_COUNT)

/* Values above the trackable range are recorded as HDR_HIGHEST. */
static inline uint32_t hdr_index(uint64_t v) {
    if (v > HDR_HIGHEST) v = HDR_HIGHEST;
    int bucket = v ? 63 - __builtin_clzll(v) - HDR_HALF_MAGNITUDE : 0;
    if (bucket < 0) bucket = 0;
    uint32_t sub = (uint32_t)(v >> bucket);
    return (uint32_t)(bucket + 1) * HDR_HALF_COUNT + sub - HDR_HALF_COUNT;
}

/* The lowest value that falls into bucket `index`. */
static inline uint64_t hdr_value_at(uint32_t index) {
    int bucket = (int)(index / HDR_HALF_COUNT) - 1;
    uint64_t sub = index % HDR_HALF_COUNT + HDR_HALF_COUNT;
    if (bucket < 0) {
        sub -= HDR_HALF_COUNT;
        bucket = 0;
    }
    return sub << bucket;
}

#endif
