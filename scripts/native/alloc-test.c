/*
 * alloc-test THREADS ITERS ITEMS SEED: OLogN's allocator tester (mimalloc-bench alloc-test) as
 * specified in lib/bench/workloads/WORKLOADS.md: each thread fills half of ITEMS / THREADS slots,
 * then ITERS times picks a slot (80/20 biased) and frees its block or allocates one of 5..1024 bytes
 * (skewed small), written whole; at the end every block is freed. Prints one JSON line (harness.h)
 * with the peak resident growth (resident.h), its baseline taken once every thread's slot arrays are resident.
 */
#define HARNESS_NAME "alloc-test"
#define USAGE "usage: alloc-test THREADS ITERS ITEMS SEED\n"
#include "harness.h"
#include "resident.h"
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static const uint32_t chance[7] = {262144, 393216, 245760, 81920, 15360, 1536, 64};
static uint64_t iters, slots;
static uint32_t seed;
static atomic_int go, ready;

static inline uint32_t next(uint32_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x >> 1;
}

/* A volatile store per page makes calloc'd memory resident (a plain zero store to it may be dropped). */
static void touch_pages(void *p, size_t bytes) {
    for (size_t i = 0; i < bytes; i += 4096) ((volatile char *)p)[i] = 0;
}

static void *thread_main(void *arg) {
    fingerprint_t *r = arg;
    char **ptrs = calloc(slots, sizeof(char *));
    uint32_t *sizes = calloc(slots, sizeof(uint32_t));
    uint64_t starts[8] = {0};
    for (int k = 0; k < 6; k++) starts[k + 1] = starts[k] + slots * chance[6 - k] / 1000000;
    starts[7] = slots;
    uint32_t thresholds[6], sum = 0;
    for (int k = 0; k < 6; k++) thresholds[k] = (sum += chance[k]);
    uint32_t x = seed ? seed : 1;
    uint64_t mallocs = 0, frees = 0, bytes = 0;
    uint32_t hash = 0;
    /* The slot arrays are the harness's, not the workload's: resident before the baseline. */
    touch_pages(ptrs, slots * sizeof(char *));
    touch_pages(sizes, slots * sizeof(uint32_t));
    atomic_fetch_add_explicit(&ready, 1, memory_order_release);
    while (!atomic_load_explicit(&go, memory_order_acquire)) {
    }
#define TAKE(s)                                                                       \
    do {                                                                              \
        uint32_t base = (next(&x) & 127) + 1;                                         \
        uint32_t shift = (uint32_t)__builtin_ctz(base) + 2;                           \
        uint32_t size = (next(&x) & ((1u << shift) - 1)) + 1 + (1u << shift);         \
        char *p = malloc(size);                                                       \
        if (!p) malloc_failed(size);                                                  \
        memset(p, (int)(size & 255), size);                                           \
        ptrs[s] = p;                                                                  \
        sizes[s] = size;                                                              \
        mallocs++;                                                                    \
        bytes += size;                                                                \
        hash = hash * 31u + size;                                                     \
    } while (0)
#define RELEASE(s)                                                                               \
    do {                                                                                         \
        char *p = ptrs[s];                                                                       \
        uint32_t size = sizes[s];                                                                \
        char v = (char)(size & 255);                                                             \
        if (p[0] != v || p[size / 2] != v || p[size - 1] != v) {                                 \
            fprintf(stderr, HARNESS_NAME ": block in slot %" PRIu64 " was overwritten\n", (uint64_t)(s)); \
            exit(1);                                                                             \
        }                                                                                        \
        free(p);                                                                                 \
        sizes[s] = 0;                                                                            \
        frees++;                                                                                 \
    } while (0)
    for (uint64_t s = 0; s < slots; s++)
        if (next(&x) & 1) TAKE(s);
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t u = next(&x) % 1000000;
        int k = 6;
        for (int j = 0; j < 6; j++)
            if (u < thresholds[j]) {
                k = j;
                break;
            }
        uint64_t s = starts[k] + next(&x) % (starts[k + 1] - starts[k]);
        if (sizes[s]) RELEASE(s);
        else TAKE(s);
    }
    for (uint64_t s = 0; s < slots; s++)
        if (sizes[s]) RELEASE(s);
    free(ptrs);
    free(sizes);
    *r = (fingerprint_t){mallocs, frees, bytes, hash};
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) usage_error("takes 4 arguments (THREADS ITERS ITEMS SEED)");
    uint32_t threads = (uint32_t)parse_arg(argv[1], "THREADS", 1, 64);
    iters = parse_arg(argv[2], "ITERS", 1, 1ull << 40);
    uint64_t items = parse_arg(argv[3], "ITEMS", 16384, 1u << 24);
    seed = (uint32_t)parse_arg(argv[4], "SEED", 0, 4294967295u);
    slots = items / threads;
    if (slots < 16384) usage_error("ITEMS / THREADS must be at least 16384 slots");
    pthread_t tid[64];
    fingerprint_t res[64];
    for (uint32_t t = 0; t < threads; t++) pthread_create(&tid[t], NULL, thread_main, &res[t]);
    while (atomic_load_explicit(&ready, memory_order_acquire) < (int)threads) {
    }
    const long long baseline = resident_baseline();
    double start = now_seconds();
    atomic_store_explicit(&go, 1, memory_order_release);
    for (uint32_t t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    double seconds = now_seconds() - start;
    fingerprint_t sum = {0};
    for (uint32_t t = 0; t < threads; t++) add_fingerprint(&sum, &res[t]);
    print_suite_result(threads * iters, seconds, sum.mallocs, sum.frees, sum.bytes, sum.hash, threads, baseline);
    return 0;
}
