/*
 * malloc-large ITERS SEED: mimalloc-bench's large-block test as specified in
 * lib/bench/workloads/WORKLOADS.md: ITERS times a random one of 20 slots gets a new block of
 * 5..25 MiB, written whole, and its old block is freed; the last 20 are freed at the end. Prints one
 * JSON line (harness.h) with the peak resident growth (resident.h).
 */
#define HARNESS_NAME "malloc-large"
#define USAGE "usage: malloc-large ITERS SEED\n"
#include "harness.h"
#include "resident.h"
#include <string.h>

#define BUFFERS 20
#define MIN_SIZE (5u << 20)
#define MAX_SIZE (25u << 20)

static uint32_t x;
static uint32_t draw(void) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x >> 1;
}

int main(int argc, char **argv) {
    if (argc != 3) usage_error("takes 2 arguments (ITERS SEED)");
    uint64_t iters = parse_arg(argv[1], "ITERS", 1, 2147483647u);
    x = (uint32_t)parse_arg(argv[2], "SEED", 0, 4294967295u);
    if (x == 0) x = 1;
    char *slots[BUFFERS] = {0};
    uint64_t frees = 0, bytes = 0;
    uint32_t hash = 0;
    const long long baseline = resident_baseline();
    double start = now_seconds();
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t b = draw() % BUFFERS;
        uint32_t size = MIN_SIZE + draw() % (MAX_SIZE - MIN_SIZE + 1);
        char *p = malloc(size);
        if (!p) malloc_failed(size);
        /* A value the compiler cannot know: malloc + memset(0) may become calloc, which skips fresh pages. */
        memset(p, (int)(i & 255), size);
        if (slots[b]) {
            free(slots[b]);
            frees++;
        }
        slots[b] = p;
        bytes += size;
        hash = (hash * 31u + b) * 31u + size;
    }
    for (int s = 0; s < BUFFERS; s++) {
        if (slots[s]) {
            free(slots[s]);
            frees++;
        }
    }
    double seconds = now_seconds() - start;
    print_suite_result(iters, seconds, iters, frees, bytes, hash, 1, baseline);
    return 0;
}
