/*
 * glibc-simple ITERS SIZE: glibc's malloc micro-benchmark (bench-malloc-simple) as specified in
 * lib/bench/workloads/WORKLOADS.md: batches of 25, 100, 400 and 1600 blocks of one size, each
 * written whole, freed half in allocation order and half in reverse; at SIZE, 2 SIZE and 4 SIZE,
 * three passes each. Prints one JSON line (harness.h) with the peak resident growth (resident.h).
 */
#define HARNESS_NAME "glibc-simple"
#define USAGE "usage: glibc-simple ITERS SIZE\n"
#include "harness.h"
#include "resident.h"
#include <string.h>

static const uint64_t batches[4] = {25, 100, 400, 1600};

static uint64_t mallocs, bytes;
static uint32_t hash;

static void batch_rounds(char **arr, uint64_t rounds, uint64_t n, uint64_t size) {
    uint64_t half = n / 2;
    for (uint64_t j = 0; j < rounds; j++) {
        for (uint64_t i = 0; i < n; i++) {
            char *p = malloc(size);
            if (!p) malloc_failed(size);
            memset(p, (int)(j & 255), size);
            arr[i] = p;
            hash = hash * 31u + (uint32_t)size;
        }
        for (uint64_t i = 0; i < half; i++) free(arr[i]);
        for (uint64_t i = n; i-- > half;) free(arr[i]);
    }
    mallocs += rounds * n;
    bytes += rounds * n * size;
}

int main(int argc, char **argv) {
    if (argc != 3) usage_error("takes 2 arguments (ITERS SIZE)");
    uint64_t iters = parse_arg(argv[1], "ITERS", 1600, 4294967296ull);
    uint64_t size0 = parse_arg(argv[2], "SIZE", 1, 1u << 20);
    char *arr[1600];
    const long long baseline = resident_baseline();
    double start = now_seconds();
    for (int factor = 1; factor <= 4; factor *= 2)
        for (int pass = 0; pass < 3; pass++)
            for (int b = 0; b < 4; b++) batch_rounds(arr, iters / batches[b], batches[b], size0 * factor);
    double seconds = now_seconds() - start;
    print_suite_result(mallocs, seconds, mallocs, mallocs, bytes, hash, 1, baseline);
    return 0;
}
